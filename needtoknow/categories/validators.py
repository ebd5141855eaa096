"""Validators: turn what a caller sent into the one normal form the vault stores.

Each validator takes the raw value, the field path it came from and a
:class:`Rules` (today's date, the card-storage switch, size limits) and returns a
:class:`Normalised` value, or raises :class:`~needtoknow.errors.ValidationError`
naming the field, category and rule. Error messages never repeat the value.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from needtoknow.categories import identifiers, india
from needtoknow.errors import ValidationError

JSON = Any


@dataclass(frozen=True)
class Rules:
    """What validation depends on besides the value; time is a parameter, never a clock read."""

    today: date
    store_full_card_numbers: bool = False
    max_photo_bytes: int = 5 * 1024 * 1024
    default_phone_region: str = "IN"


@dataclass(frozen=True)
class Normalised:
    """A value in normal form, the exact-match terms to blind-index, and notices for the caller."""

    value: JSON
    index_terms: tuple[str, ...] = ()
    notices: tuple[str, ...] = field(default=())


Validator = Callable[[JSON, str, str, Rules], Normalised]


def _fail(path: str, category: str, rule: str, detail: str = "") -> ValidationError:
    return ValidationError(path, category, rule, detail)


def _string(value: JSON, path: str, category: str, max_length: int = 500) -> str:
    if not isinstance(value, str):
        raise _fail(path, category, "type", "expected a string")
    text = " ".join(value.split())
    if not text:
        raise _fail(path, category, "empty")
    if len(text) > max_length:
        raise _fail(path, category, "length", f"at most {max_length} characters")
    bad = _UNWRITABLE.search(text)
    if bad is not None:
        if bad.group() < " ":
            raise _fail(path, category, "control_characters")
        raise _fail(path, category, "unicode", "lone surrogate")  # JSON's "\ud800"
    return text


# Control characters, and lone surrogates (no character at all): one scan, not two.
_UNWRITABLE = re.compile("[\x00-\x1f\ud800-\udfff]")
_SPACES_AND_HYPHENS = re.compile(r"[\s-]")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PIN = re.compile(r"[1-9]\d{5}")
_ACCOUNT = re.compile(r"\d{9,18}")
_USERNAME = re.compile(r"[A-Za-z0-9._@+-]{1,64}")
_DEVICE_ID = re.compile(r"[\x21-\x7e]{4,128}")


def _given(raw: Mapping[str, Any], key: str) -> bool:
    """Whether an optional key carries a value (absent, null and "" do not); any other
    value, of whatever type, is then validated rather than silently dropped."""
    value = raw.get(key)
    return value is not None and not (isinstance(value, str) and value == "")


def _compact(value: JSON, path: str, category: str) -> str:
    """Upper-case with spaces and hyphens removed: how Indian ids are written in forms."""
    return _SPACES_AND_HYPHENS.sub("", _string(value, path, category, 64)).upper()


def _mapping(
    value: JSON, path: str, category: str, required: set[str], shape: str = ""
) -> Mapping[str, Any]:
    """An object with ``required`` keys; ``shape`` says what else is accepted."""
    if not isinstance(value, Mapping):
        keys = ", ".join(sorted(required))
        raise _fail(path, category, "type", f"expected an object with {keys}{shape}")
    missing = sorted(required - value.keys())
    if missing:
        raise _fail(path, category, "missing_keys", ", ".join(missing))
    return value


def _items(value: JSON, path: str, category: str) -> list[tuple[str, Any]]:
    """Accept one typed entry or a list of them; yield (path, entry)."""
    entries = value if isinstance(value, list) else [value]
    if not entries:
        raise _fail(path, category, "empty")
    return [(f"{path}[{i}]", entry) for i, entry in enumerate(entries)]


def text(value: JSON, path: str, category: str, rules: Rules) -> Normalised:
    return Normalised(_string(value, path, category))


def long_text(value: JSON, path: str, category: str, rules: Rules) -> Normalised:
    return Normalised(_string(value, path, category, 20_000))


def iso_date(value: JSON, path: str, category: str, rules: Rules) -> Normalised:
    raw = _string(value, path, category, 10)
    if not _ISO_DATE.fullmatch(raw):
        raise _fail(path, category, "iso_format", "expected YYYY-MM-DD")
    try:
        parsed = date.fromisoformat(raw)
    except ValueError:
        raise _fail(path, category, "calendar_date") from None
    if parsed > rules.today:
        raise _fail(path, category, "future_date")
    if parsed.year < 1900:
        raise _fail(path, category, "before_1900")
    return Normalised(parsed.isoformat())


# phonenumbers, email-validator and filetype are imported by the validators that use them:
# a command that only reads (``ntk customer get``) never pays for their metadata tables.


def telephone(value: JSON, path: str, category: str, rules: Rules) -> Normalised:
    import phonenumbers

    raw = _string(value, path, category, 40)
    try:
        number = phonenumbers.parse(raw, rules.default_phone_region)
    except phonenumbers.NumberParseException:
        raise _fail(path, category, "unparseable") from None
    if not phonenumbers.is_valid_number(number):
        raise _fail(path, category, "invalid_number")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Normalised(e164, (e164,))


def email(value: JSON, path: str, category: str, rules: Rules) -> Normalised:
    import email_validator

    raw = _string(value, path, category, 320)
    if "<" in raw:  # "Asha Verma <asha@example.in>": the address alone is kept
        from email.utils import parseaddr

        raw = parseaddr(raw)[1] or raw
    try:
        valid = email_validator.validate_email(raw, check_deliverability=False)
    except email_validator.EmailNotValidError:
        raise _fail(path, category, "rfc5322_syntax") from None
    normal = valid.normalized
    return Normalised(normal, (normal.lower(),))


_ADDRESS_SHAPE = " (state, line2, country optional), or a one-line address"
_PIN_IN_LINE = re.compile(r"(?<!\d)([1-9]\d{2})\s?(\d{3})(?!\d)")


def one_line_address(text: str, path: str, category: str) -> dict[str, str]:
    """``"Flat 4B, 17 MG Road, Pune, Maharashtra 411001"`` as an address object: the last
    six-digit PIN, then from the end a state (if one is named), the city, and the street
    (its first part is line1, any others line2). What cannot be found is named."""
    pins = list(_PIN_IN_LINE.finditer(text))
    missing = [] if pins else ["a six-digit PIN"]
    rest = text[: pins[-1].start()] + text[pins[-1].end() :] if pins else text
    parts = [p.strip(" -.") for p in rest.split(",")]
    parts = [p for p in parts if p]
    state = ""
    if parts and parts[-1].lower() in india.STATES:
        state = parts.pop()
    elif parts:  # "Pune Maharashtra": a state written after the city without a comma
        for name in sorted(india.STATES, key=len, reverse=True):
            if parts[-1].lower().endswith(" " + name):
                state = parts[-1][-len(name) :]
                parts[-1] = parts[-1][: -len(name)].strip()
                break
    if len(parts) < 2:
        missing.insert(0, "a street and a city, separated by a comma")
    if missing:
        raise _fail(path, category, "one_line_address", "missing " + "; ".join(missing))
    out = {"line1": parts[0], "city": parts[-1], "pin": "".join(pins[-1].groups())}
    if len(parts) > 2:
        out["line2"] = ", ".join(parts[1:-1])
    if state:
        out["state"] = state
    return out


def address(value: JSON, path: str, category: str, rules: Rules) -> Normalised:
    if isinstance(value, str):
        value = one_line_address(_string(value, path, category), path, category)
    raw = _mapping(value, path, category, {"line1", "city", "pin"}, _ADDRESS_SHAPE)
    country = _string(raw.get("country", "IN"), f"{path}.country", category, 2).upper()
    out: dict[str, str] = {"line1": _string(raw["line1"], f"{path}.line1", category)}
    if _given(raw, "line2"):
        out["line2"] = _string(raw["line2"], f"{path}.line2", category)
    out["city"] = _string(raw["city"], f"{path}.city", category, 100)
    if _given(raw, "state"):
        out["state"] = _string(raw["state"], f"{path}.state", category, 100)
    pin = _compact(raw["pin"], f"{path}.pin", category)
    if country == "IN":
        if not _PIN.fullmatch(pin):
            raise _fail(f"{path}.pin", category, "pin_format", "six digits, not starting with 0")
        state = out.get("state", "").lower()
        if state:
            if state not in india.STATES:
                raise _fail(f"{path}.state", category, "unknown_state")
            if state not in india.PIN_ZONES[pin[0]]:
                raise _fail(f"{path}.pin", category, "pin_state_mismatch")
    out["pin"] = pin
    out["country"] = country
    return Normalised(out)


def place(value: JSON, path: str, category: str, rules: Rules) -> Normalised:
    """A city-level place: ``{"city", "state"?, "country"?}`` or "City[, State][, Country]".

    Finer detail (a hospital, a street) is more than a birthplace needs, so it is refused.
    """
    if isinstance(value, str):
        parts = [part.strip() for part in _string(value, path, category).split(",")]
        if len(parts) > 3 or not all(parts):
            raise _fail(path, category, "place_format", "City[, State][, Country]")
        value = dict(zip(("city", "state", "country"), parts, strict=False))
    raw = _mapping(value, path, category, {"city"})
    return Normalised(
        {
            key: _string(raw[key], f"{path}.{key}", category, 100)
            for key in ("city", "state", "country")
            if _given(raw, key)
        }
    )


def bank_account(value: JSON, path: str, category: str, rules: Rules) -> Normalised:
    raw = _mapping(value, path, category, {"account_number", "ifsc"})
    number = _compact(raw["account_number"], f"{path}.account_number", category)
    if not _ACCOUNT.fullmatch(number):
        raise _fail(f"{path}.account_number", category, "account_format", "9 to 18 digits")
    ifsc = _check(
        identifiers.ifsc, _compact(raw["ifsc"], f"{path}.ifsc", category), f"{path}.ifsc", category
    )
    return Normalised({"account_number": number, "ifsc": ifsc})


def card_number(value: JSON, path: str, category: str, rules: Rules) -> Normalised:
    """Luhn-check a card, then keep only last four, network and gateway token.

    India's card-on-file rules (RBI, in force since 1 October 2022) forbid merchants
    from storing full card numbers; ``store_full_card_numbers`` is the explicit switch.
    """
    raw = value if isinstance(value, Mapping) else {"number": value}
    raw = _mapping(raw, path, category, {"number"})
    number = _compact(raw["number"], f"{path}.number", category)
    _check(identifiers.card, number, f"{path}.number", category)
    network = identifiers.card_network(number)
    assert network is not None  # identifiers.card checked it
    out: dict[str, str] = {"last4": number[-4:], "network": network}
    if _given(raw, "token"):
        out["token"] = _string(raw["token"], f"{path}.token", category, 128)
    if rules.store_full_card_numbers:
        out["number"] = number
        return Normalised(out)
    notice = f"{path}: full card number discarded; kept last4, network and gateway token"
    return Normalised(out, notices=(notice,))


def _check(rule: identifiers.Rule, number: str, path: str, category: str) -> str:
    broken = rule(number)
    if broken is not None:
        raise _fail(path, category, broken, _RULE_HINTS.get(broken, ""))
    return number


_RULE_HINTS = {
    "card_format": "12 to 19 digits",
    "aadhaar_format": "12 digits, first 2-9",
    "pan_format": "AAAAA9999A",
    "passport_format": "a letter and 7 digits",
    "epic_format": "3 letters and 7 digits",
    "registration_format": "SS RR XX NNNN or YY BH NNNN XX",
    "licence_format": "SS RR YYYY NNNNNNN",
    "ifsc_format": "4 letters, 0, 6 letters or digits",
}


def _identity(rule: identifiers.Rule) -> Callable[[str, str, str], str]:
    return lambda number, path, category: _check(rule, number, path, category)


IDENTITY_TYPES: dict[str, Callable[[str, str, str], str]] = {
    "aadhaar": _identity(identifiers.aadhaar),
    "pan": _identity(identifiers.pan),
    "passport": _identity(identifiers.passport),
    "voter_id": _identity(identifiers.voter_id),
    "gstin": _identity(identifiers.gstin),
}


def _typed_entries(
    value: JSON,
    path: str,
    category: str,
    value_key: str,
    checkers: Mapping[str, Callable[[str, str, str], str]],
    clean: Callable[[JSON, str, str], str],
) -> list[tuple[str, str]]:
    """Validate ``{"type": kind, value_key: …}`` entries (one or a list) by their kind."""
    checked = []
    kinds = ", ".join(checkers)
    shape = f', one of them or a list, or "kind:{value_key}" text (kind: {kinds})'
    for entry_path, entry in _items(value, path, category):
        if isinstance(entry, str) and ":" in entry:  # "pan:AFZPK7190K"
            kind, _, given = entry.partition(":")
            entry = {"type": kind.strip().lower(), value_key: given}
        raw = _mapping(entry, entry_path, category, {"type", value_key}, shape)
        kind = raw["type"]
        known = "one of " + ", ".join(checkers)
        if not isinstance(kind, str):
            raise _fail(f"{entry_path}.type", category, "type", f"expected a string, {known}")
        if kind not in checkers:
            raise _fail(f"{entry_path}.type", category, f"{category}_type", known)
        value_path = f"{entry_path}.{value_key}"
        checked.append(
            (
                kind,
                checkers[kind](clean(raw[value_key], value_path, category), value_path, category),
            )
        )
    return checked


def identity_number(value: JSON, path: str, category: str, rules: Rules) -> Normalised:
    entries = _typed_entries(value, path, category, "number", IDENTITY_TYPES, _compact)
    return Normalised(
        [{"type": kind, "number": number} for kind, number in entries],
        tuple(f"{kind}:{number}" for kind, number in entries),
    )


def vehicle_registration(value: JSON, path: str, category: str, rules: Rules) -> Normalised:
    number = _compact(value, path, category)
    return Normalised(_check(identifiers.vehicle_registration, number, path, category))


def driving_licence(value: JSON, path: str, category: str, rules: Rules) -> Normalised:
    number = _compact(value, path, category)

    def rule(n: str) -> str | None:
        return identifiers.driving_licence(n, rules.today.year)

    return Normalised(_check(rule, number, path, category))


_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})


def photograph(value: JSON, path: str, category: str, rules: Rules) -> Normalised:
    """Accept image bytes (or base64 in JSON); the content type is sniffed, never trusted."""
    import filetype

    if isinstance(value, Mapping):
        value = _mapping(value, path, category, {"content_base64"})["content_base64"]
    if isinstance(value, str):
        try:
            value = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):  # ValueError: a character beyond ASCII
            raise _fail(path, category, "base64") from None
    if not isinstance(value, bytes | bytearray):
        raise _fail(path, category, "type", "expected image bytes")
    if len(value) > rules.max_photo_bytes:
        raise _fail(path, category, "size", f"at most {rules.max_photo_bytes} bytes")
    kind = filetype.guess_mime(bytes(value))
    if kind not in _IMAGE_TYPES:
        raise _fail(path, category, "content_type", "JPEG, PNG, WebP or GIF")
    encoded = base64.b64encode(bytes(value)).decode("ascii")
    return Normalised({"content_type": kind, "content_base64": encoded})


def _ip(text_value: str, path: str, category: str) -> str:
    try:
        return str(ipaddress.ip_address(text_value))
    except ValueError:
        raise _fail(path, category, "ip_address") from None


def _username(text_value: str, path: str, category: str) -> str:
    if not _USERNAME.fullmatch(text_value):
        raise _fail(path, category, "username_format")
    return text_value


def _device_id(text_value: str, path: str, category: str) -> str:
    if not _DEVICE_ID.fullmatch(text_value):
        raise _fail(path, category, "device_id_format")
    return text_value


DIGITAL_IDENTITY_TYPES: dict[str, Callable[[str, str, str], str]] = {
    "ip": _ip,
    "username": _username,
    "device_id": _device_id,
}


def _short_string(value: JSON, path: str, category: str) -> str:
    return _string(value, path, category, 128)


def digital_identity(value: JSON, path: str, category: str, rules: Rules) -> Normalised:
    entries = _typed_entries(value, path, category, "value", DIGITAL_IDENTITY_TYPES, _short_string)
    return Normalised([{"type": kind, "value": checked} for kind, checked in entries])


VALIDATORS: dict[str, Validator] = {
    "text": text,
    "long_text": long_text,
    "date": iso_date,
    "telephone": telephone,
    "email": email,
    "place": place,
    "address": address,
    "bank_account": bank_account,
    "card_number": card_number,
    "identity_number": identity_number,
    "vehicle_registration": vehicle_registration,
    "driving_licence": driving_licence,
    "photograph": photograph,
    "digital_identity": digital_identity,
}
