"""``ntk scan``, ``ntk redact``, ``ntk eval``: find PII in files, take it out, measure."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from needtoknow.cli.common import Json, print_json, reported, show, stderr, stdout
from needtoknow.config import Settings, open_vault
from needtoknow.detect import ENTITIES, Scanner
from needtoknow.detect.automaton import TooLarge
from needtoknow.detect.corpus import documents
from needtoknow.detect.evaluate import Mistake, Score, by_category, evaluate, overall, scanned
from needtoknow.detect.files import (
    Located,
    Skipped,
    Unreadable,
    files_under,
    redact_file,
    redaction_pairs,
    scan_file,
)
from needtoknow.detect.jsonlines import JsonLines
from needtoknow.detect.labelled import FORMATS
from needtoknow.detect.labelled import read as read_labelled
from needtoknow.detect.redact import Redactor
from needtoknow.errors import ValidationError

if TYPE_CHECKING:
    from needtoknow.detect.recognizers import Recognizer

FINDINGS_EXIT = 10  # ntk scan --fail-on: PII of a failing category found, or input skipped
CATEGORIES = sorted({e.category for e in ENTITIES.values()})


Recognizers = Annotated[
    Path | None,
    typer.Option(
        "--recognizers",
        help="Your own recognizers: a YAML file, or Presidio's ad-hoc recognizer JSON "
        "(docs/recognizers.md).",
        dir_okay=False,
    ),
]


def _scanner(
    entity: list[str] | None, threshold: list[str] | None, recognizers: Path | None = None
) -> Scanner:
    own: tuple[Recognizer, ...] = ()
    if recognizers is not None:
        from needtoknow.detect.recognizers import load  # pydantic: only when asked

        own = load(recognizers)
    limits = {}
    for item in threshold or []:
        name, _, value = item.partition("=")
        try:
            limits[name] = float(value)
        except ValueError:
            raise ValidationError("--threshold", "detect", "format", "ENTITY=SCORE") from None
    try:
        return Scanner(thresholds=limits, entities=entity or None, recognizers=own)
    except TooLarge as exc:
        raise ValidationError("--recognizers", "detect", "too_large", str(exc)) from None
    except ValueError as exc:
        raise ValidationError("--entity", "detect", "entity", str(exc)) from None


@contextmanager
def _progress(paths: list[Path], quiet: bool, task: str = "scanning") -> Iterator[Any]:
    """A Rich progress bar over the bytes of every file (on stderr; off when quiet or
    not at a terminal)."""
    total = sum(p.stat().st_size for p in paths if p.is_file())
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=stderr,
        disable=quiet or not stderr.is_terminal,
        transient=True,
    ) as bar:
        bytes_done = bar.add_task(task, total=total or None)
        pending = [0]

        def advance(n: int) -> None:  # Rich costs ~10 µs an update: one per MB, not line
            pending[0] += n
            if pending[0] >= 1 << 20:
                bar.advance(bytes_done, pending[0])
                pending[0] = 0

        yield advance


def _sarif(findings: list[Located]) -> dict[str, Any]:
    """SARIF 2.1.0: one rule per entity, one result per finding, never the value."""
    rules = sorted({f.finding.entity for f in findings})
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "needtoknow",
                        "rules": [
                            {
                                "id": r,
                                "shortDescription": {"text": f"{r} ({ENTITIES[r].category})"},
                            }
                            for r in rules
                        ],
                    }
                },
                "results": [
                    {
                        "ruleId": f.finding.entity,
                        "level": "error" if f.finding.score >= 0.8 else "warning",
                        "message": {
                            "text": f"{f.finding.entity} ({f.finding.category})"
                            + (" already masked" if f.finding.masked else "")
                        },
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": f.path},
                                    "region": {
                                        "startLine": max(1, f.line),
                                        "charOffset": f.finding.start,
                                        "charLength": f.finding.end - f.finding.start,
                                    },
                                }
                            }
                        ],
                    }
                    for f in findings
                ],
            }
        ],
    }


def scan(
    paths: Annotated[list[Path], typer.Argument(help="Files and directories to scan.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON Lines on stdout, one finding per line.")
    ] = False,
    sarif: Annotated[
        Path | None, typer.Option("--sarif", help="Also write a SARIF 2.1.0 report here.")
    ] = None,
    show_values: Annotated[
        bool, typer.Option("--show-values", help="Include the matched text (it is PII).")
    ] = False,
    fail_on: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-on",
            help=f"Exit {FINDINGS_EXIT} if PII of this category is found ('any' for all), "
            "or if anything was skipped unscanned (a file, or lines of one): what was not "
            "read cannot pass.",
        ),
    ] = None,
    entity: Annotated[
        list[str] | None, typer.Option("--entity", help="Only these entity types.")
    ] = None,
    threshold: Annotated[
        list[str] | None, typer.Option("--threshold", help="ENTITY=SCORE minimum score.")
    ] = None,
    recognizers: Recognizers = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Processes to scan with: files, and parts of large text files, at once "
            "(the same findings in the same order as one).",
        ),
    ] = 1,
) -> None:
    """Find PII in files (text, logs, CSV/TSV, JSON, JSON Lines, Parquet, images).

    Gzip too; UTF-8, or UTF-16/32 with a byte-order mark. Unreadable input is reported
    and skipped, and fails --fail-on. The matched text is never printed unless asked."""
    with reported(as_json):
        scanner = _scanner(entity, threshold, recognizers)
        failing = set(fail_on or [])
        if failing - {"any", *CATEGORIES}:
            raise ValidationError("--fail-on", "detect", "category", "a seed category or 'any'")
    files = list(files_under(paths))
    kept: list[Located] = []
    counts: Counter[tuple[str, str]] = Counter()
    skipped: list[Skipped] = []
    lines = JsonLines(show_values)
    with _progress(files, quiet=as_json) as advance:
        if workers > 1:
            from needtoknow.detect.parallel import scan_in_parallel

            for batch in scan_in_parallel(
                files,
                workers,
                scanner.entities,
                scanner.thresholds,
                scanner.recognizers,
                as_json=as_json,
                show_values=show_values,
                keep=sarif is not None,
                progress=advance,
            ):
                sys.stdout.write(batch.json_lines)
                counts.update(batch.counts)
                skipped += batch.skipped
                kept += batch.located
        else:
            for path in files:
                for item in scan_file(path, scanner, advance):
                    if isinstance(item, Skipped):
                        skipped.append(item)
                        continue
                    counts[item.path, item.finding.category] += 1
                    if as_json:
                        sys.stdout.write(lines.line(item) + "\n")
                    if sarif is not None:
                        kept.append(item)
    for item in skipped:
        if as_json:
            print(
                json.dumps({"path": item.path, "skipped": item.reason, "line": item.line}),
                file=sys.stderr,
            )
        else:
            where = f":{item.line}" if item.line else ""
            stderr.print(f"[yellow]skipped[/yellow] {item.path}{where}: {item.reason}")
    if sarif is not None:
        sarif.write_text(json.dumps(_sarif(kept), indent=2))
    if not as_json:  # with --json, the findings and skips are the whole output
        _summary(counts, len(skipped), stdout)
    found = {category for _, category in counts}
    if failing and (found & failing or ("any" in failing and found) or skipped):
        raise typer.Exit(FINDINGS_EXIT)


def _summary(counts: Counter[tuple[str, str]], skipped: int, console: Console) -> None:
    table = Table(title="PII found", show_footer=True)
    files = sorted({path for path, _ in counts})
    categories = sorted({category for _, category in counts})
    table.add_column("file", footer="total")
    for category in categories:
        total = sum(n for (_, c), n in counts.items() if c == category)
        table.add_column(category, justify="right", footer=str(total))
    for path in files:
        table.add_row(path, *(str(counts.get((path, c), 0)) for c in categories))
    if counts:
        console.print(table)
    if skipped:  # never "no PII found" alone when part of the input was not read
        console.print(f"[yellow]{skipped} skipped (files or lines not scanned)[/yellow]")
    elif not counts:
        console.print("no PII found")


def redact(
    source: Annotated[Path, typer.Argument(help="A file, or a directory to redact whole.")],
    target: Annotated[Path, typer.Argument(help="Where the redacted copy goes.")],
    operator: Annotated[
        list[str] | None,
        typer.Option(
            "--operator", help="ENTITY=OPERATOR: mask[:N], label, hash, encrypt, vault, drop."
        ),
    ] = None,
    default: Annotated[
        str, typer.Option("--default", help="Operator for the other entities.")
    ] = "label",
    recognizers: Recognizers = None,
    as_json: Json = False,
) -> None:
    """Copy files with their PII taken out, in the same format (CSV keeps its columns).

    ``hash``, ``encrypt`` and ``vault`` use the vault (NTK_HOME); ``vault`` stores each
    value there and leaves a reference that ``ntk resolve`` turns back, by policy. A file
    that cannot be read whole (skipped lines, JSON nested too deep) is reported and not
    written; the others still are (exit 5 if any failed). An output that would replace
    its input (the same file, a link to it, a directory inside the input) is refused
    before anything is written (exit 5)."""
    with reported(as_json):
        try:
            pairs = redaction_pairs(source, target)
        except ValueError as exc:
            raise ValidationError("TARGET", "detect", "same_file", str(exc)) from None
        specs = dict(item.partition("=")[::2] for item in operator or [])
        needs_vault = any(s in ("hash", "encrypt", "vault") for s in [*specs.values(), default])
        vault = open_vault(Settings.from_env()) if needs_vault else None
        scanner = _scanner(None, None, recognizers)
        try:
            redactor = Redactor(specs, default, vault=vault, entities=scanner.entities)
        except ValueError as exc:
            raise ValidationError("--operator", "detect", "operator", str(exc)) from None
    written, failed, values = [], [], 0
    with _progress([p for p, _ in pairs], quiet=as_json, task="redacting") as advance:
        for src, dst in pairs:
            try:
                values += redact_file(src, dst, scanner, redactor, advance)
                written.append(str(dst))
            except Unreadable as exc:
                failed.append({"path": str(src), "reason": exc.reason, "line": exc.line})
            except OSError as exc:  # the target cannot be written
                failed.append({"path": str(src), "reason": f"cannot write: {exc}", "line": None})
    show({"written": written, "values_redacted": values, "failed": failed}, as_json)
    if failed:
        raise typer.Exit(5)


def resolve(
    source: Annotated[Path, typer.Argument(help="A text redacted with the vault operator.")],
    recipient: Annotated[str, typer.Option("--recipient")],
    purpose: Annotated[str, typer.Option("--purpose")],
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"text": …} as JSON; errors as JSON.')
    ] = False,
) -> None:
    """Print the text with each vault reference replaced by what the recipient may see
    for the purpose (each a ledgered read); references the policy refuses stay."""
    with reported(as_json):
        redactor = Redactor(default="vault", vault=open_vault(Settings.from_env()))
        text = redactor.resolve(source.read_text(), recipient, purpose)
    if as_json:
        print_json({"text": text})
    else:
        sys.stdout.write(text)


def _score_row(name: str, score: Score) -> dict[str, Any]:
    return {
        "name": name,
        "precision": round(score.precision, 4),
        "recall": round(score.recall, 4),
        "f1": round(score.f1, 4),
        "true_positives": score.true_positives,
        "false_positives": score.false_positives,
        "false_negatives": score.false_negatives,
    }


def eval_(
    count: Annotated[int, typer.Option("--documents", help="Corpus size.")] = 5000,
    seed: Annotated[int, typer.Option("--seed")] = 2026,
    corpus: Annotated[
        Path | None,
        typer.Option(
            help="A labelled corpus (JSON Lines) instead of the generated one.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="The corpus's shape: " + ", ".join(FORMATS) + ".")
    ] = "ntk",
    label_map: Annotated[
        list[str] | None,
        typer.Option("--map", help="LABEL=ENTITY: read a corpus label as our entity."),
    ] = None,
    shown: Annotated[
        int, typer.Option("--mistakes", help="How many mistakes to list (with --corpus).")
    ] = 20,
    show_values: Annotated[
        bool,
        typer.Option(
            "--show-values", help="Show the corpus's values around a mistake (they may be PII)."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Precision, recall and F1 per entity and per category, on the generated corpus or
    a labelled one (--corpus), with the mistakes in context."""
    mistakes: list[Mistake] = []
    report: dict[str, Any]
    with reported(as_json):
        if corpus is None:
            scores = evaluate(scanned(Scanner()), documents(count, seed))
            report = {"documents": count, "seed": seed}
        else:
            labelled = read_labelled(corpus, fmt, _label_map(label_map or []))
            scores = evaluate(
                scanned(Scanner()), labelled.documents, mistakes=mistakes, show_values=show_values
            )
            report = {
                "corpus": corpus.name,
                "format": fmt,
                "documents": len(labelled.documents),
                "unmapped_labels": dict(labelled.unmapped),
            }
    report |= {
        "entities": [_score_row(n, s) for n, s in scores.items()],
        "categories": [_score_row(n, s) for n, s in by_category(scores).items()],
        "overall": _score_row("overall", overall(scores)),
    }
    if corpus is not None:
        report["mistakes_total"] = len(mistakes)
        report["mistakes"] = [m.to_json() for m in mistakes[:shown]]
    if as_json:
        print_json(report)
        return
    for part in ("entities", "categories"):
        table = Table(title=f"{part} ({count} documents, seed {seed})")
        for column in (
            "name",
            "precision",
            "recall",
            "f1",
            "true_positives",
            "false_positives",
            "false_negatives",
        ):
            table.add_column(column, justify="left" if column == "name" else "right")
        for row in report[part]:
            table.add_row(*(str(v) for v in row.values()))
        stdout.print(table)
    stdout.print(f"overall F1 {report['overall']['f1']}")
    for mistake in mistakes[:shown]:
        stdout.print(
            f"{mistake.kind:15} {mistake.entity:20} doc {mistake.document}: …{mistake.context}…",
            highlight=False,
            markup=False,
        )
    if len(mistakes) > shown:
        stdout.print(f"… and {len(mistakes) - shown} more (--mistakes N, or --json)")


def _label_map(pairs: list[str]) -> dict[str, str]:
    """``LABEL=ENTITY`` options as a mapping; a pair without ``=`` is refused."""
    mapping = {}
    for pair in pairs:
        label, sep, entity = pair.partition("=")
        if not sep or not label or not entity:
            raise ValidationError("map", "corpus", "pair", "LABEL=ENTITY")
        mapping[label] = entity
    return mapping
