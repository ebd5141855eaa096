"""needtoknow's scanner against Microsoft Presidio and against the raw automaton, same corpus.

The corpus is ``needtoknow.detect.corpus`` (seeded: support tickets, billing and KYC
e-mails, web and mail logs, device notes, CSV exports, with gold spans and hard
negatives). Three detectors read the same documents in the same run:

- needtoknow: ``Scanner().scan`` — one RE2 pass, then validation and context scoring;
  against Presidio, ``Scanner(entities=…)`` asked for the entities Presidio detects (its
  automaton then holds only the shapes those need), every entity for the F1 of all;
- Presidio: ``presidio-analyzer``'s ``AnalyzerEngine`` with its predefined recognizers
  plus its Indian ones (Aadhaar, PAN, GSTIN, passport, voter id, vehicle registration),
  asked only for the entities both detect. No spaCy model can be installed from PyPI
  here, so its NLP engine is a blank English spaCy pipeline: Presidio runs regex-only
  (tokens and context words, no NER). Its e-mail recognizer's ``tldextract`` is given
  the suffix list it ships with, so nothing is downloaded;
- raw: the same automaton with no validation at all — the speed limit of one pass.

F1 is scored on the entities both detect (Presidio at its best of score thresholds 0,
0.3 and 0.5) and, for needtoknow, on every entity. Throughput is one core: for
needtoknow and the raw pass the median of three passes after a warm-up pass, for
Presidio one pass after one warm-up document (it is ~50x slower).

Run: ``.venv/bin/python benchmarks/bench_detect.py [--documents 20000] [--presidio 2000]``;
``--independent`` scores both on ``independent_corpus.py`` instead (values from other
libraries' examples and generators: accuracy, not consistency).
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time
from collections.abc import Callable
from importlib.metadata import version

from needtoknow.detect import Scanner
from needtoknow.detect.corpus import Document, documents
from needtoknow.detect.evaluate import Score, Span, evaluate, key, overall, scanned

SHARED = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IP_ADDRESS",
    "MAC_ADDRESS",
    "IN_AADHAAR",
    "IN_PAN",
    "IN_GSTIN",
    "IN_PASSPORT",
    "IN_VOTER",
    "IN_VEHICLE_REGISTRATION",
)


def presidio() -> Callable[[Document, float], list[Span]]:
    import spacy
    import tldextract
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        InAadhaarRecognizer,
        InGstinRecognizer,
        InPanRecognizer,
        InPassportRecognizer,
        InVehicleRegistrationRecognizer,
        InVoterRecognizer,
    )

    offline = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    tldextract.tldextract.TLD_EXTRACTOR = offline  # what tldextract.extract() calls

    class BlankEnglish(SpacyNlpEngine):  # type: ignore[misc,unused-ignore]
        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}  # type: ignore[assignment]

    nlp = BlankEnglish(models=[{"lang_code": "en", "model_name": "blank"}])
    nlp.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"])
    for recognizer in (
        InAadhaarRecognizer,
        InGstinRecognizer,
        InPanRecognizer,
        InPassportRecognizer,
        InVehicleRegistrationRecognizer,
        InVoterRecognizer,
    ):
        registry.add_recognizer(recognizer())
    engine = AnalyzerEngine(nlp_engine=nlp, registry=registry, supported_languages=["en"])

    def analyze(doc: Document, threshold: float) -> list[Span]:
        results = engine.analyze(
            doc.text, language="en", entities=list(SHARED), score_threshold=threshold
        )
        return [(r.start, r.end, r.entity_type) for r in results]

    return analyze


def timed(detect: Callable[[Document], object], docs: list[Document], rounds: int = 1) -> float:
    """Median seconds of ``rounds`` passes over ``docs``."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for doc in docs:
            detect(doc)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def raw_pass(scanner: Scanner) -> Callable[[Document], int]:
    """The scanner's own automaton run to the end of each text, nothing validated."""
    step = scanner.automaton.next

    def run(doc: Document) -> int:
        data, pos, found = doc.text.encode(), 0, 0
        while (match := step(data, pos, len(data))) is not None:
            pos, found = match[2], found + 1
        return found

    return run


def row(name: str, seconds: float, docs: list[Document], f1: Score | None) -> str:
    megabytes = sum(len(d.text.encode()) for d in docs) / 1e6
    f1_text = f"F1 {f1.f1:.4f} (P {f1.precision:.4f} R {f1.recall:.4f})" if f1 else ""
    return (
        f"{name:>11}: {megabytes / seconds:8.2f} MB/s, {len(docs) / seconds:9.0f} docs/s "
        f"over {len(docs)} docs, {seconds:6.2f} s  {f1_text}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--presidio", type=int, default=2_000, help="documents Presidio reads")
    parser.add_argument(
        "--independent",
        action="store_true",
        help="the corpus written without looking at the scanner (independent_corpus.py)",
    )
    args = parser.parse_args()
    if args.independent:
        from independent_corpus import documents as independent

        docs = independent()
        sample = random.Random(7).sample(docs, min(len(docs), args.presidio))
        print(f"corpus: independent_corpus.py, {len(docs)} documents")
    else:
        docs = list(documents(args.documents))
        sample = docs[: args.presidio]
    scanner = Scanner()
    shared = Scanner(entities=SHARED)  # Presidio's entities only: the same work asked

    ours = scanned(scanner)  # as `ntk scan` reads each kind (CSV cell by cell): for F1

    def ours_text(doc: Document) -> list[Span]:  # raw text, like the raw pass: for speed
        return [(f.start, f.end, key(f.entity, f.masked)) for f in scanner.scan(doc.text)]

    def ours_shared(doc: Document) -> list[Span]:  # the same raw text Presidio is given
        return [(f.start, f.end, key(f.entity, f.masked)) for f in shared.scan(doc.text)]

    print(
        f"machine: {platform.machine()}, CPython {platform.python_version()}, one core; "
        f"presidio-analyzer {version('presidio-analyzer')} (regex-only: blank spaCy "
        f"{version('spacy')} pipeline), google-re2 {version('google-re2')}"
    )
    timed(ours_text, docs)  # warm up: RE2's DFA cache, the phone-validity cache
    ours_all = timed(ours_text, docs, rounds=3)
    raw_all = timed(raw_pass(scanner), docs, rounds=3)
    raw_shared = timed(raw_pass(shared), sample, rounds=3)
    timed(ours_shared, sample)
    ours_sample = timed(ours_shared, sample, rounds=3)
    analyze = presidio()
    analyze(sample[0], 0.0)  # load once outside the clock
    presidio_sample = timed(lambda doc: analyze(doc, 0.0), sample)

    shared_ours = overall(evaluate(ours_shared, sample, SHARED))

    def at(threshold: float) -> Callable[[Document], list[Span]]:
        return lambda doc: analyze(doc, threshold)

    per_threshold = {t: evaluate(at(t), sample, SHARED) for t in (0.0, 0.3, 0.5)}
    best = max(per_threshold, key=lambda t: overall(per_threshold[t]).f1)
    shared_presidio = overall(per_threshold[best])
    everything = evaluate(ours, docs)

    print(row("needtoknow", ours_all, docs, overall(everything)) + "  (every entity)")
    print(row("raw pass", raw_all, docs, None) + "  (no validation: the limit)")
    print(row("needtoknow", ours_sample, sample, shared_ours) + "  (shared entities)")
    print(row("Presidio", presidio_sample, sample, shared_presidio) + f"  (threshold {best})")
    speedup = presidio_sample / ours_sample
    print(f"throughput: {speedup:.1f}x Presidio (goal ≥ 50x)")
    print(
        f"within {ours_all / raw_all:.2f}x of the raw single pass, every entity; "
        f"{ours_sample / raw_shared:.2f}x for the shared entities (goal ≤ 3x)"
    )
    print("per entity, shared set (needtoknow F1 vs Presidio F1):")
    mine = evaluate(ours_shared, sample, SHARED)
    for entity in SHARED:
        theirs = per_threshold[best].get(entity, Score(0, 0, 0))
        ours_score = mine.get(entity, Score(0, 0, 0))
        print(f"  {entity:<24} {ours_score.f1:.4f}  vs  {theirs.f1:.4f}")
    print("per entity, every entity (needtoknow):")
    for entity, score in everything.items():
        print(f"  {entity:<24} F1 {score.f1:.4f}  P {score.precision:.4f}  R {score.recall:.4f}")


if __name__ == "__main__":
    main()
