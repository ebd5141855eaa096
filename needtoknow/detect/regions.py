"""Which country the words before a number name, and how closely: so a national-format
telephone number ("my UK number is 020 7946 0958") is read with that country's numbering
plan instead of India's.

The names are ``phonenumbers``' own and the Unicode CLDR's (Babel's), for every region
phonenumbers can parse, written into ``data/countries.json`` by
``scripts/build_country_names.py`` (the geocoding data is 100 MB: not loaded to read a
sentence), plus the abbreviations and adjectives people write instead. A country named
is not enough to make a number a phone — many plans accept most digit runs — so
:func:`named` also says whether the name stands right before a word for a telephone
("UK number", "Dubai office", "US mobile").
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

from needtoknow.detect.automaton import Finder

DATA = Path(__file__).parent / "data" / "countries.json"
# Abbreviations, adjectives and other names (lower case: the words arrive lower-cased).
OTHER_NAMES = {
    "uk": "GB",
    "u.k.": "GB",
    "britain": "GB",
    "british": "GB",
    "england": "GB",
    "us": "US",
    "u.s.": "US",
    "usa": "US",
    "america": "US",
    "american": "US",
    "uae": "AE",
    "emirati": "AE",
    "dubai": "AE",
    "australian": "AU",
    "canadian": "CA",
    "german": "DE",
    "french": "FR",
    "singaporean": "SG",
    "israeli": "IL",
    "chinese": "CN",
    "japanese": "JP",
    "korean": "KR",
    "italian": "IT",
    "spanish": "ES",
    "dutch": "NL",
    "belgian": "BE",
    "swiss": "CH",
    "austrian": "AT",
    "swedish": "SE",
    "norwegian": "NO",
    "danish": "DK",
    "irish": "IE",
    "portuguese": "PT",
    "greek": "GR",
    "polish": "PL",
    "russian": "RU",
    "turkish": "TR",
    "brazilian": "BR",
    "mexican": "MX",
    "pakistani": "PK",
    "bangladeshi": "BD",
    "nepali": "NP",
    "sri lankan": "LK",
    "saudi": "SA",
    "qatari": "QA",
    "omani": "OM",
    "kuwaiti": "KW",
    "malaysian": "MY",
    "indonesian": "ID",
    "thai": "TH",
    "vietnamese": "VN",
    "filipino": "PH",
    "egyptian": "EG",
    "kenyan": "KE",
    "nigerian": "NG",
    "south african": "ZA",
    "hong kong sar china": "HK",
}
# Names that are also everyday words: they count only right before a telephone word.
ONLY_BEFORE_A_PHONE_WORD = frozenset(
    {"us", "jordan", "turkey", "chad", "georgia", "french", "polish", "swiss", "dutch"}
)
_PHONE_WORD = (
    r"(?:\s+(?:mobile|cell|phone|landline|office|fax|helpline|support))?"
    r"\s+(?:number|no\.?|mobile|cell|phone|landline|line|office|helpline)\b"
)
_WORD = re.compile(r"[^\W\d_]+(?:\.[^\W\d_]\.?)*")


@dataclass(frozen=True)
class Named:
    region: str
    before_phone_word: bool  # "UK number", "Dubai office": said of a telephone


@functools.cache
def _listed() -> dict[str, list[str]]:
    """Each region's names, as written in the data file."""
    listed: dict[str, list[str]] = json.loads(DATA.read_text("utf-8"))
    return listed


@functools.cache
def _names() -> dict[str, str]:
    listed = _listed()
    names = {
        name.lower().replace("&", "and"): region  # "&" is matched as "and" (_spelled)
        for region, spelled in listed.items()
        for name in spelled
    }
    return {**names, **OTHER_NAMES}


@functools.cache
def _first_words() -> frozenset[str]:
    """The first word of every name: most text names no country, and looking each word
    up in a set says so before any pattern runs."""
    return frozenset(_WORD.findall(name)[0] for name in _names() if _WORD.findall(name))


@functools.cache
def _pattern() -> re.Pattern[str]:
    return re.compile(rf"(?<!\w)({_spelled()})(?!\w)(?P<phone>{_PHONE_WORD})?")


@functools.cache
def _finder() -> Finder:
    return Finder(rf"(?i)\b(?:{_spelled()})")


@functools.cache
def _spelled() -> str:
    """Every name as an alternative, longest first, "and" also written "&"."""
    return "|".join(
        re.escape(name).replace(r"\ and\ ", r"\ (?:and|&)\ ")
        for name in sorted(_names(), key=len, reverse=True)
    )


# Columns and keys that say which country a row or object is about.
COUNTRY_FIELDS = frozenset({"country", "country_code", "countrycode", "country_name", "nation"})


def country_of(field: str, value: str) -> str | None:
    """The country a ``country`` column's or key's value names, as words :func:`named`
    reads ("GB" and "United Kingdom" both as "united kingdom"), or None."""
    if field.strip().lower().replace(" ", "_") not in COUNTRY_FIELDS:
        return None
    written = value.strip().lower()
    region = _names().get(written, written.upper())  # "us" is a word too: by its region
    spelled = _listed().get(region)
    return spelled[0].lower().replace("&", "and") if spelled else None


def mentions(data: bytes) -> list[tuple[int, int]]:
    """Where text (UTF-8) may name a country, in any case: more places than
    :func:`named` accepts, never fewer. Most text names none, and a number too short
    to be read without a country is looked for only after one (scanner.py)."""
    return _finder().spans(data)


@functools.cache
def _runs_of_words() -> frozenset[str]:
    """Every run of two or more words inside a name ("jan mayen", "hong kong")."""
    runs: set[str] = set()
    for name in _names():
        words = name.replace("&", "and").split()
        runs.update(
            " ".join(words[i:j]) for i in range(len(words)) for j in range(i + 2, len(words) + 1)
        )
    return frozenset(runs)


def in_a_name(words: str) -> bool:
    """Whether these words (lower case, two or more) stand in a country's name."""
    return words in _runs_of_words()


@functools.lru_cache(maxsize=1 << 12)
def named(words: str) -> Named | None:
    """The last country named in ``words`` (lower case), or None."""
    if _first_words().isdisjoint(_WORD.findall(words)):
        return None
    last = None
    for match in _pattern().finditer(words):
        name = match[1].replace("&", "and")
        before_phone_word = match["phone"] is not None
        if name in ONLY_BEFORE_A_PHONE_WORD and not before_phone_word:
            continue
        last = Named(_names()[name], before_phone_word)
    return last
