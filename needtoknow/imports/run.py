"""An import run: rows in batches through ``Vault.add_many``, a report at the end.

Memory is one batch whatever the file's size. Each batch is one transaction with its
ledger entries, so a crash loses at most the batch in flight; with ``--key`` a re-run
skips what was stored before (``Known``), so running it again finishes the job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from needtoknow.errors import NeedToKnowError, ValidationError
from needtoknow.imports.rows import Problem, Row
from needtoknow.vault import Vault
from needtoknow.vault.vault import Known, Refused

MAX_LISTED = 1000  # refused rows listed in a report (all are counted)


@dataclass
class ImportReport:
    dry_run: bool
    rows: int = 0
    added: int = 0
    known: int = 0
    refused: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)

    def refuse(self, number: int, field_name: str, category: str | None, rule: str) -> None:
        self.refused += 1
        if len(self.problems) < MAX_LISTED:
            self.problems.append(
                {"row": number, "field": field_name, "category": category, "rule": rule}
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "rows": self.rows,
            "added": self.added,
            "known": self.known,
            "refused": self.refused,
            "problems": self.problems,
            "problems_listed": len(self.problems),
        }


def import_rows(
    vault: Vault,
    rows: Iterable[Row | Problem],
    batch: int = 500,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Store every valid row (``dry_run``: validate only); ``progress`` is called with
    the number of rows each batch handled."""
    if batch < 1:
        raise ValidationError("batch", "import", "positive")
    report = ImportReport(dry_run)
    pending: list[Row] = []
    for row in rows:
        report.rows += 1
        if isinstance(row, Problem):
            report.refuse(row.number, row.field, None, row.rule)
            continue
        pending.append(row)
        if len(pending) >= batch:
            _write(vault, pending, report, dry_run, progress)
            pending = []
    _write(vault, pending, report, dry_run, progress)
    return report


def _write(
    vault: Vault,
    rows: list[Row],
    report: ImportReport,
    dry_run: bool,
    progress: Callable[[int], None] | None,
) -> None:
    if not rows:
        return
    outcomes = vault.add_many(
        [row.record for row in rows], [row.key for row in rows], dry_run=dry_run
    )
    for row, outcome in zip(rows, outcomes, strict=True):
        if isinstance(outcome, Refused):
            _refused(report, row.number, outcome.error)
        elif isinstance(outcome, Known):
            report.known += 1
        else:
            report.added += 1
    if progress is not None:
        progress(len(rows))


def _refused(report: ImportReport, number: int, error: NeedToKnowError) -> None:
    details = error.details()
    report.refuse(
        number,
        str(details.get("field", "record")),
        details.get("category"),
        str(details.get("rule", type(error).__name__)),
    )
