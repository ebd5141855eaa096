"""Usage events: what a customer did (page viewed, link or ad clicked, search, plan), never
who — a pseudonymous subject key stands in for the customer.

The key is an HMAC of the customer id under a key derived, per period (a month), from
the vault's own MAC key: the same customer is one subject within a month and unlinkable
across months, and only the vault's key provider can compute it (the mapping never
leaves the vault). Free-text fields pass through the PII scanner on the way in: a search
for an e-mail address or a phone number is stored with it replaced by its label, and
the ingest report counts what was taken out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from needtoknow.detect import Scanner
from needtoknow.detect.redact import Redactor
from needtoknow.errors import ValidationError

if TYPE_CHECKING:
    from needtoknow.crypto.keys import KeyProvider

KINDS = ("page_view", "link_click", "ad_click", "search", "plan_subscribed")
DIMENSIONS = ("page", "link", "ad", "search", "plan", "region")
# The dimension each kind must carry (others may be present: a click's page).
REQUIRED = {
    "page_view": "page",
    "link_click": "link",
    "ad_click": "ad",
    "search": "search",
    "plan_subscribed": "plan",
}
MAX_FIELD = 500
MAX_VALUE = 10**9  # ``value``: a non-negative integer measure (seconds on a page, ₹ of a plan)
_SUBJECT_DOMAIN = b"\x00analytics-subject\x00"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # no tabs or newlines inside a dimension either
_SURROGATE = re.compile("[\ud800-\udfff]")  # JSON's "\ud800" parses to one; not Unicode text


@dataclass
class IngestReport:
    accepted: int = 0
    rejected: int = 0
    redacted: Counter[str] = field(default_factory=Counter)  # entity → values taken out
    reasons: Counter[str] = field(default_factory=Counter)  # rule → events rejected

    def to_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "rejected": self.rejected,
            "redacted": dict(self.redacted),
            "rejected_because": dict(self.reasons),
        }


def period(day: date) -> str:
    """The pseudonym period a day falls in: its month."""
    return f"{day.year:04d}-{day.month:02d}"


def subject_key(keys: KeyProvider, customer_id: str, day: date) -> str:
    """The customer's pseudonym for ``day``'s period (64 bits, hex)."""
    data = _SUBJECT_DOMAIN + period(day).encode() + b"\x00" + customer_id.encode()
    return keys.mac("token", data)[:8].hex()


class Normaliser:
    """Turns a raw event into a stored row, or raises ValidationError naming the rule."""

    def __init__(
        self,
        keys: KeyProvider,
        scanner: Scanner | None = None,
        consented: Callable[[str], frozenset[str]] | None = None,
        minor: Callable[[str], bool] | None = None,
    ) -> None:
        self._keys = keys
        self._scanner = scanner or Scanner()
        self._redactor = Redactor()
        self._consented = consented
        self._minor = minor

    def __call__(self, raw: Mapping[str, Any], report: IngestReport) -> dict[str, Any]:
        kind = raw.get("kind")
        if kind not in KINDS:
            raise ValidationError("kind", "event", "kind", "one of " + ", ".join(KINDS))
        try:
            day = date.fromisoformat(str(raw.get("day", "")))
        except ValueError:
            raise ValidationError("day", "event", "iso_date", "YYYY-MM-DD") from None
        customer = raw.get("customer_id")
        if (
            not isinstance(customer, str)
            or not 0 < len(customer) <= 36
            or not customer.isprintable()
        ):
            raise ValidationError(
                "customer_id", "event", "customer_id", "1-36 printable characters"
            )
        unknown = set(raw) - {"kind", "day", "customer_id", "value", *DIMENSIONS}
        if unknown:
            raise ValidationError(sorted(unknown)[0], "event", "unknown_field")
        if self._minor is not None and self._minor(customer):
            # a child's usage is neither kept nor reported to anyone (DPDP Act s.9(3))
            raise ValidationError("customer_id", "event", "child")
        row: dict[str, Any] = {
            "kind": kind,
            "day": day,
            "subject": subject_key(self._keys, customer, day),
            "value": _value(raw.get("value")),
            "consented": sorted(self._consented(customer)) if self._consented else [],
        }
        for name in DIMENSIONS:
            value = raw.get(name)
            if value is None or value == "":
                row[name] = None
                continue
            if not isinstance(value, str) or len(value) > MAX_FIELD:
                raise ValidationError(name, "event", "text", f"a string of at most {MAX_FIELD}")
            if _CONTROL.search(value):
                raise ValidationError(name, "event", "control_character")
            if _SURROGATE.search(value):
                raise ValidationError(name, "event", "not_unicode", "no lone surrogates")
            row[name] = self._clean(value, name, report)
        if row[REQUIRED[kind]] is None:
            raise ValidationError(REQUIRED[kind], "event", "required", f"a {kind} needs it")
        return row

    def _clean(self, value: str, name: str, report: IngestReport) -> str:
        found = self._scanner.scan(value, name)
        if not found:
            return value
        report.redacted.update(f.entity for f in found)
        return self._redactor.redact(value, found)


def _value(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)  # CSV cells arrive as text ("²" is a digit to isdigit, not int)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_VALUE:
        raise ValidationError("value", "event", "value", f"an integer in [0, {MAX_VALUE}]")
    return int(value)
