"""A ledger entry: who did what to whose data, why, and what the policy said.

Entries carry identifiers, category names and reasons — never a customer's values —
and are stored as canonical JSON (UTF-8, keys sorted, no insignificant whitespace,
absent fields omitted), so the same entry always has the same bytes and the same
RFC 6962 leaf hash, and any JSON parser can read it back.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import orjson

from needtoknow.moments import utc_text

FORMAT = 1
KINDS = frozenset(
    {
        "read",  # a disclosure through Vault.get, allowed or denied
        "find",  # an exact-match lookup through Vault.find, allowed or denied
        "write",  # a new customer
        "correct",  # categories replaced
        "erase",  # crypto-shredded
        "key_rotation",
        "key_retirement",
        "policy_change",
        "agreement_change",  # an agreement created, amended or revoked
        "assignment",  # customers assigned to or removed from a customer-scoped agreement
        "disclosure",  # a legal disclosure request: requested, approved, rejected, released
        "notice",  # a notice to a customer became due (e.g. a non-disclosure order expired)
        "api_key",  # an API key created or revoked, or a known key refused (expired, revoked)
        "report",  # an aggregate report: budget charged, refused, or released; raw export
        "consent",  # a customer's consent to a purpose granted or withdrawn
        "account",  # an account closed or reopened, or its services changed
        "hold",  # a legal hold placed or released
        "retention",  # a retention run: what it held and erased, and why
        "instruction",  # a recipient told to erase its copy, or confirming it did
        "request",  # a customer's rights request opened, verified, fulfilled, escalated, closed
        "verification",  # a one-time code sent, refused or used; a lock-out
        "session",  # a customer signed in to the customer API, or was refused
        "nominee",  # a nominee recorded or revoked, or evidence that they may act
        "staff",  # a staff account added or disabled; a sign-in, refused or locked out
        "audit",  # the ledger verified: how far, against how many witnesses, whether it held
        "incident",  # an incident opened, scoped, notified or closed
        "backup",  # a copy of the database taken (its SHA-256 and the ledger's size in it)
        "restore",  # a backup restored, and what of the ledger after it was carried out again
    }
)


@dataclass(frozen=True)
class Entry:
    kind: str
    time: datetime
    actor: str
    customer_id: str | None = None
    recipient: str | None = None
    purpose: str | None = None
    legal_basis: str | None = None
    legal_reference: str | None = None
    case_id: str | None = None
    decision: str | None = None  # "allow" or "deny"
    categories: tuple[str, ...] = ()
    transforms: Mapping[str, str] = field(default_factory=dict)
    reasons: Mapping[str, str] = field(default_factory=dict)
    policy_version: str | None = None
    request_id: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    salt: str | None = None  # random, in each of a batch's entries about customers: salted()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown ledger entry kind {self.kind!r}")

    def for_each(self, customer_ids: Iterable[str]) -> list[Entry]:
        """This entry once per customer, each naming only its own customer: an operation on
        several customers (an assignment, a lookup that matched, a disclosure's scope)
        must not show one customer's history the ids of the others, and each copy still
        has a leaf of its own to prove. No customers: the entry itself, once."""
        entries = [replace(self, customer_id=cid) for cid in dict.fromkeys(customer_ids)]
        return entries or [self]

    def to_json(self) -> dict[str, Any]:
        """The entry as JSON data; absent (None or empty) fields are left out."""
        data: dict[str, Any] = {
            "v": FORMAT,
            "kind": self.kind,
            "time": utc_text(self.time, "microseconds"),
            "actor": self.actor,
        }
        for name in _SCALARS:
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        for name in _COLLECTIONS:
            value = getattr(self, name)
            if value:
                data[name] = list(value) if isinstance(value, tuple) else dict(value)
        return data

    def canonical(self) -> bytes:
        return canonical_json(self.to_json())


def salted(entries: list[Entry]) -> list[Entry]:
    """``entries`` as written together, each naming a customer given a random ``salt``
    when two or more do. Entries of one operation or batch (an operation on several
    customers, a batch of reads, an erasure run) share their time, request and decision:
    without a salt they would differ only in the customer id, and a customer shown a
    proof whose sibling is another's entry could confirm a guess of that customer's id
    by hashing their own entry with it."""
    if sum(entry.customer_id is not None for entry in entries) < 2:
        return entries
    hexed = secrets.token_bytes(16 * len(entries)).hex()
    return [
        _with_salt(entry, hexed[32 * n : 32 * n + 32]) if entry.customer_id is not None else entry
        for n, entry in enumerate(entries)
    ]


def _with_salt(entry: Entry, salt: str) -> Entry:
    """``replace(entry, salt=salt)`` without the constructor (a frozen dataclass's copy,
    its fields already checked): a batch of reads salts every entry, on the read path."""
    salted_entry = object.__new__(Entry)
    salted_entry.__dict__.update(entry.__dict__, salt=salt)
    return salted_entry


_SCALARS = (
    "customer_id",
    "recipient",
    "purpose",
    "legal_basis",
    "legal_reference",
    "case_id",
    "decision",
    "policy_version",
    "request_id",
    "salt",
)
_COLLECTIONS = ("categories", "transforms", "reasons", "detail")


def canonical_json(data: Mapping[str, Any]) -> bytes:
    """``json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
    as UTF-8: the definition. orjson gives the same bytes ten times faster for what
    entries hold (sorting UTF-8 keys bytewise is sorting by code point); for anything it
    treats differently (integers past 64 bits, keys that are not plain strings) it
    refuses, and the definition decides."""
    try:
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME)
    except TypeError:
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# Entries that record personal data leaving the vault when allowed: what a leaked key,
# a compromised recipient or a careless actor could have received (incident scopes).
RECEIPTS = frozenset({"read", "find"})


_EPOCH, _MICROSECOND = datetime(1970, 1, 1, tzinfo=UTC), timedelta(microseconds=1)


def microseconds(moment: datetime) -> int:
    """``moment`` as whole microseconds since the epoch (naive means UTC): the receipts
    index's time, exact where a float timestamp would round."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MICROSECOND


# The derived indexes' rows, as tuples in their tables' column order (the verifier
# compares them with the stored rows as they are read):
CustomerRow = tuple[int, str]  # (idx, customer_id): entry idx is about the customer
# (idx, party, at, customer_id, categories): ``party`` (``actor:…`` or ``recipient:…``)
# received ``categories`` (sorted, comma-joined) of the customer at ``at``
# (microseconds since the epoch, UTC)
ReceiptRow = tuple[int, str, int, str, str]
RECEIPT_COLUMNS = ("idx", "party", "at", "customer_id", "categories")


Indexed = tuple[list[CustomerRow], list[ReceiptRow]]  # entries' rows, in index order


def indexed(entries: Iterable[tuple[int, bytes]]) -> Indexed:
    """The index rows of entries given as (index, bytes); bytes that are not an entry (a
    tampered row) name nobody.

    The customer index lists every customer an entry is about (entries written before
    :meth:`Entry.for_each` may list several in ``customer_ids``). The receipts index
    has one row for the actor and one for the recipient of an allowed read or lookup of
    a customer: derived at seal and checked by verification, so a scope by time does
    not rely on entries being appended in time order. Both come from one parse, in one
    loop: verification derives them for every entry, and this is most of its time."""
    customers: list[CustomerRow] = []
    receipts: list[ReceiptRow] = []
    for index, data in entries:
        try:
            entry = _decode_indexed(data)
        except msgspec.DecodeError:  # not JSON, or not an object
            continue
        customer = entry.customer_id
        if entry.customer_ids is not None:
            listed = entry.customer_ids
            found = {c for c in listed if isinstance(c, str)} if isinstance(listed, list) else set()
            found.update([customer] if isinstance(customer, str) else [])
            customers += [(index, c) for c in sorted(found)]
        elif type(customer) is str:
            customers.append((index, customer))
        kind = entry.kind  # of any JSON type in a tampered entry: a list is unhashable
        if type(kind) is not str or kind not in RECEIPTS or entry.decision != "allow":
            continue
        if type(customer) is not str:
            continue
        try:
            at = microseconds(datetime.fromisoformat(entry.time))
        except (TypeError, ValueError):
            continue
        categories = _joined(entry.categories)
        if type(entry.actor) is str:  # "actor:…" sorts before "recipient:…"
            receipts.append((index, "actor:" + entry.actor, at, customer, categories))
        if type(entry.recipient) is str:
            receipts.append((index, "recipient:" + entry.recipient, at, customer, categories))
    return customers, receipts


class _IndexedFields(msgspec.Struct):
    """The fields the indexes are derived from, of any JSON type (a tampered entry may
    hold anything); the decoder skips the others without building them."""

    kind: Any = None
    decision: Any = None
    customer_id: Any = None
    customer_ids: Any = None
    time: Any = None
    actor: Any = None
    recipient: Any = None
    categories: Any = None


_decode_indexed = msgspec.json.Decoder(_IndexedFields).decode


def _joined(listed: object) -> str:
    """Category names sorted and comma-joined, anything but a name left out."""
    if not isinstance(listed, list):
        return ""
    try:
        return ",".join(sorted(listed))
    except TypeError:  # not all names: a tampered entry
        return ",".join(sorted(c for c in listed if isinstance(c, str)))
