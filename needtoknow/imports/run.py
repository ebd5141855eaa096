"""An import run: rows in batches — screened, validated and sealed (here or in worker
processes), written — a report at the end.

Memory is a few batches whatever the file's size. Each batch is one transaction with
its ledger entries, written in order, so a crash loses at most the batches in flight;
with ``--key`` a re-run skips what was stored before (``Known``), so running it again
finishes the job.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from needtoknow.errors import NeedToKnowError, ValidationError
from needtoknow.imports.rows import Problem, Row
from needtoknow.vault import Vault
from needtoknow.vault.vault import Known, Prepared, Refused, WriteResult

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
    opener: Callable[[], Vault] | None = None,
    workers: int = 0,
) -> ImportReport:
    """Store every valid row (``dry_run``: validate only); ``progress`` is called with
    the number of rows each batch handled.

    With ``workers`` and an ``opener`` (a picklable callable that opens this vault:
    ``functools.partial(open_vault, settings)``), batches are validated and sealed in
    that many other processes while this one reads the next rows and writes the
    batches already sealed, in order; at most ``workers + 1`` batches are in flight, so
    memory stays a few batches whatever the file's size."""
    if batch < 1:
        raise ValidationError("batch", "import", "positive")
    report = ImportReport(dry_run)
    with _preparer(vault, opener, workers) as prepare:
        flight: deque[_Batch] = deque()
        for chunk in _batches(rows, batch, report):
            flight.append(_Batch.start(vault, chunk, prepare, dry_run))
            if len(flight) > workers:
                flight.popleft().finish(vault, report, progress)
        while flight:
            flight.popleft().finish(vault, report, progress)
    return report


def _batches(rows: Iterable[Row | Problem], size: int, report: ImportReport) -> Iterator[list[Row]]:
    """The valid rows in lists of ``size``; rows the reader refused are reported here."""
    pending: list[Row] = []
    for row in rows:
        report.rows += 1
        if isinstance(row, Problem):
            report.refuse(row.number, row.field, None, row.rule)
            continue
        pending.append(row)
        if len(pending) >= size:
            yield pending
            pending = []
    if pending:
        yield pending


Prepare = Callable[
    [list[Mapping[str, Any]], bool], "Future[list[Prepared | Refused | WriteResult]]"
]


@dataclass
class _Batch:
    """One batch on its way: screened here, prepared (maybe elsewhere), then written."""

    rows: list[Row]
    digests: dict[int, bytes]
    settled: dict[int, Known | Refused]
    todo: list[int]
    prepared: Future[list[Prepared | Refused | WriteResult]]

    @classmethod
    def start(cls, vault: Vault, rows: list[Row], prepare: Prepare, dry_run: bool) -> _Batch:
        digests, settled = vault.screen([row.key for row in rows])
        todo = [i for i in range(len(rows)) if i not in settled]
        future = prepare([rows[i].record for i in todo], dry_run)
        return cls(rows, digests, settled, todo, future)

    def finish(
        self, vault: Vault, report: ImportReport, progress: Callable[[int], None] | None
    ) -> None:
        prepared = self.prepared.result()
        written = vault.commit_prepared(
            [p for p in prepared if isinstance(p, Prepared)],
            {n: self.digests[i] for n, i in enumerate(self.todo) if i in self.digests},
        )
        outcomes: dict[int, Any] = dict(self.settled)
        for n, i in enumerate(self.todo):
            outcomes[i] = written[n] if isinstance(prepared[n], Prepared) else prepared[n]
        for i, row in enumerate(self.rows):
            outcome = outcomes[i]
            if isinstance(outcome, Refused):
                _refused(report, row.number, outcome.error)
            elif isinstance(outcome, Known):
                report.known += 1
            else:
                report.added += 1
        if progress is not None:
            progress(len(self.rows))


@contextmanager
def _preparer(vault: Vault, opener: Callable[[], Vault] | None, workers: int) -> Iterator[Prepare]:
    """How batches are prepared: here, at once; or by ``workers`` processes, each with
    the vault opened once (``spawn``: nothing of this process's open database or
    threads is inherited)."""
    if opener is None or workers < 1:

        def here(records: list[Mapping[str, Any]], dry_run: bool) -> Future[Any]:
            done: Future[Any] = Future()
            done.set_result(vault.prepare_many(records, dry_run))
            return done

        yield here
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, context, initializer=_open, initargs=(opener,)) as pool:
        yield lambda records, dry_run: pool.submit(_prepare, records, dry_run)


_worker_vault: Vault | None = None  # in a worker process: the vault it prepares for


def _open(opener: Callable[[], Vault]) -> None:
    global _worker_vault
    _worker_vault = opener()


def _prepare(records: list[Mapping[str, Any]], dry_run: bool) -> list[Any]:
    assert _worker_vault is not None
    return _worker_vault.prepare_many(records, dry_run)


def _refused(report: ImportReport, number: int, error: NeedToKnowError) -> None:
    details = error.details()
    report.refuse(
        number,
        str(details.get("field", "record")),
        details.get("category"),
        str(details.get("rule", type(error).__name__)),
    )
