"""An optional named-entity back end: a spaCy pipeline adds the names the gazetteer lacks.

Any loaded pipeline with an ``ner`` or ``entity_ruler`` component will do — a model
installed from PyPI (``spacy.load`` only loads installed packages; it never downloads),
or rules of a deployment's own. Nothing here is imported by the default scanner, and the
default install needs neither spaCy nor a model.
"""

from __future__ import annotations

from typing import Any

from needtoknow.detect.entities import ENTITIES
from needtoknow.detect.scanner import Finding

# spaCy labels → our entities (its places are not birthplaces or addresses by themselves).
LABELS = {"PERSON": "PERSON", "PER": "PERSON"}


class SpacyNames:
    """Names from a spaCy pipeline, as findings the :class:`Scanner` merges with its own."""

    def __init__(self, nlp: Any, score: float = 0.85) -> None:
        if not any(name in nlp.pipe_names for name in ("ner", "entity_ruler")):
            raise ValueError("the spaCy pipeline has no ner or entity_ruler component")
        self._nlp = nlp
        self._score = score
        self._validator = f"spacy:{nlp.meta.get('name', 'pipeline')}"

    @classmethod
    def load(cls, model: str) -> SpacyNames:
        """An installed model package by name, e.g. ``en_core_web_sm``."""
        import spacy

        return cls(spacy.load(model))

    def __call__(self, text: str) -> list[Finding]:
        found = []
        for span in self._nlp(text).ents:
            entity = LABELS.get(span.label_)
            if entity is not None:
                found.append(
                    Finding(
                        span.start_char,
                        span.end_char,
                        entity,
                        ENTITIES[entity].category,
                        self._score,
                        self._validator,
                    )
                )
        return found
