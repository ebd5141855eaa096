"""Precision, recall and F1 of a detector against the corpus's gold spans.

A prediction counts as found when it overlaps a gold span of the same entity (each gold
span is found at most once): detectors draw boundaries differently (``+91`` in or out
of a phone number), and overlap keeps the comparison about what was found. Masked
values are their own class (``CREDIT_CARD:masked``), so a detector that finds only
whole numbers is not scored on masked ones it was never meant to find.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from needtoknow.detect.corpus import Document, Gold
from needtoknow.detect.entities import ENTITIES
from needtoknow.detect.files import scan_text
from needtoknow.detect.scanner import Scanner

Span = tuple[int, int, str]  # start, end, entity key
Detector = Callable[[Document], Iterable[Span]]


@dataclass(frozen=True)
class Score:
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        gold = self.true_positives + self.false_negatives
        return self.true_positives / gold if gold else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def key(entity: str, masked: bool) -> str:
    return f"{entity}:masked" if masked else entity


def _gold_key(gold: Gold) -> Span:
    return gold.start, gold.end, key(gold.entity, gold.masked)


@dataclass(frozen=True)
class Mistake:
    """A false positive or a miss, where it was: the document's number and the text
    around it (what a person needs to see why) — with every labelled value and the
    mistake itself shown as ``[ENTITY]`` unless the values were asked for."""

    kind: str  # false_positive, missed
    entity: str
    document: int
    start: int
    end: int
    context: str

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "entity": self.entity,
            "document": self.document,
            "start": self.start,
            "end": self.end,
            "context": self.context,
        }


CONTEXT = 30  # characters shown each side of a mistake


def evaluate(
    detector: Detector,
    docs: Iterable[Document],
    entities: Iterable[str] | None = None,
    mistakes: list[Mistake] | None = None,
    show_values: bool = False,
) -> dict[str, Score]:
    """Per entity key, over ``docs``; ``entities`` limits which keys are scored (others'
    predictions are ignored, not counted as false positives). ``mistakes``, when
    given, receives every false positive and miss, its values masked unless
    ``show_values``."""
    counts: Counter[tuple[str, str]] = Counter()
    wanted = None if entities is None else set(entities)

    def note(kind: str, number: int, doc: Document, start: int, end: int, entity: str) -> None:
        if mistakes is not None:
            around = _context(doc, start, end, entity, show_values)
            mistakes.append(Mistake(kind, entity, number, start, end, around))

    for number, doc in enumerate(docs, 1):
        gold = [_gold_key(g) for g in doc.gold]
        predicted = list(detector(doc))
        if wanted is not None:
            gold = [g for g in gold if g[2] in wanted]
            predicted = [p for p in predicted if p[2] in wanted]
        unmatched = list(gold)
        for start, end, entity in predicted:
            match = next(
                (g for g in unmatched if g[2] == entity and g[0] < end and start < g[1]), None
            )
            if match is None:
                counts[entity, "fp"] += 1
                note("false_positive", number, doc, start, end, entity)
            else:
                unmatched.remove(match)
                counts[entity, "tp"] += 1
        for start, end, entity in unmatched:
            counts[entity, "fn"] += 1
            note("missed", number, doc, start, end, entity)
    names = sorted({name for name, _ in counts})
    return {n: Score(counts[n, "tp"], counts[n, "fp"], counts[n, "fn"]) for n in names}


def _context(doc: Document, start: int, end: int, entity: str, show_values: bool) -> str:
    """The text around [start, end), one line, non-printing characters escaped; every
    labelled value in it and the span itself masked unless ``show_values``."""
    low, high = max(0, start - CONTEXT), min(len(doc.text), end + CONTEXT)
    spans = [(start, end, entity)] + [(g.start, g.end, g.entity) for g in doc.gold]
    pieces, at = [], low
    for s, e, name in sorted(spans):
        if show_values or e <= at or s >= high:
            continue
        pieces += [doc.text[at : max(at, s)], f"[{name}]"]
        at = max(at, e)
    pieces.append(doc.text[at:high])
    text = "".join(pieces)
    return "".join(
        c if c.isprintable() else " " if c in "\n\t\r" else f"\\x{ord(c):02x}" for c in text
    )


def scanned(scanner: Scanner) -> Detector:
    """The scanner as :func:`scan_file` would run it on each document (CSV cell by cell,
    under its column names)."""

    def detect(doc: Document) -> list[Span]:
        found = scan_text(doc.text, scanner, doc.format)
        return [(f.start, f.end, key(f.entity, f.masked)) for f in found]

    return detect


def by_category(scores: Mapping[str, Score]) -> dict[str, Score]:
    """The entity scores summed per seed category."""
    totals: dict[str, Counter[str]] = {}
    for name, score in scores.items():
        category = ENTITIES[name.split(":")[0]].category
        total = totals.setdefault(category, Counter())
        total.update(tp=score.true_positives, fp=score.false_positives, fn=score.false_negatives)
    return {c: Score(t["tp"], t["fp"], t["fn"]) for c, t in sorted(totals.items())}


def overall(scores: Mapping[str, Score]) -> Score:
    """Micro-averaged over every entity key."""
    return Score(
        sum(s.true_positives for s in scores.values()),
        sum(s.false_positives for s in scores.values()),
        sum(s.false_negatives for s in scores.values()),
    )
