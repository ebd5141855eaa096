"""Which country the words before a number name: so a national-format telephone number
("my UK number is 020 7946 0958") is read with that country's numbering plan instead of
India's. Country names come from ``phonenumbers``' own geocoding data (every region it
can parse), plus the abbreviations and adjectives people write instead."""

from __future__ import annotations

import functools
import re

import phonenumbers
from phonenumbers import geocoder

# Written in capitals only ("US", not the pronoun "us").
ABBREVIATIONS = {"UK": "GB", "U.K.": "GB", "US": "US", "USA": "US", "U.S.": "US", "UAE": "AE"}
# Adjectives and other names, any case.
OTHER_NAMES = {
    "britain": "GB",
    "british": "GB",
    "england": "GB",
    "america": "US",
    "american": "US",
    "australian": "AU",
    "canadian": "CA",
    "german": "DE",
    "french": "FR",
    "singaporean": "SG",
    "emirati": "AE",
    "dubai": "AE",
    "hong kong sar china": "HK",
}


_WORD = re.compile(r"[A-Za-z]+")


@functools.cache
def _first_words() -> frozenset[str]:
    """The first word of every name and abbreviation, lower case: most text names no
    country, and one set lookup a word says so before any pattern runs."""
    _, _, names = _patterns()
    return frozenset(n.split()[0].strip(".") for n in names) | {
        a.split(".")[0].lower() for a in ABBREVIATIONS
    }


@functools.cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, str]]:
    names = dict(OTHER_NAMES)
    for region in phonenumbers.SUPPORTED_REGIONS:
        example = phonenumbers.example_number(region)
        name = geocoder.country_name_for_number(example, "en") if example else ""
        if name:
            names.setdefault(name.lower(), region)
    spelled = "|".join(
        re.escape(name).replace(r"\ and\ ", r"\ (?:and|&)\ ")
        for name in sorted(names, key=len, reverse=True)
    )
    any_case = re.compile(rf"\b({spelled})\b", re.IGNORECASE)
    capitals = re.compile(
        r"(?<![\w.])("
        + "|".join(map(re.escape, sorted(ABBREVIATIONS, key=len, reverse=True)))
        + r")(?![\w])"
    )
    return any_case, capitals, names


@functools.lru_cache(maxsize=1 << 12)
def named(words: str) -> str | None:
    """The region the last country named in ``words`` stands for, or None."""
    first = _first_words()
    if not any(w.lower() in first for w in _WORD.findall(words)):
        return None
    any_case, capitals, names = _patterns()
    found = [(m.start(), names[m[1].lower().replace("&", "and")]) for m in any_case.finditer(words)]
    found += [(m.start(), ABBREVIATIONS[m[1]]) for m in capitals.finditer(words)]
    return max(found)[1] if found else None
