"""What makes an Indian or payment identifier valid, as one rule per identifier.

Each function takes the compact form (no spaces or hyphens, upper case) and returns the
name of the first rule it breaks, or None when it is valid. The vault's validators turn
a broken rule into a ValidationError; the scanner (:mod:`needtoknow.detect`) drops the
candidate. One definition, so what the vault refuses the scanner never reports as valid.
The check-digit algorithms (Luhn, Verhoeff, GSTIN's Luhn mod 36) are python-stdnum's,
not ours: a widely used implementation is less likely to hide a slip in a table.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable

from stdnum import luhn, verhoeff

from needtoknow.categories import india

Rule = Callable[[str], str | None]

_AADHAAR = re.compile(r"[2-9]\d{11}")
_VID = re.compile(r"\d{16}")
_PAN = re.compile(r"[A-Z]{3}[A-Z][A-Z]\d{4}[A-Z]")
_PASSPORT = re.compile(r"[A-PR-WY][1-9]\d{5}[1-9]")
_EPIC = re.compile(r"[A-Z]{3}\d{7}")
_GSTIN = re.compile(r"\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]")
_IFSC = re.compile(r"[A-Z]{4}0[A-Z0-9]{6}")
_VEHICLE = re.compile(r"([A-Z]{2})(\d{1,2})([A-Z]{0,3})(\d{1,4})")
_BHARAT = re.compile(r"(\d{2})BH(\d{4})([A-HJ-NP-Z]{1,2})")
_LICENCE = re.compile(r"([A-Z]{2})(\d{2})((?:19|20)\d{2})(\d{7})")
_CARD = re.compile(r"\d{12,19}")
_IMEI = re.compile(r"\d{15}")


def _in(prefix: str, low: int, high: int) -> bool:
    return low <= int(prefix) <= high


# Issuer ranges and the lengths each network issues; RuPay's published BIN ranges come
# first because Discover's overlap them.
_CARD_NETWORKS: tuple[tuple[str, Callable[[str], bool], frozenset[int]], ...] = (
    (
        "rupay",
        lambda n: any(
            _in(n[:6], lo, hi)
            for lo, hi in (
                (508500, 508999),
                (606985, 607984),
                (608001, 608500),
                (652150, 653149),
                (817200, 819899),
                (820000, 822199),
            )
        ),
        frozenset({16}),
    ),
    ("amex", lambda n: n[:2] in ("34", "37"), frozenset({15})),
    (
        "diners",
        lambda n: n[:2] in ("36", "38", "39") or _in(n[:3], 300, 305),
        frozenset(range(14, 20)),
    ),
    ("jcb", lambda n: _in(n[:4], 3528, 3589), frozenset(range(16, 20))),
    (
        "discover",
        lambda n: n[:4] == "6011" or n[:2] == "65" or _in(n[:3], 644, 649),
        frozenset(range(16, 20)),
    ),
    ("mastercard", lambda n: _in(n[:2], 51, 55) or _in(n[:4], 2221, 2720), frozenset({16})),
    ("visa", lambda n: n[0] == "4", frozenset({13, 16, 19})),
    ("unionpay", lambda n: n[:2] == "62", frozenset(range(16, 20))),
    ("maestro", lambda n: n[:2] == "50" or _in(n[:2], 56, 69), frozenset(range(12, 20))),
)


def card_network(number: str) -> str | None:
    """The card network from the issuer prefix and length, or None for neither."""
    return next(
        (
            name
            for name, match, lengths in _CARD_NETWORKS
            if match(number) and len(number) in lengths
        ),
        None,
    )


def _luhn_valid(number: str) -> bool:
    """Luhn through stdnum, which reads ASCII digits only. ``\\d`` in the format rules
    also admits other scripts' decimal digits (Devanagari, Arabic-Indic), which the vault
    accepted before it used stdnum; spell them in ASCII first so the switch refuses
    nothing it used to accept."""
    return luhn.is_valid(number if number.isascii() else "".join(str(int(c)) for c in number))


def card(number: str) -> str | None:
    if not _CARD.fullmatch(number):
        return "card_format"
    if not _luhn_valid(number):
        return "luhn"
    if card_network(number) is None:
        return "unknown_network"
    return None


def aadhaar(number: str) -> str | None:
    if not _AADHAAR.fullmatch(number):
        return "aadhaar_format"
    return None if verhoeff.is_valid(number) else "verhoeff"


def aadhaar_vid(number: str) -> str | None:
    """A 16-digit Aadhaar Virtual ID: Verhoeff like the Aadhaar number it stands for."""
    if not _VID.fullmatch(number) or number[0] in "01":
        return "vid_format"
    return None if verhoeff.is_valid(number) else "verhoeff"


def pan(number: str) -> str | None:
    if not _PAN.fullmatch(number):
        return "pan_format"
    return None if number[3] in india.PAN_HOLDER_TYPES else "pan_holder_type"


def passport(number: str) -> str | None:
    return None if _PASSPORT.fullmatch(number) else "passport_format"


def voter_id(number: str) -> str | None:
    return None if _EPIC.fullmatch(number) else "epic_format"


_GSTIN_ALPHABET = string.digits + string.ascii_uppercase


def gstin_check_char(first14: str) -> str:
    """The character GSTN appends: Luhn mod 36 over digits then capitals. stdnum's GSTIN
    module checks it but has no helper to make one, which the demo and corpus need."""
    return luhn.calc_check_digit(first14, _GSTIN_ALPHABET)


def gstin(number: str) -> str | None:
    if not _GSTIN.fullmatch(number):
        return "gstin_format"
    if number[:2] not in india.GST_STATE_CODES:
        return "gst_state_code"
    if pan(number[2:12]) is not None:
        return "gstin_pan"
    return None if luhn.is_valid(number, _GSTIN_ALPHABET) else "gstin_check_character"


def ifsc(code: str) -> str | None:
    return None if _IFSC.fullmatch(code) else "ifsc_format"


def vehicle_registration(number: str) -> str | None:
    if _BHARAT.fullmatch(number):
        return None
    match = _VEHICLE.fullmatch(number)
    if not match:
        return "registration_format"
    if match.group(1) not in india.STATE_CODES:
        return "state_code"
    return "registration_number" if int(match.group(4)) == 0 else None


def driving_licence(number: str, this_year: int) -> str | None:
    match = _LICENCE.fullmatch(number)
    if not match:
        return "licence_format"
    if match.group(1) not in india.STATE_CODES:
        return "state_code"
    return "future_year" if int(match.group(3)) > this_year else None


def imei(number: str) -> str | None:
    if not _IMEI.fullmatch(number):
        return "imei_format"
    return None if _luhn_valid(number) else "luhn"
