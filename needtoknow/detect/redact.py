"""Take PII out of text: each finding replaced as its entity's operator says.

Operators, named as on the command line (``ENTITY=OPERATOR``):

- ``mask`` / ``mask:N`` — every letter and digit but the last N (default 4; never more
  than a third of them) becomes ``*``; separators stay, so ``4111 1111 1111 1234`` reads
  ``**** **** **** 1234``;
- ``label`` — the seed category, ``<EMAIL>``, ``<CARD_NUMBER>``;
- ``hash`` — ``<EMAIL:…>`` with 16 hex digits of a keyed HMAC of the value in one
  spelling (:func:`canonical_value`: ``+91 98765 43210`` and ``09876543210`` hash alike):
  the same value gives the same token across files and runs of one deployment (so
  records still join), and nothing without the vault's key can test a guess;
- ``encrypt`` — ``<ENC:…>``, AES-256-GCM under a key derived from the vault's key for
  this token alone (a fresh salt each time); :meth:`Redactor.reveal` turns it back;
- ``vault`` — ``<VAULT:record:category:tag>``: the value is stored in the vault as a record
  of its own (an *unattached* value, encrypted like any customer's) and only a reference
  stays in the text. :meth:`Redactor.resolve` turns references back into values for a
  recipient and purpose, each through the policy engine and the ledger, so a support
  agent may get back an e-mail address that an advertiser never will. Entities the vault
  cannot hold as a value of their own (bank accounts need their IFSC, dates of birth an
  ISO date…) fall back to ``label``;
- ``drop`` — nothing at all.

``hash`` and ``encrypt`` need the vault's :class:`~needtoknow.crypto.keys.KeyProvider`;
the key never leaves it (HMAC is computed by the provider, the HSM's included).
``vault`` needs the :class:`~needtoknow.vault.Vault` itself.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import phonenumbers

from needtoknow.crypto.hazmat import aead
from needtoknow.detect.entities import ENTITIES
from needtoknow.detect.scanner import Finding
from needtoknow.errors import IntegrityError, NeedToKnowError

if TYPE_CHECKING:
    from needtoknow.crypto.keys import KeyProvider
    from needtoknow.vault import Vault

Operator = Callable[[Finding, str], str]  # (finding, its text) -> replacement

OPERATORS = ("mask", "label", "hash", "encrypt", "vault", "drop")
_REFERENCE = re.compile(r"<VAULT:([0-9a-f-]{36}):([a-z_]+):([0-9a-f]{16})>")
_REFERENCE_DOMAIN = b"\x00detect-vault-reference\x00"


def _identity(kind: str) -> Callable[[str], Any]:
    return lambda v: {"type": kind, "number": re.sub(r"[\s-]", "", v).upper()}


def _digital(kind: str) -> Callable[[str], Any]:
    return lambda v: {"type": kind, "value": v.lstrip("@")}


# Entity → (vault category, the value as that category's validator takes it).
STORABLE: dict[str, tuple[str, Callable[[str], Any]]] = {
    "EMAIL_ADDRESS": ("email", str),
    "PHONE_NUMBER": ("telephone", str),
    "PERSON": ("name", str),
    "CREDIT_CARD": ("card_number", str),  # the vault keeps last four and network (RBI)
    "IN_AADHAAR": ("identity_number", _identity("aadhaar")),
    "IN_PAN": ("identity_number", _identity("pan")),
    "IN_PASSPORT": ("identity_number", _identity("passport")),
    "IN_VOTER": ("identity_number", _identity("voter_id")),
    "IN_GSTIN": ("identity_number", _identity("gstin")),
    "IN_VEHICLE_REGISTRATION": ("vehicle_registration", str),
    "IN_DRIVING_LICENCE": ("driving_licence", str),
    "IP_ADDRESS": ("digital_identity", _digital("ip")),
    "USERNAME": ("digital_identity", _digital("username")),
}
_HASH_DOMAIN = b"\x00detect-hash\x00"  # no recipient name starts with NUL: no token clash
_ENCRYPT_DOMAIN = b"\x00detect-encrypt\x00"
_SALT_BYTES = 16
_TOKEN = re.compile(r"<ENC:([A-Za-z0-9_-]+)>")


def _label(finding: Finding) -> str:
    return finding.category.upper()


def mask(keep: int = 4) -> Operator:
    def operator(finding: Finding, value: str) -> str:
        alnum = sum(ch.isalnum() for ch in value)
        # Keep at most a third of a value: "born in Pune" must not survive "mask:4".
        keep_here = min(keep, alnum // 3)
        out, seen = [], 0
        for ch in value:
            if ch.isalnum():
                seen += 1
                out.append(ch if seen > alnum - keep_here else "*")
            else:
                out.append(ch)
        return "".join(out)

    return operator


def label(finding: Finding, value: str) -> str:
    return f"<{_label(finding)}>"


def drop(finding: Finding, value: str) -> str:
    return ""


def canonical_value(entity: str, value: str) -> str:
    """One spelling per value, so a hash joins what people write differently: phones as
    E.164 (India by default), e-mails lower-cased, identifiers without spaces or hyphens
    and upper-cased; anything else as found."""
    if entity == "PHONE_NUMBER":
        try:
            number = phonenumbers.parse(value, "IN")
        except phonenumbers.NumberParseException:
            return value
        return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    if entity == "EMAIL_ADDRESS":
        return value.lower()
    if entity in _COMPACTED:
        return re.sub(r"[\s-]", "", value).upper()
    return value


_COMPACTED = frozenset(
    (
        "CREDIT_CARD",
        "IN_AADHAAR",
        "IN_AADHAAR_VID",
        "IN_PAN",
        "IN_GSTIN",
        "IN_PASSPORT",
        "IN_VOTER",
        "IN_VEHICLE_REGISTRATION",
        "IN_DRIVING_LICENCE",
        "IN_BANK_ACCOUNT",
        "IN_IFSC",
        "IMEI",
        "MAC_ADDRESS",
    )
)


class Redactor:
    """Applies an operator per entity (``operators``; ``default`` for the rest).
    ``entities`` are those an operator may be given for: ours, and the scanner's user
    recognizers' (``Scanner.entities``)."""

    def __init__(
        self,
        operators: Mapping[str, str] | None = None,
        default: str = "label",
        keys: KeyProvider | None = None,
        vault: Vault | None = None,
        entities: Collection[str] = frozenset(ENTITIES),
    ) -> None:
        self._vault = vault
        self._keys = keys if keys is not None or vault is None else vault.keys
        unknown = set(operators or {}) - set(entities)
        if unknown:
            raise ValueError(f"unknown entity types: {', '.join(sorted(unknown))}")
        self._default = self._operator(default)
        self._operators = {e: self._operator(spec) for e, spec in (operators or {}).items()}

    def _operator(self, spec: str) -> Operator:
        name, _, argument = spec.partition(":")
        if name == "mask":
            if argument and not argument.isdigit():
                raise ValueError(f"mask keeps a whole number of characters, not {argument!r}")
            return mask(int(argument or 4))
        if argument or name not in OPERATORS:
            raise ValueError(f"unknown operator {spec!r}: one of {', '.join(OPERATORS)}")
        if name in ("hash", "encrypt") and self._keys is None:
            raise ValueError(f"the {name} operator needs the vault's keys")
        if name == "vault" and self._vault is None:
            raise ValueError("the vault operator needs the vault")
        return {
            "label": label,
            "drop": drop,
            "hash": self._hash,
            "encrypt": self._encrypt,
            "vault": self._store,
        }[name]

    def _store(self, finding: Finding, value: str) -> str:
        assert self._vault is not None
        if finding.entity not in STORABLE:
            return label(finding, value)
        category, shape = STORABLE[finding.entity]
        try:
            stored = self._vault.add({category: shape(value)})
        except NeedToKnowError:  # the vault's validator refuses what the scanner found
            return label(finding, value)
        tag = self._reference_tag(stored.customer_id, category)
        return f"<VAULT:{stored.customer_id}:{category}:{tag}>"

    def _reference_tag(self, record: str, category: str) -> str:
        """A MAC over the reference: only references this deployment wrote resolve, so
        a text cannot name a customer of its author's choosing."""
        assert self._keys is not None
        data = _REFERENCE_DOMAIN + record.encode() + b"\x00" + category.encode()
        return self._keys.mac("token", data)[:8].hex()

    def resolve(self, text: str, recipient: str, purpose: str) -> str:
        """``text`` with each ``vault`` reference replaced by what ``recipient`` may see
        of it for ``purpose`` (each a policy-checked, ledgered read); a reference the
        policy refuses stays as it is."""
        if self._vault is None:
            raise ValueError("resolving needs the vault")
        vault = self._vault

        def one(match: re.Match[str]) -> str:
            record, category, tag = match.groups()
            if not hmac.compare_digest(tag, self._reference_tag(record, category)):
                return match.group()
            try:
                shown = vault.get(
                    record, recipient=recipient, purpose=purpose, categories=[category]
                ).values[category]
            except NeedToKnowError:
                return match.group()
            return shown if isinstance(shown, str) else json.dumps(shown, ensure_ascii=False)

        return _REFERENCE.sub(one, text)

    def _hash(self, finding: Finding, value: str) -> str:
        assert self._keys is not None
        canonical = canonical_value(finding.entity, value)
        data = _HASH_DOMAIN + finding.entity.encode() + b"\x00" + canonical.encode()
        return f"<{_label(finding)}:{self._keys.mac('token', data)[:8].hex()}>"

    def _encrypt(self, finding: Finding, value: str) -> str:
        assert self._keys is not None
        salt = os.urandom(_SALT_BYTES)
        key = self._keys.mac("token", _ENCRYPT_DOMAIN + salt)
        sealed = aead.seal(key, aead.new_nonce(), value.encode(), finding.entity.encode())
        token = base64.urlsafe_b64encode(salt + finding.entity.encode() + b"\x00" + sealed)
        return f"<ENC:{token.decode().rstrip('=')}>"

    def reveal(self, text: str) -> str:
        """``text`` with every ``encrypt`` token turned back into its value; a token
        that was altered, or made under another deployment's key, is an IntegrityError."""
        if self._keys is None:
            raise ValueError("revealing needs the vault's keys")
        keys = self._keys

        def one(match: re.Match[str]) -> str:
            raw = match.group(1)
            try:
                blob = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
            except ValueError:
                raise IntegrityError() from None
            salt, rest = blob[:_SALT_BYTES], blob[_SALT_BYTES:]
            entity, _, sealed = rest.partition(b"\x00")
            key = keys.mac("token", _ENCRYPT_DOMAIN + salt)
            return aead.open_sealed(key, sealed, entity).decode()

        return _TOKEN.sub(one, text)

    def redact(self, text: str, findings: Iterable[Finding]) -> str:
        """``text`` with each finding (in order, not overlapping) replaced."""
        out, at = [], 0
        for finding in findings:
            operator = self._operators.get(finding.entity, self._default)
            out.append(text[at : finding.start])
            out.append(operator(finding, text[finding.start : finding.end]))
            at = finding.end
        out.append(text[at:])
        return "".join(out)
