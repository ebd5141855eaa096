"""Key-encryption keys (KEKs) and MAC keys, behind one small :class:`KeyProvider` interface.

The vault never sees a KEK: it hands a provider a data-encryption key (DEK) to wrap
or unwrap, and data to MAC for blind indexes and tokens. ``local`` keeps keys in a
0600 file; ``pkcs11`` (see :mod:`needtoknow.vault.pkcs11`) keeps them in an HSM.
KEKs are versioned: rotation adds a version, retirement removes an old one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
from pathlib import Path
from typing import Literal, Protocol

from needtoknow.errors import KeyProviderError
from needtoknow.hazmat import aead

MacKey = Literal["index", "token"]


class KeyProvider(Protocol):
    """Where KEKs live. Implementations must fail with KeyProviderError or IntegrityError."""

    name: str

    def active_version(self) -> int:
        """The KEK version new DEKs are wrapped with."""
        ...

    def versions(self) -> tuple[int, ...]:
        """Every KEK version that can still unwrap."""
        ...

    def wrap(self, version: int, dek: bytes, associated_data: bytes) -> bytes: ...

    def unwrap(self, version: int, wrapped: bytes, associated_data: bytes) -> bytes: ...

    def rotate(self) -> int:
        """Create a new KEK version, make it active, return it."""
        ...

    def retire(self, version: int) -> None:
        """Destroy an old KEK version; whatever only it wrapped becomes unreadable."""
        ...

    def mac(self, key: MacKey, data: bytes) -> bytes:
        """HMAC-SHA256 under a key kept apart from the KEKs (blind indexes, tokens)."""
        ...


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class LocalKeyFile:
    """Keys in one JSON file, mode 0600, written atomically.

    Refuses to open a file that group or others can read: a key file anyone on the
    host can copy protects nothing.
    """

    name = "local"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._check_permissions(path)
        try:
            data = json.loads(path.read_text("utf-8"))
            self._keks = {int(v): base64.b64decode(k) for v, k in data["keks"].items()}
            self._active = int(data["active"])
            self._mac_keys = {n: base64.b64decode(k) for n, k in data["mac_keys"].items()}
        except (ValueError, KeyError, TypeError):
            raise KeyProviderError(f"key file {path} is corrupt") from None

    @staticmethod
    def _check_permissions(path: Path) -> None:
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise KeyProviderError(f"key file {path} does not exist; run 'ntk init'") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyProviderError(
                f"key file {path} is readable by group or others (mode {stat.S_IMODE(mode):o}); "
                f"run 'chmod 600 {path}'"
            )

    @classmethod
    def create(cls, path: Path) -> LocalKeyFile:
        """Make a new key file with KEK version 1; refuses to overwrite one."""
        if path.exists():
            raise KeyProviderError(f"key file {path} already exists")
        path.parent.mkdir(parents=True, exist_ok=True)
        cls._write(path, {1: aead.new_key()}, 1, {"index": os.urandom(32), "token": os.urandom(32)})
        return cls(path)

    @staticmethod
    def _write(path: Path, keks: dict[int, bytes], active: int, mac_keys: dict[str, bytes]) -> None:
        data = {
            "format": 1,
            "active": active,
            "keks": {str(v): _b64(k) for v, k in sorted(keks.items())},
            "mac_keys": {n: _b64(k) for n, k in mac_keys.items()},
        }
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def _save(self) -> None:
        self._write(self.path, self._keks, self._active, self._mac_keys)

    def active_version(self) -> int:
        return self._active

    def versions(self) -> tuple[int, ...]:
        return tuple(sorted(self._keks))

    def _kek(self, version: int) -> bytes:
        try:
            return self._keks[version]
        except KeyError:
            raise KeyProviderError(f"KEK version {version} is not available") from None

    def wrap(self, version: int, dek: bytes, associated_data: bytes) -> bytes:
        return aead.seal(self._kek(version), aead.new_nonce(), dek, associated_data)

    def unwrap(self, version: int, wrapped: bytes, associated_data: bytes) -> bytes:
        return aead.open_sealed(self._kek(version), wrapped, associated_data)

    def rotate(self) -> int:
        version = max(self._keks) + 1
        self._keks[version] = aead.new_key()
        self._active = version
        self._save()
        return version

    def retire(self, version: int) -> None:
        if version == self._active:
            raise KeyProviderError(f"KEK version {version} is active; rotate first")
        self._kek(version)
        del self._keks[version]
        self._save()

    def mac(self, key: MacKey, data: bytes) -> bytes:
        return hmac.new(self._mac_keys[key], data, hashlib.sha256).digest()
