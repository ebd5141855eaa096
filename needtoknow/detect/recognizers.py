"""Recognizers users define: their own entities (an employee id, a customer number), more
forms of ours, and text to ignore (a ticket number that looks like an Aadhaar).

A recognizer is RE2 patterns with scores, or a deny-list of exact words and phrases,
plus context words and a check digit by name. Each becomes alternatives of the scanner's
one automaton — ahead of the built-in shapes, so where both match at the same place the
user's wins — and a candidate is judged like any other: the check digit, then the words
before it raise its score. An ``ignore`` recognizer's matches are read past: nothing in
them is reported.

Files are YAML (or JSON) in this module's schema (``ntk scan --recognizers FILE``;
docs/recognizers.md, with examples), or Presidio's ad-hoc recognizer JSON — a list, or
the body of an ``/analyze`` request with ``ad_hoc_recognizers`` — so users bring theirs.
Patterns must be RE2: no lookaround or backreferences (linear time is what keeps a scan
of hostile input cheap); Presidio's patterns that use them are refused by name.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import re2
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticError

from needtoknow.detect.entities import ENTITIES
from needtoknow.errors import ValidationError

Validator = Literal[
    "luhn", "verhoeff", "damm", "iso7064_mod11_2", "iso7064_mod37_2", "iso7064_mod97_10"
]
_ENTITY = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")


class Pattern(BaseModel):
    """One RE2 pattern and the score of what it matches (before context)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    regex: str = Field(min_length=1, max_length=4096)
    score: float = Field(0.6, ge=0, le=1)

    @field_validator("regex")
    @classmethod
    def _re2(cls, regex: str) -> str:
        options = re2.Options()
        options.max_mem = 8 << 20
        options.log_errors = False
        try:
            program = re2.compile(regex, options)
        except re2.error as exc:
            hint = " (RE2 has no lookaround or backreferences)" if "(?<" in regex else ""
            raise ValueError(f"not RE2 syntax: {exc}{hint}") from None
        if _NAMED_GROUP.search(regex):
            raise ValueError("named groups are not used: write (?:…)")
        if _anchored(regex):
            raise ValueError(
                "no anchors (^, $, \\A, \\z): a pattern is looked for anywhere in a line"
            )
        for sample in _EMPTY_SAMPLES:
            found = program.search(sample)
            if found is not None and found.start() == found.end():
                raise ValueError("can match empty text: every part of it optional")
        return regex


class Recognizer(BaseModel):
    """A user's recognizer: what it reports (``entity`` and ``category``) or ``ignore``,
    found by ``patterns`` or ``deny_list``, raised by ``context``, checked by
    ``validator``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    entity: str | None = None
    category: str | None = None
    ignore: bool = False
    patterns: tuple[Pattern, ...] = ()
    deny_list: tuple[str, ...] = ()
    deny_list_score: float = Field(0.6, ge=0, le=1)
    case_sensitive: bool = False
    context: tuple[str, ...] = ()
    validator: Validator | None = None

    @model_validator(mode="after")
    def _whole(self) -> Recognizer:
        if self.ignore == (self.entity is not None):
            raise ValueError("give an entity, or ignore: true (not both)")
        if self.entity is not None and not _ENTITY.match(self.entity):
            raise ValueError("entity: UPPER_CASE letters, digits and _ (e.g. EMPLOYEE_ID)")
        if self.entity is not None and self.entity not in ENTITIES and self.category is None:
            raise ValueError(
                f"category: {self.entity} is new; give its category (one of "
                f"{', '.join(sorted(_categories()))})"
            )
        if self.entity in ENTITIES and self.category not in (None, ENTITIES[self.entity].category):
            raise ValueError(f"category: {self.entity} is {ENTITIES[self.entity].category}")
        if self.category is not None and self.category not in _categories():
            raise ValueError(f"category: one of {', '.join(sorted(_categories()))}")
        if not self.patterns and not self.deny_list:
            raise ValueError("give patterns, a deny_list, or both")
        if any(not word.strip() for word in self.deny_list):
            raise ValueError("deny_list: an empty word")
        return self

    def shapes(self, index: int) -> dict[str, str]:
        """Its alternatives of the automaton, by shape name: one per pattern, one for
        the deny-list."""
        shapes = {f"u{index}p{n}": p.regex for n, p in enumerate(self.patterns)}
        if self.deny_list:
            words = "|".join(_bounded(word) for word in self.deny_list)
            shapes[f"u{index}d"] = words if self.case_sensitive else f"(?i:{words})"
        return shapes

    def score_of(self, shape: str) -> float:
        """The score of what this shape of it matched."""
        if shape.endswith("d"):
            return self.deny_list_score
        return self.patterns[int(shape.rsplit("p", 1)[1])].score

    def check(self, value: str) -> bool:
        """Whether the match passes the recognizer's check digit (if it has one)."""
        if self.validator is None:
            return True
        # the check digits of digits alone read the digits; ISO 7064's letters too
        kept = r"\D" if self.validator in ("luhn", "verhoeff", "damm") else r"[\W_]"
        return _checks()[self.validator](re.sub(kept, "", value).upper())


class RecognizerFile(BaseModel):
    """A file of recognizers (YAML or JSON): ``recognizers:`` and a list."""

    model_config = ConfigDict(extra="forbid")

    recognizers: tuple[Recognizer, ...] = Field(min_length=1)


def _bounded(word: str) -> str:
    """The word as RE2 text, held to word boundaries where it starts or ends with an
    ASCII letter or digit (RE2's ``\b`` knows no other: "Zoë" gets none after it, and
    "Mr." ends with neither)."""
    before = r"\b" if re.match(r"[A-Za-z0-9_]", word) else ""
    after = r"\b" if re.search(r"[A-Za-z0-9_]$", word) else ""
    return before + re.escape(word) + after


_NAMED_GROUP = re.compile(r"(?<!\\)\(\?P?<\w+>")
_EMPTY_SAMPLES = ("", " ", "a", "1", "a b", "-", "\n")


def _anchored(regex: str) -> bool:
    """Whether the pattern uses ^, $, \\A or \\z outside a character class."""
    escaped = in_class = False
    for character in regex:
        if escaped:
            if character in "Az" and not in_class:
                return True
            escaped = False
        elif character == "\\":
            escaped = True
        elif character == "[":
            in_class = True
        elif character == "]":
            in_class = False
        elif character in "^$" and not in_class:
            return True
    return False


@functools.cache
def _categories() -> frozenset[str]:
    """The categories findings carry (what ``ntk scan --fail-on`` takes)."""
    return frozenset(entity.category for entity in ENTITIES.values())


@functools.cache
def _checks() -> dict[str, Callable[[str], bool]]:
    from stdnum import damm, luhn, verhoeff
    from stdnum.iso7064 import mod_11_2, mod_37_2, mod_97_10

    return {
        "luhn": luhn.is_valid,
        "verhoeff": verhoeff.is_valid,
        "damm": damm.is_valid,
        "iso7064_mod11_2": mod_11_2.is_valid,
        "iso7064_mod37_2": mod_37_2.is_valid,
        "iso7064_mod97_10": mod_97_10.is_valid,
    }


def load(path: Path) -> tuple[Recognizer, ...]:
    """The recognizers in a file: ours (YAML or JSON) or Presidio's ad-hoc JSON.
    Raises ValidationError naming the first thing wrong and where."""
    try:
        data = yaml.safe_load(path.read_text("utf-8"))  # JSON is YAML too
    except OSError as exc:
        raise ValidationError("--recognizers", "detect", "unreadable", exc.strerror or "") from None
    except UnicodeDecodeError:
        raise ValidationError("--recognizers", "detect", "not_text", "UTF-8 YAML or JSON") from None
    except yaml.YAMLError as exc:
        detail = str(exc).splitlines()[0]
        raise ValidationError("--recognizers", "detect", "yaml", detail) from None
    return parse(data)


def parse(data: Any) -> tuple[Recognizer, ...]:
    """:func:`load` of data already read."""
    presidio = _from_presidio(data)
    try:
        if presidio is None:
            return RecognizerFile.model_validate(data).recognizers
        found = []
        for index, item in enumerate(presidio):
            where = f"ad_hoc_recognizers.{index}"
            found.append(Recognizer.model_validate(item, context={"where": where}))
        return tuple(found)
    except PydanticError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        if presidio is not None:
            where = f"ad_hoc_recognizers.{len(found)}" + (f".{where}" if where else "")
        message = error["msg"].removeprefix("Value error, ")
        raise ValidationError(where or "recognizers", "detect", "recognizer", message) from None


def _from_presidio(data: Any) -> list[dict[str, Any]] | None:
    """Presidio's ad-hoc recognizers in our fields, or None when the data is not
    theirs. Their ``supported_entity`` is our ``entity``; a pattern's ``name`` and
    ``score`` carry over; ``supported_language`` is dropped (we read any language)."""
    if isinstance(data, dict) and "ad_hoc_recognizers" in data:
        data = data["ad_hoc_recognizers"]  # an /analyze body: its text and flags unused
    if not isinstance(data, list) or not all(
        isinstance(item, dict) and "supported_entity" in item for item in data
    ):
        return None
    dropped = {"supported_language", "supported_languages", "version", "type"}
    converted = []
    for item in data:
        ours = {k: v for k, v in item.items() if k not in dropped}
        ours["entity"] = ours.pop("supported_entity")
        ours.setdefault("name", str(item["supported_entity"]).lower())
        ours.setdefault("deny_list_score", 1.0)  # Presidio's default
        # Presidio compiles with IGNORECASE | DOTALL (and MULTILINE: anchors are refused)
        patterns = ours.get("patterns")
        if isinstance(patterns, list):
            ours["patterns"] = [
                {**p, "regex": f"(?is:{p['regex']})"} if isinstance(p, dict) and "regex" in p else p
                for p in patterns
            ]
        converted.append(ours)
    return converted


def schema() -> str:
    """The JSON Schema of a recognizer file (docs/recognizers.md prints it)."""
    return json.dumps(RecognizerFile.model_json_schema(), indent=2)
