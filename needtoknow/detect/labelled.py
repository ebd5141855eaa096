"""Labelled text written by someone else, read into the evaluator's documents: so the
scanner is scored on corpora it was not written against (``ntk eval --corpus``).

Three shapes, one document a line (JSON Lines; a JSON array of them is read too):

- ``ntk``: ``{"text": …, "spans": [{"start", "end", "entity", "masked"?}], "format"?:
  "text" | "csv"}`` — entity names as ``ntk scan`` reports them;
- ``presidio``: presidio-research's ``InputSample``: ``{"full_text": …, "spans":
  [{"entity_type", "start_position", "end_position", …}]}``;
- ``spacy``: ``{"text": …, "entities": [[start, end, label], …]}``, or spaCy's
  training tuple ``[text, {"entities": [[start, end, label], …]}]``.

Labels are mapped to ours by name (Presidio's types mostly are ours) and through
``mapping`` (``{"PER": "PERSON"}``); a label that maps to nothing is left out of the
scores and counted, so a corpus of other entities never reads as misses.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from needtoknow.detect.corpus import Document, Gold
from needtoknow.detect.entities import ENTITIES
from needtoknow.errors import ValidationError
from needtoknow.guards.names import unknown

FORMATS = ("ntk", "presidio", "spacy")
# Common labels of other tools that mean one of our entities.
KNOWN_LABELS = {
    "PER": "PERSON",
    "PHONE": "PHONE_NUMBER",
    "EMAIL": "EMAIL_ADDRESS",
    "IP": "IP_ADDRESS",
    "CREDIT_CARD_NUMBER": "CREDIT_CARD",
    "STREET_ADDRESS": "ADDRESS",
}


@dataclass
class Labelled:
    """The documents read, and the labels left out because they map to nothing."""

    documents: list[Document] = field(default_factory=list)
    unmapped: Counter[str] = field(default_factory=Counter)


def read(path: Path, fmt: str, mapping: Mapping[str, str] | None = None) -> Labelled:
    """Every document of the file at ``path`` in ``fmt``; ValidationError naming the
    line of the first that cannot be read."""
    if fmt not in FORMATS:
        raise ValidationError("format", "corpus", "unknown", unknown("format", fmt, FORMATS))
    labels = {**KNOWN_LABELS, **(mapping or {})}
    for target in labels.values():
        if target not in ENTITIES:
            detail = unknown("entity", target, ENTITIES)
            raise ValidationError("map", "corpus", "unknown_entity", detail)
    out = Labelled()
    for where, item in _items(path):
        try:
            text, spans, kind = _parsed(item, fmt)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            raise ValidationError(where, "corpus", fmt, _SHAPES[fmt]) from None
        gold = []
        for start, end, label, masked in spans:
            entity = label if label in ENTITIES else labels.get(label)
            if entity is None:
                out.unmapped[label] += 1
                continue
            if not 0 <= start < end <= len(text):
                raise ValidationError(where, "corpus", "span", "0 <= start < end <= len(text)")
            gold.append(Gold(start, end, entity, masked))
        out.documents.append(Document(kind, text, gold))
    return out


_SHAPES = {
    "ntk": '{"text", "spans": [{"start", "end", "entity"}]}',
    "presidio": '{"full_text", "spans": [{"entity_type", "start_position", "end_position"}]}',
    "spacy": '{"text", "entities": [[start, end, label]]} or [text, {"entities": …}]',
}


def _items(path: Path) -> Iterator[tuple[str, Any]]:
    """(where, document): "item N" of a JSON array of documents, else "line N" of JSON
    Lines. A whole file that parses as one spaCy ``[text, {…}]`` pair is one line."""
    text = path.read_text("utf-8-sig")
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, list) and not _spacy_pair(whole):
        for number, item in enumerate(whole, 1):  # presidio-research saves such an array
            yield f"item {number}", item
        return
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                yield f"line {number}", json.loads(line)
            except json.JSONDecodeError:
                raise ValidationError(f"line {number}", "corpus", "json") from None


def _spacy_pair(value: list[Any]) -> bool:
    return len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], dict)


def _parsed(item: Any, fmt: str) -> tuple[str, list[tuple[int, int, str, bool]], str]:
    """(text, [(start, end, label, masked)], document kind)."""
    if fmt == "ntk":
        kind = "csv_export" if item.get("format") == "csv" else "labelled"
        spans = [
            (_offset(s["start"]), _offset(s["end"]), str(s["entity"]), _flag(s.get("masked")))
            for s in item["spans"]
        ]
        return _text(item["text"]), spans, kind
    if fmt == "presidio":
        spans = [
            (_offset(s["start_position"]), _offset(s["end_position"]), str(s["entity_type"]), False)
            for s in item.get("spans") or []
        ]
        return _text(item["full_text"]), spans, "labelled"
    text, annotations = (item[0], item[1]) if isinstance(item, list) else (item["text"], item)
    spans = [(_offset(s), _offset(e), str(label), False) for s, e, label in annotations["entities"]]
    return _text(text), spans, "labelled"


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("text")
    return value


def _offset(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("an offset is a whole number")
    return value


def _flag(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    raise TypeError("masked is true or false")
