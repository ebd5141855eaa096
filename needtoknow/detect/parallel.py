"""``ntk scan --workers N``: files, and parts of large text files, scanned by N processes.

A large plain-text file is cut into parts of about ``PART`` bytes where lines start.
The workers first measure each part (lines and characters, at the speed of decoding),
so that each part's numbering is known before it is scanned; then each part is scanned
by a worker with its own scanner, which also writes its ``--json`` lines — the parent
only concatenates. The findings, their order, line numbers and offsets are those of one
process reading the whole file (tests/detect/test_parallel.py). Other files (CSV, JSON,
gzip, images…) go whole to one worker each. At most twice as many tasks as workers are
in flight, so memory stays bounded whatever the input's size. Spark
(:mod:`needtoknow.detect.spark`) is for more than one machine.
"""

from __future__ import annotations

import itertools
import multiprocessing
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from needtoknow.detect.files import (
    MAX_LINE,
    Located,
    Skipped,
    measure_part,
    scan_file,
    scan_part,
    splittable,
)
from needtoknow.detect.jsonlines import JsonLines
from needtoknow.detect.scanner import Scanner

if TYPE_CHECKING:
    from needtoknow.detect.recognizers import Recognizer

PART = 32 << 20  # bytes of a file one worker scans at a time


@dataclass(frozen=True)
class Batch:
    """What one task found: its findings as ``ntk scan --json`` lines, how many of each
    category per file, what was skipped, and (if asked) the findings themselves."""

    json_lines: str
    counts: Counter[tuple[str, str]]
    skipped: list[Skipped]
    located: list[Located] = field(default_factory=list)
    complete: bool = True  # False: reading stopped at an error; later parts are dropped


@dataclass(frozen=True)
class _Task:
    path: Path
    start: int = 0
    end: int | None = None  # None: the whole file, read as scan_file reads it
    first_line: int = 1
    offset: int = 0


def scan_in_parallel(
    paths: Iterable[Path],
    workers: int,
    entities: Iterable[str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    recognizers: Sequence[Recognizer] = (),
    *,
    as_json: bool = True,
    show_values: bool = False,
    keep: bool = False,
    progress: Callable[[int], None] | None = None,
    part: int = PART,
) -> Iterator[Batch]:
    """What :func:`scan_file` finds in each path, in order, in batches, scanned by
    ``workers`` processes with ``Scanner(thresholds, entities, recognizers=…)``: their
    JSON lines if ``as_json``, the findings themselves if ``keep``."""
    chosen = list(entities) if entities is not None else None
    settings = (chosen, dict(thresholds or {}), tuple(recognizers), as_json, show_values, keep)
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),  # no fork of a threaded parent
        initializer=_start,
        initargs=settings,
    )
    pending: deque[tuple[_Task, Future[Batch]]] = deque()
    stopped: Path | None = None  # a file whose reading failed: its later parts are dropped

    def joined(task: _Task, future: Future[Batch]) -> Iterator[Batch]:
        nonlocal stopped
        batch = future.result()
        if progress is not None:
            size = task.path.stat().st_size if task.end is None and task.path.is_file() else 0
            progress((task.end or size) - task.start)
        if task.start == 0:
            stopped = None
        if stopped != task.path:
            yield batch
            if not batch.complete:
                stopped = task.path

    try:
        for path in paths:
            for task in _tasks(pool, path, part):
                pending.append((task, pool.submit(_run, task)))
                while len(pending) > 2 * workers or (pending and pending[0][1].done()):
                    yield from joined(*pending.popleft())
        while pending:
            yield from joined(*pending.popleft())
    finally:
        pool.shutdown(cancel_futures=True)


def _tasks(pool: ProcessPoolExecutor, path: Path, part: int) -> list[_Task]:
    """The file whole, or its parts (each ending where a line ends), numbered."""
    size = path.stat().st_size if path.is_file() else 0
    if size <= part or not splittable(path):
        return [_Task(path)]
    cuts = [0]
    with path.open("rb") as file:
        while cuts[-1] < size:
            file.seek(min(size, cuts[-1] + part))
            while (rest := file.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                pass  # a line longer than a read: on to its end
            cuts.append(file.tell())
    spans = list(itertools.pairwise(cuts))
    measured = pool.map(measure_part, [path] * len(spans), *zip(*spans, strict=True))
    tasks, line, offset = [], 1, 0
    for (start, end), (lines, characters) in zip(spans, measured, strict=True):
        tasks.append(_Task(path, start, end, line, offset))
        line, offset = line + lines, offset + characters
    return tasks


_worker: tuple[Scanner, bool, bool, bool] | None = None  # the process's scanner and flags


def _start(
    entities: list[str] | None,
    thresholds: dict[str, float],
    recognizers: tuple[Recognizer, ...],
    as_json: bool,
    show_values: bool,
    keep: bool,
) -> None:
    global _worker
    scanner = Scanner(thresholds=thresholds, entities=entities, recognizers=recognizers)
    _worker = (scanner, as_json, show_values, keep)


def _run(task: _Task) -> Batch:
    assert _worker is not None
    scanner, as_json, show_values, keep = _worker
    if task.end is None:
        found, complete = list(scan_file(task.path, scanner)), True
    else:
        found, complete = scan_part(
            task.path, task.start, task.end, scanner, task.first_line, task.offset
        )
    located = [item for item in found if isinstance(item, Located)]
    lines = JsonLines(show_values)
    return Batch(
        "".join(lines.line(item) + "\n" for item in located) if as_json else "",
        Counter((item.path, item.finding.category) for item in located),
        [item for item in found if isinstance(item, Skipped)],
        located if keep else [],
        complete,
    )
