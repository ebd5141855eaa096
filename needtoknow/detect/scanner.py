"""Find PII in text: one pass of one compiled pattern, then a validator per candidate.

Every shape the scanner looks for (e-mail-like, number runs, masked numbers, ID tokens,
plates, dates, addresses of machines, genetic markers…) is an alternative of a single
regular expression, so the text is read once, not once per recognizer as Presidio
does. Each candidate then goes to the classifier for its shape, which asks the
identifier rules (:mod:`needtoknow.categories.identifiers`: Luhn and issuer ranges,
Verhoeff, the GSTIN check character, state codes, ``phonenumbers``, ``ipaddress``…)
what it is, and scores it with the words just before it.

The pattern is written to run in linear time: every repetition is bounded or
possessive, and each alternative starts only at a word boundary of its own, so a
megabyte of adversarial input costs what a megabyte of prose does (tests/detect).
A rejected candidate lets the scan resume where another shape may still find something
inside it — after a label, at the next digit group, at a name's last two words — a
bounded number of times, so the scan stays linear.
"""

from __future__ import annotations

import bisect
import functools
import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import phonenumbers

from needtoknow.categories import identifiers, india
from needtoknow.detect import gazetteer, regions
from needtoknow.detect.automaton import Automaton
from needtoknow.detect.entities import (
    CONTEXT_BOOST,
    CONTEXT_WINDOW,
    DEFAULT_THRESHOLD,
    ENTITIES,
    NEGATIVE_CONTEXT,
    NEGATIVE_PENALTY,
    Entity,
)

if TYPE_CHECKING:
    from needtoknow.detect.recognizers import Recognizer


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of PII: where it is (character offsets), what it is, how sure we are,
    which check confirmed it, and whether it was already masked (``XXXX XXXX 1234``)."""

    start: int
    end: int
    entity: str
    category: str
    score: float
    validator: str
    masked: bool = False

    def to_json(self) -> dict[str, Any]:
        """Where and what — never the matched text."""
        return {
            "start": self.start,
            "end": self.end,
            "entity": self.entity,
            "category": self.category,
            "score": self.score,
            "masked": self.masked,
        }

    def moved(self, by: int) -> Finding:
        """The same finding ``by`` characters further on (cheaper than dataclasses.replace)."""
        return Finding(
            self.start + by,
            self.end + by,
            self.entity,
            self.category,
            self.score,
            self.validator,
            self.masked,
        )


_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]{0,6}\.?"
_GENETIC_TESTS = (
    r"BRCA[12]|23andMe|AncestryDNA|karyotyp\w{0,6}|whole[- ](?:genome|exome) sequencing"
    r"|carrier screening|genetic test(?:ing)?|HLA typing|pharmacogenomic\w{0,4}"
    r"|DNA (?:test|profile|report)|paternity test|genotyp(?:e|ing)"
)


def _upi_handles() -> frozenset[str]:
    """The UPI handles NPCI lists (``data/upi_handles.txt``)."""
    text = (Path(__file__).parent / "data" / "upi_handles.txt").read_text("utf-8")
    return frozenset(line for line in text.split() if not line.startswith("#"))


# A capitalised word ("McKenzie", "Dodd-Wade", "O'Brien" too), then more of them (an
# initial allowed between): "Asha K. Rao".
_NAME_WORD = r"(?:[A-Z][a-z]{1,20}(?:[-']?[A-Z][a-z]{1,20})?|[A-Z]'[A-Z][a-z]{1,20})"
_NAME_WORDS = rf"{_NAME_WORD}(?: (?:[A-Z]\. )?{_NAME_WORD})"

# A house's number, after the word for what it is if given: "Flat 4B", "H.No. 12-3-45".
_HOUSE = (
    r"(?:(?:Flat|House|H\. ?No|Plot|Door|Shop|Apt|Unit|Room)\.?(?: No\.?)? )?"
    r"\d{1,4}(?:[/-]\d{1,4}){0,3}[A-Za-z]?"
)
_PIN = r"[1-9]\d{2} ?\d{3}\b"
_STREETS = (
    "Road|Rd|Street|St|Marg|Nagar|Lane|Colony|Layout|Sector|Cross|Main|Avenue|Chowk|Ganj"
    "|Bazar|Bazaar|Path|Gali|Mohalla|Puram|Peth|Enclave|Vihar|Block|Phase|Extension|Circle"
)

# A word in Devanagari (not its full stops, the danda): RE2's \b knows ASCII only, so
# what may not touch it is checked in _BAD_BEFORE and _BAD_AFTER.
_DEVANAGARI_WORD = (
    r"[\x{0900}-\x{0963}\x{0966}-\x{097F}][\x{0900}-\x{0963}\x{0966}-\x{097F}\x{2019}]*"
)
_DEVANAGARI_NAME = rf"{_DEVANAGARI_WORD}(?: {_DEVANAGARI_WORD}){{1,3}}"
# (not माननीय, "honourable": courts and ministers have it as often as people)
_HONORIFICS = "श्रीमती|श्रीमान|श्री|सुश्री|कुमारी|प्रिय|डॉ"
_PREFIX = r"(?:12[0-8]|1[01]\d|\d{1,2})\b"  # an IPv6 prefix length, 0 to 128
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_H = r"[0-9A-Fa-f]{1,4}"  # an IPv6 group
_V4 = r"\d{1,3}(?:\.\d{1,3}){3}\b"
_TAIL = rf"(?:{_V4}|{_H})"  # an IPv6 address's last group(s): a dotted quad first

# Each alternative is one shape; its name picks the classifier. Order matters where two
# shapes match at the same place (RE2 prefers the earlier): dates before numbers, and the
# catch-all ``token`` last. RE2 has no lookaround: _BAD_BEFORE and _BAD_AFTER finish the
# boundaries.
_SHAPES = {
    "at": r"\b[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9-]{1,63}\.){1,6}[A-Za-z]{2,24}\b"
    # a UPI id: a handle, no dot after it (an e-mail's domain has one)
    r"|\b[A-Za-z0-9][A-Za-z0-9._-]{1,63}@[A-Za-z][A-Za-z0-9]{1,31}\b",
    "handle": r"@[A-Za-z0-9_][A-Za-z0-9_.]{2,29}",
    "mac": r"\b(?:[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}"
    r"|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})\b",
    # RFC 4291's forms: eight groups, or fewer around one "::" (a network ending in "::"
    # only with its prefix length — "cafe::" is C++ more often than an address), the
    # last 32 bits as a dotted quad, then a zone id or a prefix length. A time of day
    # ("10:22:38") has neither eight groups nor "::", so it never reaches Python.
    "ipv6": rf"\b(?:{_H}:){{1,7}}:/{_PREFIX}"
    rf"|(?:\b(?:{_H}:){{7}}{_H}|\b(?:{_H}:){{6}}{_V4}|\b(?:{_H}:){{1,7}}:(?:{_H}:){{0,5}}{_TAIL}"
    rf"|::(?:{_H}:){{0,5}}{_TAIL})(?:%[A-Za-z0-9_.~-]{{1,32}}|/{_PREFIX})?",
    # four decimal octets of 0-255 without leading zeros: what ipaddress accepts, checked
    # by the automaton, not in Python
    "ipv4": rf"\b{_OCTET}(?:\.{_OCTET}){{3}}\b",
    "date": r"\b(?i:\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d{2}|(?:19|20)\d{2}-\d{2}-\d{2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?[ -]{_MONTH}[ ,-]{{1,2}}(?:19|20)\d{{2}}"
    rf"|{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?,? (?:19|20)\d{{2}})\b",
    "masked": r"(?:[Xx*#]{2,8}[ -]?){1,4}\d{4}\b",
    # After a "+", the country code runs straight into the number in E.164 ("+9198…"),
    # so no word boundary is asked there, and groups may be split by dots too.
    # At least six digits after a "+" (no plan has fewer; "+0530" is a time zone), and
    # nine without a bracketed prefix: a shorter run is a number only where a country is
    # named before it (_SHORT_NUMBER), and logs are full of them ("200 72426").
    "number": r"\+[1-9]\d{0,2}[ .-]?(?:\(\d{1,5}\)[ .-]?)?(?:\d[ .-]?){4,17}\d\b"
    r"|\(\d{2,5}\)[ -]?(?:\d[ -]?){6,22}\d\b|\b(?:\d[ -]?){8,22}\d\b"
    r"|\b\d{4}:\d{4}:\d{4}(?::\d{4})?\b",  # an Aadhaar (or VID) in fours by colons
    "licence": r"\b[A-Z]{2}[ -]?\d{2}[ -]?(?:19|20)\d{2}[ -]?\d{7}\b",
    "plate": r"\b(?:[A-Z]{2}[ -]?\d{1,2}[A-Z]?[ -]?(?:[A-Z]{1,3}[ -]?)?\d{4}"
    r"|\d{2}[ -]?BH[ -]?\d{4}[ -]?[A-HJ-NP-Z]{1,2})\b",
    "rsid": r"\brs\d{3,10}\b",
    "dna": r"\b[ACGT]{20,}\b",
    "gtest": rf"\b(?i:{_GENETIC_TESTS})\b",
    "user": r"(?i:\b(?:user(?:name| ?id)?|login|handle|screen name))\s{0,3}[:=]\s{0,3}"
    r"(?P<user_value>[A-Za-z0-9._-]{3,32})",
    "birth": r"(?i:\b(?:born (?:in|at)|place of birth|birth ?place))\W{0,3}"
    r"(?P<place>[A-Z][a-z]{2,20}(?: [A-Z][a-z]{2,20})?)",
    # a house (flat, plot…) number, capitalised words and a PIN code; or, without the PIN,
    # a street named by its word ("12 MG Road"): an address only when called one
    "address": rf"\b{_HOUSE},?[ \n](?:[A-Z][A-Za-z.]{{1,20}}[ ,\n-]{{1,3}}){{1,6}}{_PIN}",
    "street": rf"\b{_HOUSE},? (?:[A-Z][A-Za-z.]{{1,20}} ){{0,3}}(?:{_STREETS})\b\.?",
    "titled": r"(?:\b(?:Dear|Mr|Mrs|Ms|Shri|Smt|Dr|Hi|Hello|Attn|Welcome back|Regards"
    r"|Thanks|Thank you|Cheers|Sincerely|Best|Warm regards|Best regards)\.?,? "
    r"|(?i:\b(?:name|holder)\s{0,3}[:=]\s{0,3}|\b(?:my|his|her|their|whose) name is ))"
    rf"(?P<titled_name>{_NAME_WORDS}{{0,2}}\b|{_DEVANAGARI_NAME})",
    # A name in Devanagari after an honorific (श्री, श्रीमती…) or before जी
    "honorific": rf"(?:(?:{_HONORIFICS})\.? )+{_DEVANAGARI_WORD}(?: {_DEVANAGARI_WORD})?"
    rf"|{_DEVANAGARI_WORD}(?: {_DEVANAGARI_WORD})? जी",
    "person": rf"\b{_NAME_WORDS}{{1,2}}\b",
    "token": r"\b(?:[A-Za-z]+\d|\d+[A-Za-z])[A-Za-z0-9]*\b",
}
# A run of five digits or more, looked for only after a country's name (regions.mentions).
_SHORT_NUMBER = r"(?:\(\d{2,5}\)[ -]?)?\b(?:\d[ -]?){4,22}\d\b"

# The entities each shape can yield: a scanner classifies only the shapes it needs.
_YIELDS = {
    "at": {"EMAIL_ADDRESS", "IN_UPI_ID"},
    "handle": {"USERNAME"},
    "mac": {"MAC_ADDRESS"},
    "ipv6": {"IP_ADDRESS"},
    "ipv4": {"IP_ADDRESS"},
    "date": {"DATE_OF_BIRTH"},
    "masked": {"CREDIT_CARD", "IN_AADHAAR", "IN_BANK_ACCOUNT"},
    "number": {
        "CREDIT_CARD",
        "IN_AADHAAR",
        "IN_AADHAAR_VID",
        "IMEI",
        "PHONE_NUMBER",
        "IN_BANK_ACCOUNT",
    },
    "licence": {"IN_DRIVING_LICENCE"},
    "plate": {"IN_VEHICLE_REGISTRATION"},
    "rsid": {"GENETIC_MARKER"},
    "dna": {"DNA_SEQUENCE"},
    "gtest": {"GENETIC_TEST"},
    "user": {"USERNAME"},
    "birth": {"BIRTHPLACE"},
    "address": {"ADDRESS"},
    "street": {"ADDRESS"},
    "titled": {"PERSON"},
    "honorific": {"PERSON"},
    "person": {"PERSON"},
    "token": {
        "MAC_ADDRESS",
        "IN_GSTIN",
        "IN_PAN",
        "IN_IFSC",
        "IN_VOTER",
        "IN_PASSPORT",
        "IN_DRIVING_LICENCE",
        "IN_VEHICLE_REGISTRATION",
    },
}
# Shapes whose finding is an inner group (the value after its label).
_VALUE_GROUP = {"user": "user_value", "birth": "place", "titled": "titled_name"}


@functools.cache
def automaton(
    shapes: tuple[tuple[str, str], ...], by_line: bool = False, exact: tuple[str, ...] = ()
) -> Automaton:
    """The automaton of these (name, pattern) shapes, in their order (compiled once per
    set); with ``by_line``, no match of ours crosses a line break; ``exact``: the
    user's shapes (see Automaton)."""
    chosen = dict(shapes)
    if by_line:
        chosen = {n: shape if n in exact else _within_a_line(shape) for n, shape in shapes}
    return Automaton(chosen, _VALUE_GROUP, exact)


_LINE_BREAKING = ((r"\s", r"[^\S\n]"), (r"\W", r"[^\w\n]"), (r"[ \n]", " "), (r",\n-]", ",-]"))


def _within_a_line(shape: str) -> str:
    """The shape with every class that admits a line break made to refuse it."""
    for wide, narrow in _LINE_BREAKING:
        shape = shape.replace(wide, narrow)
    return shape


@functools.cache
def _short_numbers() -> Automaton:
    return automaton((("number", _SHORT_NUMBER),))


_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
# Bytes that may not touch a candidate of this shape (besides what its \b excludes).
_BAD_BEFORE: dict[str, frozenset[int]] = {
    "honorific": frozenset(range(0x80, 0x100)),
    "handle": _WORD | frozenset(b"@."),
    "ipv6": _WORD | frozenset(b":."),
    "ipv4": frozenset(b"."),
    "date": frozenset(b"/.-"),
    "masked": _WORD | frozenset(b"*#"),
    "number": _WORD | frozenset(b".+-"),
    "licence": frozenset(b"-"),
    "plate": frozenset(b"-"),
    "token": frozenset(b"-"),
}
_BAD_AFTER: dict[str, frozenset[int]] = {
    "honorific": frozenset(range(0x80, 0x100)),  # more of a word in another script
    "user": frozenset(b"@"),  # user=alice@example.in: the e-mail, not a username
    "handle": _WORD | frozenset(b"@"),
    "mac": frozenset(b":-"),
    "ipv6": _WORD | frozenset(b":"),
    "date": frozenset(b"/-"),
    "licence": frozenset(b"-"),
    "plate": frozenset(b"-"),
    "token": frozenset(b"-"),
}
_READS_CONTEXT = frozenset(("number",))
_RETRIES = 3  # looks inside one rejected run of digit groups
_LONGEST_NUMBER = 64  # bytes: a bracketed prefix and 23 digits with a separator each
_DECIMAL_AFTER = frozenset(("ipv4", "number"))  # 10.0.0.1.5, 12345678.90: part of more


def _words(words: Iterable[str]) -> str:
    return r"(?<![a-z])(?:" + "|".join(map(re.escape, words)) + r")(?![a-z])"


_CONTEXT = {name: re.compile(_words(e.context)) for name, e in ENTITIES.items() if e.context}
_NEGATIVE = re.compile(_words(NEGATIVE_CONTEXT))
# Per entity, its words and the negative ones in one pattern: the usual case (neither
# before a candidate) costs one search instead of two.
_EITHER = {
    name: re.compile(f"(?P<positive>{_words(e.context)})|{_words(NEGATIVE_CONTEXT)}")
    for name, e in ENTITIES.items()
    if e.context
}
_NOT_DIGIT = re.compile(r"\D")
_NOT_DIGIT_BYTES = re.compile(rb"\D")
_SEPARATOR_BYTES = re.compile(rb"[ -]")
_SEPARATORS = re.compile(r"[ -]")

# What a classifier returns: (entity, validator, masked[, bonus to the entity's score]),
# or None for "not PII".
Verdict = tuple[str, str, bool] | tuple[str, str, bool, float] | None


_UPI_HANDLES = _upi_handles()


def _at(value: str, _before: str) -> Verdict:
    local, _, domain = value.rpartition("@")
    if "." in domain:
        labels = domain.split(".")
        if len(labels[-1]) >= 2 and labels[-1].isalpha() and all(labels) and local[-1] != ".":
            return "EMAIL_ADDRESS", "email_structure", False
        return None
    if domain.lower() in _UPI_HANDLES:
        return "IN_UPI_ID", "upi_handle", False
    return "IN_UPI_ID", "upi_shape", False, -0.35  # a handle NPCI added since: with its words


def _handle(_value: str, _before: str) -> Verdict:
    return "USERNAME", "handle_structure", False


def _mac(value: str, _before: str) -> Verdict:
    """A MAC address — unless it is twelve decimal digits in dotted fours that pass the
    Verhoeff check: an Aadhaar number written with dots (a random MAC is all decimal one
    time in 280, and passes Verhoeff one time in ten of those)."""
    digits = value.replace(".", "")
    if "." in value and digits.isdigit() and identifiers.aadhaar(digits) is None:
        return "IN_AADHAAR", "verhoeff", False, -0.2  # dotted: with its word near only
    if _NOT_HEX.sub("", value).upper() in ("0" * 12, "F" * 12):
        return None  # the broadcast and the all-zero address name no device
    return "MAC_ADDRESS", "mac_structure", False


def _ipv4(_value: str, _before: str) -> Verdict:
    return "IP_ADDRESS", "ipaddress", False


def _ipv6(value: str, _before: str) -> Verdict:
    try:
        if "/" in value:  # a network: a range of addresses, narrow or wide
            ipaddress.IPv6Network(value, strict=False)
        else:
            ipaddress.IPv6Address(value)
    except ValueError:
        return None
    return "IP_ADDRESS", "ipaddress", False


def _date(_value: str, before: str) -> Verdict:
    # A date is personal only as a date of birth: the context decides (low base score).
    return "DATE_OF_BIRTH", "date_format", False


def _masked(value: str, before: str) -> Verdict:
    length = len(_SEPARATORS.sub("", value))
    if 13 <= length <= 19:
        return "CREDIT_CARD", "masked_card", True
    if length == 12:
        return "IN_AADHAAR", "masked_aadhaar", True
    return "IN_BANK_ACCOUNT", "masked_account", True


def _phone(value: str, digits: str) -> bool:
    """India first: a national number (10 digits, alone or after 0 or 91), else any
    +country number that ``phonenumbers`` parses; either way valid by its metadata. One
    dot is a decimal point ("+1.2345678901"): a phone written with dots has them between
    every group ("+33.1.23.45.67.89")."""
    if value.count(".") == 1:
        return False
    if value.startswith("+") and not (len(digits) == 12 and digits.startswith("91")):
        return _valid_international(value)
    if len(digits) == 12 and digits.startswith("91"):
        national = digits[2:]
    elif len(digits) == 11 and digits[0] == "0":
        national = digits[1:]
    elif len(digits) == 10 and digits[0] in "6789":
        national = digits
    else:
        return False
    return _valid_indian(national)


def _national_elsewhere(value: str, before: str) -> bool:
    """A national-format number of the country the words before it name, valid by that
    country's numbering plan — when said to be a telephone: the name stands right before
    a telephone word ("my UK number is 020 7946 0958"), a telephone word is there, or the
    number is written as one: grouped and starting with the country's trunk prefix
    ("Our office in Albania: 022 345 678"), or grouped exactly as the country writes
    its numbers. Many plans accept most digit runs, so a
    country named near an order or a score is not enough."""
    found = regions.named(before)
    if found is None or found.region == "IN":
        return False
    if not (
        found.before_phone_word
        or _says(before, "PHONE_NUMBER")
        or _written_as_national(value, found.region)
        or _formatted_as_national(value, found.region)
    ):
        return False
    return _valid_in_region(value, found.region)


def _written_as_national(value: str, region: str) -> bool:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    prefix = None if metadata is None else metadata.national_prefix
    grouped = any(c in value for c in " -()")
    return prefix is not None and prefix != "" and grouped and value.lstrip("(").startswith(prefix)


_THOUSANDS = re.compile(r"\d{1,3}(?:[ .]\d{3})+")


@functools.lru_cache(maxsize=1 << 12)
def _formatted_as_national(value: str, region: str) -> bool:
    """Written, groups and punctuation, exactly as that country writes its numbers
    ("(242) 345-6789" in the Bahamas, "70 12 34 56" in Burkina Faso): an order or a
    price is not grouped so. A run without separators says nothing, nor one grouped in
    threes as thousands are written ("exported 512 345 678 tonnes": Poland's mobile
    format too)."""
    if not any(c in value for c in " -().") or _THOUSANDS.fullmatch(value):
        return False
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL) == value


@functools.lru_cache(maxsize=1 << 12)
def _valid_in_region(value: str, region: str) -> bool:
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(value, region)))
    except phonenumbers.NumberParseException:
        return False


def _indian_patterns() -> tuple[re.Pattern[str], tuple[re.Pattern[str], ...]]:
    india = phonenumbers.PhoneMetadata.metadata_for_region("IN")
    assert india is not None  # phonenumbers ships India's metadata

    def compiled(desc: phonenumbers.PhoneNumberDesc | None) -> re.Pattern[str]:
        assert desc is not None
        return re.compile(f"(?:{desc.national_number_pattern})")

    return compiled(india.general_desc), (compiled(india.mobile), compiled(india.fixed_line))


_INDIAN_GENERAL, _INDIAN_COMMON = _indian_patterns()


def _valid_indian(national: str) -> bool:
    """phonenumbers' validity for +91, its two common number types tried first: a number
    matching the general pattern and the mobile or fixed-line one is valid there too."""
    if _INDIAN_GENERAL.fullmatch(national) and any(p.fullmatch(national) for p in _INDIAN_COMMON):
        return True
    return _valid_indian_by_phonenumbers(national)


@functools.lru_cache(maxsize=1 << 14)
def _valid_indian_by_phonenumbers(national: str) -> bool:
    # Built directly: phonenumbers.parse costs more than the validation itself.
    number = phonenumbers.PhoneNumber(country_code=91, national_number=int(national))
    return bool(phonenumbers.is_valid_number(number))


@functools.lru_cache(maxsize=1 << 12)
def _valid_international(value: str) -> bool:
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(value, None)))
    except phonenumbers.NumberParseException:
        return False


def _says(before: str, entity: str) -> bool:
    """Whether the words before a candidate name this entity."""
    return _CONTEXT[entity].search(before) is not None


def _number(value: str, before: str) -> Verdict:
    """Every reading the number passes, in order of how much its check proves; the first
    one the words before it name wins (a checksum passes by chance for one in ten)."""
    digits = _NOT_DIGIT.sub("", value)
    readings: list[tuple[str, str]] = []
    length = len(digits)
    card: str | None = "card_format"
    if value[0] not in "+(" and length >= 12:  # (lengths first: each rule costs a regex)
        card = identifiers.card(digits) if length <= 19 else card
        if card is None:
            readings.append(("CREDIT_CARD", "luhn_issuer"))
        if length == 12 and identifiers.aadhaar(digits) is None and _grouped_as(value, (4, 4, 4)):
            readings.append(("IN_AADHAAR", "verhoeff"))
        if (
            length == 16
            and identifiers.aadhaar_vid(digits) is None
            and _grouped_as(value, (4,) * 4)
        ):
            readings.append(("IN_AADHAAR_VID", "verhoeff"))
        if length == 15 and identifiers.imei(digits) is None:
            readings.append(("IMEI", "luhn"))
    if _phone(value, digits):
        readings.append(("PHONE_NUMBER", "phonenumbers"))
    elif value[0] != "+" and 5 <= length <= 15 and _national_elsewhere(value, before):
        readings.append(("PHONE_NUMBER", "phonenumbers_region"))
    if value == digits and 9 <= len(digits) <= 18:
        readings.append(("IN_BANK_ACCOUNT", "account_format"))  # scored low: needs context
    if length >= 12 and card == "unknown_network" and not digits.startswith("89"):
        # (89…: a SIM card's ICCID, Luhn-valid, never a payment card)
        # Luhn-valid, of a range the issuer table lacks: a card only when called one,
        # and only if no reading before it is named
        readings.append(("CREDIT_CARD", "luhn_unknown_range"))
    named = next((r for r in readings if _says(before, r[0])), None)
    if named is not None and named[1] == "luhn_unknown_range" and not _says(before[-16:], named[0]):
        named = None  # an unlisted range is a card only when the words just before say so
    if named is None:
        readings = [r for r in readings if r[1] != "luhn_unknown_range"]
        if not readings:
            return None
        named = readings[0]
    entity, validator = named
    return entity, validator, False


def _grouped_as(value: str, groups: tuple[int, ...]) -> bool:
    """Written as one run of digits, or in exactly these groups."""
    parts = _SEPARATORS.split(value)
    return len(parts) == 1 or tuple(map(len, parts)) == groups


def _licence(value: str, _before: str) -> Verdict:
    compact = _SEPARATORS.sub("", value)
    if identifiers.driving_licence(compact, date.today().year) is None:
        return "IN_DRIVING_LICENCE", "state_rto_year", False
    return None


def _plate(value: str, _before: str) -> Verdict:
    return _vehicle(_SEPARATORS.sub("", value))


def _vehicle(compact: str) -> Verdict:
    # Written plates carry a 4-digit number ("MH 12 AB 0042"): shorter forms such as
    # "MH44" are valid registrations on paper but, in text, mostly something else.
    if len(compact) >= 8 and identifiers.vehicle_registration(compact) is None:
        return "IN_VEHICLE_REGISTRATION", "state_code", False
    return None


_TOKEN_RULES: tuple[tuple[str, str, identifiers.Rule], ...] = (
    ("IN_GSTIN", "gstin_check_character", identifiers.gstin),
    ("IN_PAN", "pan_structure", identifiers.pan),
    ("IN_IFSC", "ifsc_structure", identifiers.ifsc),
    ("IN_VOTER", "epic_structure", identifiers.voter_id),
    ("IN_PASSPORT", "passport_structure", identifiers.passport),
)


# Identifiers whose letters and digits sit in fixed places, read in lower case too
# ("abcpe1234f"; GSTIN has a check character, the others need their word).
_ANY_CASE = frozenset({"IN_GSTIN", "IN_PAN", "IN_VOTER"})


_HEX_ADDRESS = re.compile(r"[0-9A-Fa-f]{12}")
_NOT_HEX = re.compile(r"[^0-9A-Fa-f]")
_MAC_WORD = re.compile(r"(?<![a-z])(?:mac|hwaddr|ether|bssid|mac address)(?![a-z])")


def _token(value: str, before: str) -> Verdict:
    verdict = _identifier(value)
    if verdict is None and _HEX_ADDRESS.fullmatch(value):
        # "mac 001A2B3C4D5E": twelve hex digits are a hash's prefix as often (a commit),
        # so only right after a word for a MAC (_judge reads it)
        return "MAC_ADDRESS", "mac_hex", False
    return verdict


def _identifier(value: str) -> Verdict:
    if not value.isupper():
        if value.islower():
            upper = value.upper()
            for entity, validator, rule in _TOKEN_RULES:
                if entity in _ANY_CASE and rule(upper) is None:
                    # a PAN's or voter id's shape is common in lower case (file and build
                    # names): only with its word near; GSTIN's check character suffices
                    return entity, validator, False, 0.0 if entity == "IN_GSTIN" else -0.35
        return None
    for entity, validator, rule in _TOKEN_RULES:
        if rule(value) is None:
            return entity, validator, False
    if identifiers.driving_licence(value, date.today().year) is None:
        return "IN_DRIVING_LICENCE", "state_rto_year", False
    return _vehicle(value)


def _rsid(_value: str, _before: str) -> Verdict:
    return "GENETIC_MARKER", "rsid", False


def _dna(_value: str, _before: str) -> Verdict:
    return "DNA_SEQUENCE", "nucleotides", False


def _gtest(_value: str, _before: str) -> Verdict:
    return "GENETIC_TEST", "test_name", False


def _user(_value: str, _before: str) -> Verdict:
    return "USERNAME", "username_label", False


def _name_words(value: str, titled: bool = False) -> list[str] | None:
    """The words of a would-be name, or None when one is a street word or a city, or
    they are words of a country's name — or, after a salutation (``titled``), when all
    are cities: many surnames are towns too ("Dear William Kota")."""
    words = value.split()
    if "." in value:
        words = [w for w in words if not w.endswith(".")]  # initials say nothing
    cities = gazetteer.load().cities
    placed = cities.issuperset(words) if titled else not cities.isdisjoint(words)
    if not words or placed or not gazetteer.STREET_WORDS.isdisjoint(value.lower().split()):
        return None
    if regions.in_a_name(" ".join(words).lower()):  # "Hong Kong", "Jan Mayen"
        return None
    if not titled and not _NOT_NAMES.isdisjoint(words):  # "Black Friday", "Max Life"
        return None
    return words


_NOT_NAMES = frozenset(
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday Station Airport Life Bank "
    "Insurance Airlines Hospital University College School Police Court Office Services "
    "Support Care Team Group Limited Ltd Pvt Inc Corporation Company Ministry".split()
)


def _person(value: str, _before: str) -> Verdict:
    """Two or three capitalised words with a known first or last name: reported when
    both are known, or one is and the words before name a person ("customer", "of")."""
    words = _name_words(value)
    if words is None:
        return None
    known = gazetteer.load()
    first, last = words[0] in known.first_names, words[-1] in known.last_names
    if first and last:
        return "PERSON", "first_and_last_name", False, 0.3
    if first or last:
        return "PERSON", "first_name" if first else "last_name", False
    return None


def _honorific(_value: str, _before: str) -> Verdict:
    return "PERSON", "honorific", False, 0.3


def _titled(value: str, _before: str) -> Verdict:
    """Capitalised words after a salutation or title ("Dear …", "Mr …") or a name label
    ("Name: …", a CSV cell under ``name``): the label is the context, so names the
    gazetteer lacks are found too."""
    if _name_words(value, titled=True) is None:
        return None
    known = gazetteer.load()
    words = value.split()
    bonus = 0.3 if words[0] in known.first_names or words[-1] in known.last_names else 0.2
    return "PERSON", "title", False, bonus


def _address(value: str, _before: str) -> Verdict:
    """A house number, capitalised words and a PIN code, with a street word or a known
    city among the words. The PIN's first digit must be a civilian postal zone, and the
    zone must hold the state if one is named ("…, Pune, Maharashtra 110001" is not)."""
    pin = _NOT_DIGIT.sub("", value[-7:])[-6:]
    if pin[0] == "9":
        return None
    named = india.STATE_NAMES.findall(value.lower())
    if named and not any(state in india.PIN_ZONES[pin[0]] for state in named):
        return None
    known = gazetteer.load()
    words = [w.strip(",.-") for w in value.split()]
    if any(w.lower() in gazetteer.STREET_WORDS for w in words):
        return "ADDRESS", "street_and_pin", False, 0.2
    if any(w in known.cities for w in words):
        return "ADDRESS", "city_and_pin", False
    return None


def _street(_value: str, _before: str) -> Verdict:
    return "ADDRESS", "street_word", False, -0.2  # no PIN: with its words ("address")


def _birth(value: str, _before: str) -> Verdict:
    if value in gazetteer.load().cities:
        return "BIRTHPLACE", "city_gazetteer", False, 0.3
    return "BIRTHPLACE", "birth_label", False


_CLASSIFIERS: dict[str, Callable[[str, str], Verdict]] = {
    "at": _at,
    "handle": _handle,
    "mac": _mac,
    "ipv6": _ipv6,
    "ipv4": _ipv4,
    "date": _date,
    "masked": _masked,
    "number": _number,
    "licence": _licence,
    "plate": _plate,
    "token": _token,
    "rsid": _rsid,
    "dna": _dna,
    "gtest": _gtest,
    "user": _user,
    "birth": _birth,
    "address": _address,
    "street": _street,
    "titled": _titled,
    "honorific": _honorific,
    "person": _person,
}
assert _CLASSIFIERS.keys() == _SHAPES.keys() == _YIELDS.keys()


def _each_line(text: str, find: Callable[[str], list[Finding]]) -> list[Finding]:
    """What ``find`` finds in each line of ``text`` (its "\\n" kept: lines as a file's
    reader gives them, split at "\\n" only), with offsets into the whole text."""
    found, offset = [], 0
    for line in text.split("\n"):
        line += "\n" if offset + len(line) < len(text) else ""
        found += [f.moved(offset) if offset else f for f in find(line)]
        offset += len(line)
    return found


def _with_users(recognizers: Sequence[Recognizer]) -> dict[str, Entity]:
    """Our entities and the users': a new entity scores what its pattern says (its base
    is 0), an entity of ours gains the user's context words."""
    known = dict(ENTITIES)
    for r in recognizers:
        if r.entity is None:
            continue
        had = known.get(r.entity)
        if had is None:
            assert r.category is not None  # Recognizer's own check
            known[r.entity] = Entity(r.entity, r.category, 0.0, r.context)
        elif not set(r.context) <= set(had.context):
            known[r.entity] = replace(had, context=had.context + r.context)
    return known


def _users(recognizer: Recognizer, shape: str, base: float) -> Callable[[str, str], Verdict]:
    """The classifier of one shape of a user's recognizer: its check digit, its score."""
    score = recognizer.score_of(shape) - base
    validator = recognizer.validator or ("deny_list" if shape.endswith("d") else "pattern")

    def classify(value: str, _before: str) -> Verdict:
        if recognizer.entity is None or not recognizer.check(value):
            return None  # ignored: read past, nothing inside it reported
        return recognizer.entity, validator, False, score

    return classify


def _either(entity: Entity) -> re.Pattern[str] | None:
    """Its words and the negative ones in one pattern (see _EITHER)."""
    if not entity.context:
        return None
    if ENTITIES.get(entity.name) == entity:
        return _EITHER[entity.name]
    return re.compile(f"(?P<positive>{_words(entity.context)})|{_words(NEGATIVE_CONTEXT)}")


class Scanner:
    """Finds PII in strings. ``thresholds`` overrides the minimum score per entity;
    ``entities`` limits what is reported (default: every entity in :data:`ENTITIES`)."""

    def __init__(
        self,
        thresholds: Mapping[str, float] | None = None,
        entities: Iterable[str] | None = None,
        names: Callable[[str], list[Finding]] | None = None,
        recognizers: Sequence[Recognizer] = (),
    ) -> None:
        """``names`` is an optional named-entity back end (:mod:`needtoknow.detect.ner`):
        its findings are added where they overlap none of the scanner's own.
        ``recognizers`` are the user's own (:mod:`needtoknow.detect.recognizers`): their
        entities are known to ``entities`` and ``thresholds`` like ours."""
        self._names = names
        self.recognizers = tuple(recognizers)
        known = _with_users(self.recognizers)
        wanted = set(known) if entities is None else set(entities)
        unknown = wanted - set(known) | set(thresholds or {}) - set(known)
        if unknown:
            raise ValueError(f"unknown entity types: {', '.join(sorted(unknown))}")
        self.entities = frozenset(wanted)
        self.thresholds = {name: DEFAULT_THRESHOLD for name in known} | dict(thresholds or {})
        # Only the shapes that can yield a wanted entity are searched (each costs RE2
        # time per candidate even when passed over); the user's come first, so that
        # where one of theirs and one of ours match at the same place, theirs wins.
        self._classifiers = dict(_CLASSIFIERS)
        users: list[tuple[str, str]] = []
        reported: set[str] = set()  # the user's shapes that report (not ignore)
        for index, recognizer in enumerate(self.recognizers):
            if recognizer.ignore or recognizer.entity in self.entities:
                for shape, pattern in recognizer.shapes(index).items():
                    users.append((shape, pattern))
                    base = known[recognizer.entity].score if recognizer.entity else 0.0
                    self._classifiers[shape] = _users(recognizer, shape, base)
                    if not recognizer.ignore:
                        reported.add(shape)
        self._reported = frozenset(reported)
        ours = tuple((n, _SHAPES[n]) for n in _SHAPES if _YIELDS[n] & self.entities)
        exact = tuple(name for name, _ in users)
        self.automaton = automaton((*users, *ours), exact=exact)
        self._by_line = automaton((*users, *ours), by_line=True, exact=exact)
        # Where a user's match is not reported (under its threshold, a failed check
        # digit), ours are looked for in it: theirs must not hide ours.
        self._ours = {
            id(self.automaton): automaton(ours),
            id(self._by_line): automaton(ours, by_line=True),
        }
        self._short = _short_numbers() if "PHONE_NUMBER" in self.entities else None
        self._context = {
            name: re.compile(_words(e.context)) for name, e in known.items() if e.context
        }
        self._scoring = {
            name: (e.score, e.category, _either(e), self.thresholds[name])
            for name, e in known.items()
            if name in self.entities
        }

    def scan(self, text: str, context: str = "", *, by_line: bool = False) -> list[Finding]:
        """Every finding in ``text``, in order, none overlapping; offsets in characters.

        ``context`` is what stands before the text where it came from — a column name, a
        JSON key — read as the words before its first candidate, never reported. With
        ``by_line`` each line is read as if alone (no finding crosses a line break): what
        scanning the lines one by one finds, at a fraction of the cost per line."""
        if context:
            head = context + ": "
            found = self.scan(head + text, by_line=by_line)
            return [f.moved(-len(head)) for f in found if f.start >= len(head)]
        if by_line and self.recognizers:
            # a user's pattern may span lines in its own way ("\s", "\D"): each line alone
            return self._line_by_line(text)
        data = text.encode("utf-8", "surrogatepass")
        findings = self._scan(data, self._by_line if by_line else self.automaton)
        if len(data) != len(text):  # else ASCII: byte offsets are character offsets
            findings = list(_to_characters(data, findings))
        if self._names is not None and "PERSON" in self.entities:
            findings = _merged(findings, self._named(text, by_line))
        return findings

    def _line_by_line(self, text: str) -> list[Finding]:
        return _each_line(text, self.scan)

    def _named(self, text: str, by_line: bool) -> list[Finding]:
        """The named-entity back end's findings, line by line if asked."""
        names = self._names
        assert names is not None
        if not by_line:
            return names(text)
        return _each_line(text, lambda line: names(line.removesuffix("\n")))

    def scan_many(self, texts: Iterable[str]) -> Iterator[list[Finding]]:
        """:meth:`scan` for each text, in order."""
        for text in texts:
            yield self.scan(text)

    def _scan(self, data: bytes, shapes: Automaton) -> list[Finding]:
        countries = regions.mentions(data) if self._short is not None else None
        seen: list[tuple[int, int]] | None = [] if countries else None
        found = self._run(shapes, data, 0, len(data), len(data), seen)
        if not countries:
            return found
        assert self._short is not None and seen is not None
        # A short run of digits is a telephone only with a country named just before it:
        # looked for there, where the pass above saw nothing.
        more: dict[int, Finding] = {}
        taken = _Spans(seen)
        for named, _ in countries:
            limit = named + CONTEXT_WINDOW
            stop = min(len(data), limit + _LONGEST_NUMBER)
            for f in self._run(self._short, data, named, stop, limit, None):
                if not taken.overlaps(f.start, f.end):
                    more[f.start] = f
        return _merged(found, sorted(more.values(), key=lambda f: f.start)) if more else found

    def _run(
        self,
        automaton: Automaton,
        data: bytes,
        pos: int,
        stop: int,
        limit: int,
        seen: list[tuple[int, int]] | None,
    ) -> list[Finding]:
        """The findings of candidates in data[pos:stop] starting at or before ``limit``;
        every candidate's span added to ``seen`` when given."""
        found = []
        next_match = automaton.next
        retry_until, retries = -1, 0
        while (match := next_match(data, pos, stop)) is not None and match[1] <= limit:
            shape, match_start, pos, start, end = match
            if pos == match_start:  # a user's pattern matched nothing: step over it
                pos += 1
                continue
            if seen is not None:
                seen.append((match_start, pos))
            finding = self._judge(data, shape, start, end)
            if finding is None and shape == "person":
                finding = self._last_words(data, start, end)
            if finding is None:
                if shape in _VALUE_GROUP:
                    # What follows a label may be PII of another shape ("user=a@b.in").
                    pos = start
                elif shape == "handle":
                    pos = start + 1  # "user@2001:db8::1": an address after the "@"
                elif shape in self._reported:
                    inner = self._run(
                        self._ours[id(automaton)],
                        data,
                        match_start,
                        min(len(data), pos + _LONGEST_NUMBER),
                        pos - 1,
                        None,
                    )
                    found += inner
                    pos = max(pos, inner[-1].end) if inner else pos
                elif shape == "at":
                    # neither an e-mail nor a UPI id: what stands before its "@" may be
                    # PII of another shape ("192.168.2.1@eth0"), looked for there once
                    at = data.rindex(b"@", start, end)
                    found += self._run(automaton, data, start, at, at, None)
                elif shape == "number":
                    # A run of digit groups may hold a number after groups that are not
                    # one ("2024 05 12 9876543210"): look again from the next group, at
                    # most _RETRIES times a run, so "1 1 1 1…" stays cheap. A long run
                    # may start with one: cards side by side ("4012888888881881
                    # 4012-8888-8888-1881"), its longest head that is one is taken.
                    if match_start >= retry_until:
                        retry_until, retries = pos, 0
                        head = self._head(data, match_start, pos)
                        if head is not None:
                            found.append(head)
                            pos = retry_until = head.end  # what follows is a run of its own
                            continue
                    if retries < _RETRIES:
                        retries += 1
                        pos = _next_group(data, match_start, pos)
                continue
            found.append(finding)
        return found

    def _head(self, data: bytes, start: int, end: int) -> Finding | None:
        """The longest head of a run of twenty digits or more, ending at a separator and
        grouped otherwise, that is a number of ten to nineteen digits (at most ten
        judged: linear)."""
        if len(_NOT_DIGIT_BYTES.sub(b"", data[start:end])) < 20:
            return None
        cuts = [m.start() for m in _SEPARATOR_BYTES.finditer(data, start, end)]
        for cut in reversed(cuts):
            # a head written otherwise than the separator after it: "4012888888881881
            # 4012-…", not one of six groups alike (that is any run's chance reading)
            inside = set(_SEPARATOR_BYTES.findall(data, start, cut))
            if inside == {data[cut : cut + 1]}:
                continue
            if 10 <= len(_NOT_DIGIT_BYTES.sub(b"", data[start:cut])) <= 19:
                finding = self._judge(data, "number", start, cut)
                if finding is not None:
                    return finding
        return None

    def _last_words(self, data: bytes, start: int, end: int) -> Finding | None:
        """A rejected run of three capitalised words may end in a name ("Welcome Asha
        Rao"): its last two words, judged on their own (no second search)."""
        space = data.find(b" ", start, end)
        if space < 0 or data.count(b" ", start, end) != 2:
            return None
        return self._judge(data, "person", space + 1, end)

    def _judge(self, data: bytes, shape: str, start: int, end: int) -> Finding | None:
        if (
            start > 0
            and data[start - 1] in _BAD_BEFORE.get(shape, ())
            and not (shape == "ipv6" and _after_a_label(data, start))
        ):
            return None
        if end < len(data):
            after = data[end]
            if after in _BAD_AFTER.get(shape, ()):
                return None
            if shape in _DECIMAL_AFTER and after in b".:" and data[end + 1 : end + 2].isdigit():
                return None
        value = data[start:end].decode("utf-8", "replace")
        # The words before are read only for the shapes whose classifier weighs them,
        # and for the others only once they are known to be PII.
        window = data[max(0, start - CONTEXT_WINDOW) : start]
        before = _clause(window) if shape in _READS_CONTEXT else ""
        verdict = self._classifiers[shape](value, before)
        if verdict is None or verdict[0] not in self._scoring:
            return None
        if shape not in _READS_CONTEXT:
            before = _clause(window)
        name, validator, masked = verdict[:3]
        if validator == "mac_hex" and not _MAC_WORD.search(before[-24:]):
            return None
        score, category, context, threshold = self._scoring[name]
        if len(verdict) == 4:
            score += verdict[3]
        word = (context or _NEGATIVE).search(before)
        if word is not None:
            positive = context is not None and (
                word.lastgroup == "positive" or self._context[name].search(before, word.end())
            )
            score = round(score + CONTEXT_BOOST if positive else score - NEGATIVE_PENALTY, 2)
            score = min(1.0, max(0.0, score))
        # "Asha Grover called about…" — two words only: of three, the first may be a word
        # before the name ("Customer Asha Rao wrote": see _last_words)
        if (
            score < threshold
            and shape == "person"
            and _SAID.match(data, end)
            and data.count(b" ", start, end) == 1
        ):
            score = round(score + CONTEXT_BOOST, 2)
        if score < threshold:
            return None
        return Finding(start, end, name, category, score, validator, masked)


def _after_a_label(data: bytes, start: int) -> bool:
    """An address after a label's colon ("ip:2001:db8::1"), not a colon inside a longer
    run of groups ("ab:2001:db8::1")."""
    return data[start - 1] == ord(":") and (start < 2 or data[start - 2] not in _HEX_OR_COLON)


_HEX_OR_COLON = frozenset(b"0123456789abcdefABCDEF:")


def _next_group(data: bytes, start: int, end: int) -> int:
    """Where the second digit group of data[start:end] begins (``end`` if there is one)."""
    for separator in (data.find(b" ", start, end), data.find(b"-", start, end)):
        if separator > 0:
            end = min(end, separator + 1)
    return end


def _clause(window: bytes) -> str:
    """The words before a candidate, back to the start of its line or sentence: context
    from the sentence before ("DOB: 1990-05-12. Ordered 2024-01-02") must not count,
    but an abbreviation's full stop ("A/c No. 1234…", "Passport No. …") ends nothing."""
    cut = max(window.rfind(b"\n"), window.rfind(b"; "), window.rfind(b"| "))
    stop = len(window)
    while (stop := window.rfind(b". ", cut + 1, stop)) > cut:
        word = window[
            max(window.rfind(b" ", cut + 1, stop), window.rfind(b"/", cut + 1, stop), cut)
            + 1 : stop
        ]
        if word.lower() not in _ABBREVIATIONS:
            cut = stop + 1
            break
    return window[cut + 1 :].decode("utf-8", "replace").lower()


# What a person does right after being named: the words after a name are its context too.
_SAID = re.compile(
    rb" (?:called|phoned|wrote|emailed|e-mailed|messaged|replied|said|says|asked|complained"
    rb"|reported|requested|paid|ordered|cancell?ed|confirmed|visited|registered|signed up"
    rb"|logged in)\b"
)

_ABBREVIATIONS = frozenset(
    b"no nos a c acct ac mr mrs ms dr sh smt st ph tel mob id dt b d o reg regd approx".split()
)


def _merged(own: list[Finding], more: list[Finding]) -> list[Finding]:
    """``own`` plus those of ``more`` that overlap none of them, in order."""
    taken = _Spans([(f.start, f.end) for f in own])
    kept = [f for f in more if not taken.overlaps(f.start, f.end)]
    return sorted(own + kept, key=lambda f: f.start) if kept else own


class _Spans:
    """Spans (start, end), any order, overlapping or not: whether one overlaps them, in
    logarithmic time (so a second pass over a long text stays linear)."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        merged: list[list[int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self._starts = [start for start, _ in merged]
        self._ends = [end for _, end in merged]

    def overlaps(self, start: int, end: int) -> bool:
        index = bisect.bisect_left(self._starts, end) - 1
        return index >= 0 and self._ends[index] > start


def _to_characters(data: bytes, findings: Iterable[Finding]) -> Iterator[Finding]:
    """The findings with byte offsets turned into character offsets, in one pass."""
    byte, char = 0, 0
    for finding in findings:
        start = char + len(data[byte : finding.start].decode("utf-8", "surrogatepass"))
        end = start + len(data[finding.start : finding.end].decode("utf-8", "surrogatepass"))
        byte, char = finding.end, end
        yield replace(finding, start=start, end=end)
