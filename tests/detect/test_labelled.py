"""``ntk eval --corpus``: the scanner scored on labelled text in other tools' shapes
(ntk, presidio-research's InputSample, spaCy), with the labels mapped to ours, the ones
that map to nothing counted and left out, and every false positive and miss listed with
the text around it. These tests check the harness (a corpus written here proves only
that it reads and scores right; docs/benchmarks.md reports accuracy on corpora written
elsewhere)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from needtoknow.detect.evaluate import Mistake, evaluate, scanned
from needtoknow.detect.labelled import read
from needtoknow.detect.scanner import Scanner
from needtoknow.errors import ValidationError
from tests.conftest import Ntk

PHONE = "+91 98765 43210"
EMAIL = "asha.canary@example.in"


def spans_of(text: str, *pairs: tuple[str, str]) -> list[tuple[int, int, str]]:
    return [(text.index(value), text.index(value) + len(value), label) for value, label in pairs]


def test_the_three_shapes_read_alike(tmp_path: Path) -> None:
    text = f"Call {PHONE} or write to {EMAIL} before Monday."
    found = spans_of(text, (PHONE, "PHONE_NUMBER"), (EMAIL, "EMAIL_ADDRESS"))
    ntk = tmp_path / "ntk.jsonl"
    ntk.write_text(
        json.dumps(
            {"text": text, "spans": [{"start": s, "end": e, "entity": n} for s, e, n in found]}
        )
    )
    presidio = tmp_path / "presidio.json"  # presidio-research saves a JSON array
    presidio.write_text(
        json.dumps(
            [
                {
                    "full_text": text,
                    "spans": [
                        {"entity_type": n, "start_position": s, "end_position": e}
                        for s, e, n in found
                    ]
                    + [{"entity_type": "TITLE", "start_position": 0, "end_position": 4}],
                }
            ]
        )
    )
    spacy = tmp_path / "spacy.jsonl"
    spacy.write_text(json.dumps([text, {"entities": [[s, e, n] for s, e, n in found]}]))
    for path, fmt in ((ntk, "ntk"), (presidio, "presidio"), (spacy, "spacy")):
        labelled = read(path, fmt)
        scores = evaluate(scanned(Scanner()), labelled.documents)
        assert {n: s.f1 for n, s in scores.items()} == {
            "EMAIL_ADDRESS": 1.0,
            "PHONE_NUMBER": 1.0,
        }, fmt
    assert read(presidio, "presidio").unmapped == {"TITLE": 1}


def test_mistakes_are_listed_with_the_text_around_them(tmp_path: Path) -> None:
    text = f"Ms Meera lives in the blue house; her mail is {EMAIL}."
    corpus = tmp_path / "c.jsonl"
    start = text.index("the blue house")
    corpus.write_text(  # the e-mail is left unlabelled; a "person" the scanner cannot see
        json.dumps(
            {"text": text, "spans": [{"start": start, "end": start + 14, "entity": "PERSON"}]}
        )
    )
    mistakes: list[Mistake] = []
    evaluate(scanned(Scanner()), read(corpus, "ntk").documents, mistakes=mistakes)
    kinds = {(m.kind, m.entity) for m in mistakes}
    assert ("false_positive", "EMAIL_ADDRESS") in kinds and ("missed", "PERSON") in kinds
    missed = next(m for m in mistakes if m.kind == "missed")
    assert missed.context == "Ms Meera lives in [PERSON]; her mail is asha.canary@exam"
    assert missed.document == 1  # the labelled value itself is not shown, by default
    shown: list[Mistake] = []
    documents = read(corpus, "ntk").documents
    evaluate(scanned(Scanner()), documents, mistakes=shown, show_values=True)
    assert "the blue house" in next(m for m in shown if m.kind == "missed").context


def test_labels_map_to_our_entities_and_bad_input_is_named(tmp_path: Path) -> None:
    text = f"Ring Ravi on {PHONE}."
    corpus = tmp_path / "s.jsonl"
    corpus.write_text(
        json.dumps({"text": text, "entities": [[*spans_of(text, (PHONE, "TEL"))[0]]]})
    )
    assert read(corpus, "spacy").unmapped == {"TEL": 1}
    mapped = read(corpus, "spacy", {"TEL": "PHONE_NUMBER"})
    assert [g.entity for g in mapped.documents[0].gold] == ["PHONE_NUMBER"]
    with pytest.raises(ValidationError, match="PHONE_NUMBER"):  # the entities are named
        read(corpus, "spacy", {"TEL": "PHONE"})
    with pytest.raises(ValidationError, match="presidio"):
        read(corpus, "brat")
    (tmp_path / "bad.jsonl").write_text('{"text": "x", "spans": [{"start": 0}]}\n')
    with pytest.raises(ValidationError, match="line 1"):
        read(tmp_path / "bad.jsonl", "ntk")


def test_ntk_eval_scores_a_corpus_from_the_command_line(ntk: Ntk, tmp_path: Path) -> None:
    text = f"Call {PHONE}; write to {EMAIL}."
    corpus = tmp_path / "p.jsonl"
    corpus.write_text(
        json.dumps(
            {
                "full_text": text,
                "spans": [
                    {"entity_type": n, "start_position": s, "end_position": e}
                    for s, e, n in spans_of(text, (PHONE, "PHONE_NUMBER"))
                ],
            }
        )
        + "\n"
    )
    report = ntk.json("eval", "--corpus", str(corpus), "--format", "presidio", "--json")
    assert report["documents"] == 1 and report["format"] == "presidio"
    assert [m["kind"] for m in report["mistakes"]] == ["false_positive"]  # the unlabelled e-mail
    assert EMAIL not in json.dumps(report) and PHONE not in json.dumps(report)  # masked
    none = ntk.json(
        "eval", "--corpus", str(corpus), "--format", "presidio", "--mistakes", "0", "--json"
    )
    assert none["mistakes"] == [] and none["mistakes_total"] == 1
    human = ntk("eval", "--corpus", str(corpus), "--format", "presidio").stdout
    assert "false_positive" in human and "EMAIL_ADDRESS" in human
    refused = ntk("eval", "--corpus", str(corpus), "--map", "nope", "--json", expect=5)
    assert json.loads(refused.stderr)["field"] == "map"


def test_odd_but_valid_files_read_and_bad_ones_are_named(tmp_path: Path) -> None:
    text = f"Call {PHONE} now"
    start = text.index(PHONE)
    spacy = tmp_path / "one.jsonl"  # one spaCy pair on one line, written with a space
    spacy.write_text(f'[ "{text}", {{"entities": [[{start}, {start + len(PHONE)}, "PHONE"]]}}]')
    assert [g.entity for g in read(spacy, "spacy").documents[0].gold] == ["PHONE_NUMBER"]
    bom = tmp_path / "bom.jsonl"
    bom.write_text(json.dumps({"text": text, "spans": []}), encoding="utf-8-sig")
    assert len(read(bom, "ntk").documents) == 1
    array = tmp_path / "array.json"
    array.write_text(json.dumps([{"full_text": text, "spans": []}, ["not", "a", "sample"]]))
    with pytest.raises(ValidationError, match="item 2"):
        read(array, "presidio")
    masked = {"start": 0, "end": 4, "entity": "PERSON", "masked": "no"}
    for bad, where in (
        ("[1, 2, 3]\n", "item 1"),  # an array of documents, none of them one
        ('{"text": "x"}\n[1]\n', "line 1"),
        (
            json.dumps({"text": text, "spans": [{**masked, "start": 0.5, "masked": False}]}),
            "line 1",
        ),
        (json.dumps({"text": text, "spans": [masked]}), "line 1"),
    ):
        (tmp_path / "bad.jsonl").write_text(bad)
        with pytest.raises(ValidationError, match=where):
            read(tmp_path / "bad.jsonl", "ntk")
