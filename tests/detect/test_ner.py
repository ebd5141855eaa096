"""The optional NER back end: a real spaCy pipeline (rules, no model download) adds names."""

from __future__ import annotations

import subprocess
import sys
from typing import cast

import pytest
import spacy
from spacy.pipeline import EntityRuler

from needtoknow.detect import Scanner
from needtoknow.detect.ner import SpacyNames


def pipeline() -> spacy.language.Language:
    nlp = spacy.blank("en")
    ruler = cast(EntityRuler, nlp.add_pipe("entity_ruler"))
    ruler.add_patterns([{"label": "PERSON", "pattern": [{"TEXT": "Xalak"}, {"TEXT": "Oak"}]}])
    return nlp


def test_names_the_gazetteer_lacks_come_from_the_pipeline() -> None:
    text = "Ticket from Xalak Oak, mail asha@example.in"
    assert [f.entity for f in Scanner().scan(text)] == ["EMAIL_ADDRESS"]
    found = Scanner(names=SpacyNames(pipeline())).scan(text)
    assert [(f.entity, text[f.start : f.end], f.validator) for f in found] == [
        ("PERSON", "Xalak Oak", "spacy:pipeline"),
        ("EMAIL_ADDRESS", "asha@example.in", "email_structure"),
    ]


def test_the_scanners_own_findings_win_where_they_overlap() -> None:
    nlp = spacy.blank("en")
    cast(EntityRuler, nlp.add_pipe("entity_ruler")).add_patterns(
        [{"label": "PERSON", "pattern": "asha"}]
    )
    text = "mail asha@example.in"
    found = Scanner(names=SpacyNames(nlp)).scan(text)
    assert [f.entity for f in found] == ["EMAIL_ADDRESS"]


def test_a_pipeline_without_ner_is_refused() -> None:
    with pytest.raises(ValueError, match="no ner"):
        SpacyNames(spacy.blank("en"))


def test_the_default_scanner_imports_no_spacy() -> None:
    code = "import sys; from needtoknow.detect import Scanner; Scanner().scan('x'); "
    code += "print('spacy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
