"""Key-encryption keys (KEKs) and MAC keys, behind one small :class:`KeyProvider` interface.

The vault never sees a KEK: it hands a provider a data-encryption key (DEK) to wrap
or unwrap, and data to MAC for blind indexes and tokens. ``local`` keeps keys in a
0600 file; ``pkcs11`` (see :mod:`needtoknow.crypto.pkcs11`) keeps them in an HSM.
KEKs are versioned: rotation adds a version, retirement removes an old one.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import json
import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from needtoknow.crypto.hazmat import aead
from needtoknow.errors import KeyProviderError
from needtoknow.guards.private import write_private

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

    def sign(self, data: bytes) -> bytes:
        """Ed25519 signature by the ledger key (signed tree heads)."""
        ...

    def signing_public_key(self) -> bytes:
        """The ledger key's raw 32-byte Ed25519 public key, for outside verifiers."""
        ...

    def signing_keys(self) -> tuple[bytes, ...]:
        """Every public key the ledger has signed heads with, oldest first, the active one
        last: heads signed before a rotation stay verifiable."""
        ...

    def rotate_signing(self) -> Endorsement:
        """Make a new ledger signing key active; returns the old key's endorsement of it,
        made before the old private key is gone and kept with the new key until
        :meth:`forget_endorsement` (so a crash before the ledger holds it loses
        nothing: :meth:`pending_endorsement`)."""
        ...

    def pending_endorsement(self) -> Endorsement | None:
        """The last rotation's endorsement while the ledger may not hold it yet."""
        ...

    def forget_endorsement(self, endorsement: Endorsement) -> None:
        """The ledger holds ``endorsement`` (or it proved invalid): keep it no longer."""
        ...


@dataclass(frozen=True)
class Endorsement:
    """An outgoing ledger signing key's signature over its successor's public key."""

    old: bytes
    new: bytes
    signature: bytes

    def valid(self) -> bool:
        """Whether ``signature`` is ``old``'s over :func:`endorsement_bytes`."""
        try:
            Ed25519PublicKey.from_public_bytes(self.old).verify(
                self.signature, endorsement_bytes(self.old, self.new)
            )
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_json(self) -> dict[str, str]:
        return {"old": _b64(self.old), "new": _b64(self.new), "signature": _b64(self.signature)}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Endorsement:
        return cls(*(base64.b64decode(data[k]) for k in ("old", "new", "signature")))


def endorsement_bytes(old: bytes, new: bytes) -> bytes:
    """What an outgoing ledger signing key signs to vouch for its successor, so a witness
    that knows only the old public key can follow a rotation. Unlike a tree head's bytes
    (which start with a zero byte), a checkpoint note and a verification's statement,
    so no signature of one kind passes for another."""
    return b"needtoknow ledger key endorsement\n%s\n%s\n" % (old.hex().encode(), new.hex().encode())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


KEY_CHECK = b"ntk/key-check/v1\x00"  # apart from what else the index key MACs


def key_check(keys: KeyProvider) -> bytes:
    """What tells this provider's keys from another vault's without revealing any: the
    index key's HMAC of a fixed text (the KEKs sit beside it in the same file or token)."""
    return keys.mac("index", KEY_CHECK)


def retired(keys: KeyProvider, versions: Iterable[int]) -> set[int]:
    """Those of ``versions`` this provider held once and destroyed (:meth:`KeyProvider.retire`).
    Versions are numbered from 1, a rotation makes the next one active, and the active one
    cannot be retired: so a version below the active one that the provider lacks was
    retired here, and one above it was never held here (another vault's key file, or an
    older copy of this one) — which a restore must refuse, not take for destroyed."""
    held, active = set(keys.versions()), keys.active_version()
    return {v for v in versions if 1 <= v < active and v not in held}


class LocalKeyFile:
    """KEKs and MAC keys in one JSON file, the ledger signing key in another, each mode
    0600 and written atomically.

    Refuses to open a file that group or others can read, or that sits in a directory
    they can write (they could swap it): a key file anyone on the host can copy protects
    nothing. The signing key lives apart (``ledger-signing.json``) so that it can be
    kept, copied or rotated on its own: whoever holds only the KEK file cannot forge a
    tree head. Several processes may share the files: each re-reads them when they
    change, and rotation and retirement hold an exclusive lock on ``<file>.lock``.
    """

    name = "local"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int, int] | None = None
        self._keks: dict[int, bytes] = {}
        self._active = 0
        self._mac_keys: dict[str, bytes] = {}
        self._signing = SigningKeyFile(path.with_name(SIGNING_FILE))
        self._locked = False  # this object holds the key file's lock (see _exclusive)
        self._refresh()

    @staticmethod
    def _check_permissions(path: Path) -> os.stat_result:
        try:
            info = path.stat()
            folder = path.parent.stat()
        except FileNotFoundError:
            raise KeyProviderError(f"key file {path} does not exist; run 'ntk init'") from None
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyProviderError(
                f"key file {path} is readable by group or others "
                f"(mode {stat.S_IMODE(info.st_mode):o}); run 'chmod 600 {path}'"
            )
        if folder.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise KeyProviderError(
                f"key directory {path.parent} is writable by group or others; "
                f"run 'chmod 700 {path.parent}'"
            )
        return info

    def _refresh(self) -> None:
        """Re-read the file if another process changed it since we last read it."""
        info = self._check_permissions(self.path)
        stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
        if stamp == self._stamp:
            return
        try:
            data = json.loads(self.path.read_text("utf-8"))
            self._keks = {int(v): base64.b64decode(k) for v, k in data["keks"].items()}
            self._active = int(data["active"])
            self._mac_keys = {n: base64.b64decode(k) for n, k in data["mac_keys"].items()}
            kept_inside = data.get("ledger_signing")
        except (ValueError, KeyError, TypeError, AttributeError):
            raise KeyProviderError(f"key file {self.path} is corrupt") from None
        self._stamp = stamp
        if kept_inside is None:
            return
        # A vault made before the signing key moved out (or a keys.json restored from
        # then): move it, under the lock. Already holding it (a rotation that re-read
        # the file), adopt here; the lock holder's write drops it from keys.json.
        if self._locked:
            self._signing.adopt(base64.b64decode(kept_inside))
        else:
            with self._exclusive():
                pass  # _exclusive re-reads under the lock, which adopts

    @classmethod
    def create(cls, path: Path) -> LocalKeyFile:
        """Make a new key file with KEK version 1; refuses to overwrite one."""
        if path.exists():
            raise KeyProviderError(f"key file {path} already exists")
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        macs = {"index": os.urandom(32), "token": os.urandom(32)}
        SigningKeyFile(path.with_name(SIGNING_FILE)).adopt(
            Ed25519PrivateKey.generate().private_bytes_raw()
        )
        cls._write(path, {1: aead.new_key()}, 1, macs)
        return cls(path)

    @staticmethod
    def _write(path: Path, keks: dict[int, bytes], active: int, mac_keys: dict[str, bytes]) -> None:
        data = {
            "format": 1,
            "active": active,
            "keks": {str(v): _b64(k) for v, k in sorted(keks.items())},
            "mac_keys": {n: _b64(k) for n, k in mac_keys.items()},
        }
        write_private(path, json.dumps(data).encode())

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Hold the key file's lock, with the latest contents loaded."""
        lock = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._locked = True
            self._stamp = None  # re-read under the lock, whatever was read before it
            self._refresh()
            yield
            self._write(self.path, self._keks, self._active, self._mac_keys)
            self._refresh()
        finally:
            self._locked = False
            os.close(lock)

    def active_version(self) -> int:
        self._refresh()
        return self._active

    def versions(self) -> tuple[int, ...]:
        self._refresh()
        return tuple(sorted(self._keks))

    def _kek(self, version: int) -> bytes:
        if version not in self._keks:
            self._refresh()  # rotated by another process since we read the file?
        try:
            return self._keks[version]
        except KeyError:
            raise KeyProviderError(f"KEK version {version} is not available") from None

    def wrap(self, version: int, dek: bytes, associated_data: bytes) -> bytes:
        return aead.seal(self._kek(version), aead.new_nonce(), dek, associated_data)

    def unwrap(self, version: int, wrapped: bytes, associated_data: bytes) -> bytes:
        return aead.open_sealed(self._kek(version), wrapped, associated_data)

    def rotate(self) -> int:
        with self._exclusive():
            version = max(self._keks) + 1
            self._keks[version] = aead.new_key()
            self._active = version
        return version

    def retire(self, version: int) -> None:
        with self._exclusive():
            if version == self._active:
                raise KeyProviderError(f"KEK version {version} is active; rotate first")
            self._kek(version)
            del self._keks[version]

    def mac(self, key: MacKey, data: bytes) -> bytes:
        return hmac.new(self._mac_keys[key], data, hashlib.sha256).digest()

    def sign(self, data: bytes) -> bytes:
        return self._signing.sign(data)

    def signing_public_key(self) -> bytes:
        return self._signing.public_key()

    def signing_keys(self) -> tuple[bytes, ...]:
        return self._signing.known()

    def rotate_signing(self) -> Endorsement:
        with self._exclusive():
            return self._signing.rotate()

    def pending_endorsement(self) -> Endorsement | None:
        return self._signing.pending()

    def forget_endorsement(self, endorsement: Endorsement) -> None:
        with self._exclusive():
            self._signing.forget(endorsement)


SIGNING_FILE = "ledger-signing.json"


class SigningKeyFile:
    """The ledger's Ed25519 signing key, and the public keys it replaced, in a 0600 file
    of its own (written only under the key file's lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int, int] | None = None
        self._active: Ed25519PrivateKey | None = None
        self._retired: tuple[bytes, ...] = ()
        self._pending: Endorsement | None = None

    def _load(self) -> Ed25519PrivateKey:
        info = LocalKeyFile._check_permissions(self.path)
        stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
        if stamp != self._stamp or self._active is None:
            try:
                data = json.loads(self.path.read_text("utf-8"))
                self._active = Ed25519PrivateKey.from_private_bytes(
                    base64.b64decode(data["active"])
                )
                self._retired = tuple(base64.b64decode(k) for k in data["retired"])
                pending = data.get("pending_endorsement")
                self._pending = None if pending is None else Endorsement.from_json(pending)
            except (ValueError, KeyError, TypeError):
                raise KeyProviderError(f"signing key file {self.path} is corrupt") from None
            self._stamp = stamp
        return self._active

    def sign(self, data: bytes) -> bytes:
        return self._load().sign(data)

    def public_key(self) -> bytes:
        return self._load().public_key().public_bytes_raw()

    def known(self) -> tuple[bytes, ...]:
        active = self.public_key()  # loads the file first: the retired keys come with it
        return (*self._retired, active)

    def adopt(self, private: bytes) -> None:
        """Make ``private`` the active key: at creation, or when moving a key that an
        older vault kept inside keys.json out of it. Already moved: it must be a key
        this file knows (the same key, or one rotated out since), never one silently
        dropped."""
        key = Ed25519PrivateKey.from_private_bytes(private)
        if not self.path.exists():
            self._save(key, ())
        elif key.public_key().public_bytes_raw() not in self.known():
            raise KeyProviderError(
                f"keys.json holds a ledger signing key that {self.path.name} does not know; "
                "remove 'ledger_signing' from keys.json only after checking where it came from"
            )

    def rotate(self) -> Endorsement:
        """The new key and the old key's endorsement of it reach the disk in one atomic
        write, so no crash leaves a new key whose endorsement is lost."""
        old = self._load()
        new = Ed25519PrivateKey.generate()
        retiring, public = old.public_key().public_bytes_raw(), new.public_key().public_bytes_raw()
        endorsement = Endorsement(retiring, public, old.sign(endorsement_bytes(retiring, public)))
        self._save(new, (*self._retired, retiring), endorsement)
        return endorsement

    def pending(self) -> Endorsement | None:
        self._load()
        return self._pending

    def forget(self, endorsement: Endorsement) -> None:
        active = self._load()
        if self._pending == endorsement:
            self._save(active, self._retired, None)

    def _save(
        self,
        active: Ed25519PrivateKey,
        retired: tuple[bytes, ...],
        pending: Endorsement | None = None,
    ) -> None:
        data: dict[str, object] = {
            "format": 1,
            "active": _b64(active.private_bytes_raw()),
            "retired": [_b64(k) for k in retired],
        }
        if pending is not None:
            data["pending_endorsement"] = pending.to_json()
        write_private(self.path, json.dumps(data).encode())
        self._stamp = None
