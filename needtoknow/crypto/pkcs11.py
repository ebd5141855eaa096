"""KEKs and MAC keys inside a hardware security module, through PKCS#11.

Keys are generated in the HSM as sensitive, non-extractable token objects; the
vault only ever sends a DEK in to be wrapped (AES-256-GCM, CKM_AES_GCM) and gets
ciphertext back, so a stolen database plus a stolen host disk still lacks the
KEK. This is what UIDAI's Aadhaar Data Vault rules expect of anyone storing
Aadhaar numbers. Tested against SoftHSM2; any PKCS#11 v2.40 module should do.

Key labels: ``ntk-kek-<version>`` (AES-256), ``ntk-mac-<name>`` (HMAC-SHA256) and the
ledger's Ed25519 signing key pair ``ntk-ledger`` (then ``ntk-ledger-<n>`` after each
rotation; a replaced private key is destroyed, its public key kept for verifiers). Until
the ledger holds a rotation's endorsement, it is kept on the token as a data object
``ntk-ledger-endorsement-<n>`` (old public key, new public key, signature).
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any

from needtoknow.guards.extras import require

require("pkcs11")

# ruff: noqa: E402 - imported after the check of their extra
import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass
from pkcs11 import exceptions as pkcs11_errors
from pkcs11.mechanisms import GCMParams
from pkcs11.util.ec import encode_named_curve_parameters

from needtoknow.crypto.keys import Endorsement, MacKey, endorsement_bytes
from needtoknow.errors import IntegrityError, KeyProviderError

_NONCE_BYTES = 12
_KEK_LABEL = re.compile(r"ntk-kek-(\d+)")
# What a failed AES-GCM tag check looks like: SoftHSM2 reports GeneralError, the standard
# says EncryptedDataInvalid. Anything else (token removed, session lost) is the HSM's fault.
_AUTHENTICATION_FAILURES = (
    pkcs11_errors.EncryptedDataInvalid,
    pkcs11_errors.EncryptedDataLenRange,
    pkcs11_errors.GeneralError,
    pkcs11_errors.FunctionFailed,
)
_SIGNING_LABEL = re.compile(r"ntk-ledger(?:-(\d+))?")
_ENDORSEMENT_LABEL = "ntk-ledger-endorsement-{}"
_ED25519_OID = "1.3.101.112"
_KEK_USE = MechanismFlag.ENCRYPT | MechanismFlag.DECRYPT
_MAC_USE = MechanismFlag.SIGN | MechanismFlag.VERIFY
_PROTECTED = {Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.PRIVATE: True}
# python-pkcs11 initialises modules without the OS-locking flag, which makes SoftHSM2 skip
# its own locks, and releases the GIL during calls: concurrent calls on different sessions
# can corrupt memory. One process-wide lock serialises every call into the module.
_HSM_LOCK = threading.RLock()


class Pkcs11Keys:
    """A :class:`~needtoknow.crypto.keys.KeyProvider` backed by a PKCS#11 token."""

    name = "pkcs11"

    def __init__(self, module: str, token_label: str, pin: str, create: bool = False) -> None:
        with _HSM_LOCK:
            self._open(module, token_label, pin, create)

    def _open(self, module: str, token_label: str, pin: str, create: bool) -> None:
        try:
            token = pkcs11.lib(module).get_token(token_label=token_label)
            try:
                self._session = token.open(rw=True, user_pin=pin)
            except pkcs11_errors.UserAlreadyLoggedIn:
                # PKCS#11 logins are per application: another session of this process
                # already authenticated to this token, and new sessions share that login.
                self._session = token.open(rw=True)
        except (pkcs11_errors.PKCS11Error, RuntimeError, OSError) as exc:
            raise KeyProviderError(
                f"cannot open PKCS#11 token {token_label!r} with module {module}: "
                f"{type(exc).__name__}"
            ) from None
        self._keks = self._find_keks()
        if create:
            if self._keks:
                raise KeyProviderError(f"token {token_label!r} already holds needtoknow keys")
            self._generate_kek(1)
            for mac_name in ("index", "token"):
                self._generate(KeyType.GENERIC_SECRET, f"ntk-mac-{mac_name}", _MAC_USE)
            self._generate_signing_key()
        if not self._keks:
            raise KeyProviderError(f"token {token_label!r} holds no needtoknow KEK; run 'ntk init'")
        self._load_signing()
        self._macs: dict[str, Any] = {
            n: self._session.get_key(object_class=ObjectClass.SECRET_KEY, label=f"ntk-mac-{n}")
            for n in ("index", "token")
        }

    def _find_keks(self) -> dict[int, Any]:
        keks = {}
        for obj in self._session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY}):
            match = _KEK_LABEL.fullmatch(obj[Attribute.LABEL] or "")
            if match:
                keks[int(match.group(1))] = obj
        return keks

    def _generate(self, key_type: KeyType, label: str, use: MechanismFlag) -> Any:
        """A 256-bit secret key stored on the token, sensitive and never extractable."""
        return self._session.generate_key(
            key_type, 256, label=label, store=True, capabilities=use, template=_PROTECTED
        )

    def _signing_publics(self) -> dict[int, bytes]:
        """Generation → raw public key of every ledger signing key on the token."""
        found = {}
        for obj in self._session.get_objects({Attribute.CLASS: ObjectClass.PUBLIC_KEY}):
            match = _SIGNING_LABEL.fullmatch(obj[Attribute.LABEL] or "")
            if match:
                point = bytes(obj[Attribute.EC_POINT])
                # CKA_EC_POINT is DER: an OCTET STRING (0x04, length 32) around the raw key.
                raw = point[2:] if len(point) == 34 and point[:2] == b"\x04\x20" else point
                found[int(match.group(1) or 1)] = raw
        return found

    def _load_signing(self) -> None:
        """The newest generation signs (another process may have rotated since)."""
        self._publics = self._signing_publics()
        if not self._publics:
            raise KeyProviderError("the token holds no ledger signing key")
        generation = max(self._publics)
        self._signer: Any = self._session.get_key(
            object_class=ObjectClass.PRIVATE_KEY, label=_signing_label(generation)
        )
        self._public = self._publics[generation]

    def _generate_signing_key(self, generation: int = 1) -> None:
        """An Ed25519 key pair for signed tree heads; the private half never leaves the HSM."""
        parameters = self._session.create_domain_parameters(
            KeyType.EC_EDWARDS,
            {Attribute.EC_PARAMS: encode_named_curve_parameters(_ED25519_OID)},
            local=True,
        )
        parameters.generate_keypair(
            store=True,
            label=_signing_label(generation),
            mechanism=Mechanism.EC_EDWARDS_KEY_PAIR_GEN,
            private_template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False},
        )

    def _generate_kek(self, version: int) -> None:
        self._keks[version] = self._generate(KeyType.AES, f"ntk-kek-{version}", _KEK_USE)

    def _kek(self, version: int) -> Any:
        if version not in self._keks:
            with _HSM_LOCK:  # rotated by another process since we looked?
                self._keks = self._find_keks()
        try:
            return self._keks[version]
        except KeyError:
            raise KeyProviderError(f"KEK version {version} is not available") from None

    def active_version(self) -> int:
        """The newest KEK on the token, looked up afresh: another process may have rotated."""
        with _HSM_LOCK:
            self._keks = self._find_keks()
        if not self._keks:
            raise KeyProviderError("the token holds no needtoknow KEK")
        return max(self._keks)

    def versions(self) -> tuple[int, ...]:
        with _HSM_LOCK:
            self._keks = self._find_keks()
        return tuple(sorted(self._keks))

    def wrap(self, version: int, dek: bytes, associated_data: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        with _HSM_LOCK:
            sealed = self._kek(version).encrypt(
                dek,
                mechanism=Mechanism.AES_GCM,
                mechanism_param=GCMParams(nonce, associated_data, 128),
            )
        return nonce + bytes(sealed)

    def unwrap(self, version: int, wrapped: bytes, associated_data: bytes) -> bytes:
        kek = self._kek(version)
        if len(wrapped) < _NONCE_BYTES + 16:
            raise IntegrityError()
        try:
            with _HSM_LOCK:
                return bytes(
                    kek.decrypt(
                        wrapped[_NONCE_BYTES:],
                        mechanism=Mechanism.AES_GCM,
                        mechanism_param=GCMParams(wrapped[:_NONCE_BYTES], associated_data, 128),
                    )
                )
        except _AUTHENTICATION_FAILURES:
            raise IntegrityError() from None
        except pkcs11_errors.PKCS11Error as exc:
            raise KeyProviderError(f"HSM error while unwrapping: {type(exc).__name__}") from None

    def rotate(self) -> int:
        with _HSM_LOCK:
            self._keks = self._find_keks()
            version = max(self._keks) + 1
            self._generate_kek(version)
        return version

    def retire(self, version: int) -> None:
        if version == self.active_version():
            raise KeyProviderError(f"KEK version {version} is active; rotate first")
        kek = self._kek(version)
        with _HSM_LOCK:
            kek.destroy()
        del self._keks[version]

    def mac(self, key: MacKey, data: bytes) -> bytes:
        with _HSM_LOCK:
            return bytes(self._macs[key].sign(data, mechanism=Mechanism.SHA256_HMAC))

    def sign(self, data: bytes) -> bytes:
        with _HSM_LOCK:
            self._load_signing()
            try:
                return bytes(self._signer.sign(data, mechanism=Mechanism.EDDSA))
            except pkcs11_errors.PKCS11Error:  # destroyed by another process's rotation?
                self._load_signing()
                try:
                    return bytes(self._signer.sign(data, mechanism=Mechanism.EDDSA))
                except pkcs11_errors.PKCS11Error as exc:
                    raise KeyProviderError(
                        f"HSM error while signing a tree head: {type(exc).__name__}"
                    ) from None

    def signing_public_key(self) -> bytes:
        with _HSM_LOCK:
            self._load_signing()
            return self._public

    def signing_keys(self) -> tuple[bytes, ...]:
        with _HSM_LOCK:
            self._load_signing()
            return tuple(self._publics[g] for g in sorted(self._publics))

    def rotate_signing(self) -> Endorsement:
        """A new generation signs from now on, endorsed by the old one; then the old
        private key is destroyed, so nobody can sign as it again, and its public key
        stays for old heads. The endorsement is stored on the token before the old key
        is destroyed; a crash before that leaves the old private key, which
        :meth:`pending_endorsement` then uses to finish the job."""
        with _HSM_LOCK:
            self._load_signing()
            self._generate_signing_key(max(self._publics) + 1)
            endorsement = self._finish_rotation()
        assert endorsement is not None  # the old private key was there to sign
        return endorsement

    def pending_endorsement(self) -> Endorsement | None:
        with _HSM_LOCK:
            return self._finish_rotation()

    def forget_endorsement(self, endorsement: Endorsement) -> None:
        with _HSM_LOCK:
            for obj in self._endorsement_objects():
                if bytes(obj[Attribute.VALUE]) == _endorsement_value(endorsement):
                    obj.destroy()

    def _finish_rotation(self) -> Endorsement | None:
        """The endorsement of the active signing key still to be ledgered, if any: made
        now by an older private key still on the token (a rotation cut short before it
        was stored), which is then destroyed. Only the token's private objects count
        (a session without the PIN cannot make one), and only one that endorses the
        active key with a valid signature."""
        self._load_signing()
        newest = max(self._publics)
        for generation in sorted(self._publics, reverse=True)[1:]:
            try:
                key: Any = self._session.get_key(
                    object_class=ObjectClass.PRIVATE_KEY, label=_signing_label(generation)
                )
            except pkcs11_errors.NoSuchKey:
                continue  # destroyed, as it should be
            old = self._publics[generation]
            signature = bytes(
                key.sign(endorsement_bytes(old, self._public), mechanism=Mechanism.EDDSA)
            )
            self._session.create_object(
                {
                    Attribute.CLASS: ObjectClass.DATA,
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: True,
                    Attribute.LABEL: _ENDORSEMENT_LABEL.format(newest),
                    Attribute.VALUE: _endorsement_value(Endorsement(old, self._public, signature)),
                }
            )
            key.destroy()
        for obj in self._endorsement_objects():
            value = bytes(obj[Attribute.VALUE])
            found = Endorsement(value[:32], value[32:64], value[64:])
            if found.new == self._public and found.valid():
                return found
        return None

    def _endorsement_objects(self) -> list[Any]:
        template = {Attribute.CLASS: ObjectClass.DATA, Attribute.PRIVATE: True}
        return [
            obj
            for obj in self._session.get_objects(template)
            if (obj[Attribute.LABEL] or "").startswith(_ENDORSEMENT_LABEL.format(""))
        ]


def _endorsement_value(endorsement: Endorsement) -> bytes:
    return endorsement.old + endorsement.new + endorsement.signature


def _signing_label(generation: int) -> str:
    return "ntk-ledger" if generation == 1 else f"ntk-ledger-{generation}"
