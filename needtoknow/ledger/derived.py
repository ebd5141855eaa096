"""Checking the indexes derived from the log at seal against the entries they come from.

The customer index (whose history a customer reads) and the receipts index (whom an
incident's scope reaches) are rebuilt from each sealed entry's bytes as verification
streams past, and compared with the stored rows a window of entries at a time: one list
comparison per window and index, in C. Only a window that differs is looked at entry by
entry, to name every entry whose rows are wrong. Full verification spends most of its
time here, so the common case (nothing changed) does no per-entry Python beyond
deriving the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from needtoknow.ledger import log
from needtoknow.ledger.entry import indexed
from needtoknow.ledger.report import Report

Row = tuple[Any, ...]  # (entry index, *the index's columns), as the window reads return
Read = Callable[[sa.Connection, int, int], list[Row]]


class DerivedIndexes:
    """Both derived indexes, checked as runs of entries stream past: each sealed entry's
    rows must be exactly what it derives, entries appended since the seal must have
    none, and no row may name an entry that does not exist."""

    def __init__(self, sealed: int) -> None:
        self._sealed = sealed

    def check(self, conn: sa.Connection, report: Report, rows: Sequence[log.Row]) -> None:
        """Compare the stored index rows of a run of consecutive entries with theirs."""
        if not rows:
            return
        customers, receipts = indexed([(i, data) for i, data, _ in rows if i < self._sealed])
        start, stop = rows[0][0], rows[-1][0] + 1
        derived: list[Row]
        for name, derived in (("customer", customers), ("receipts", receipts)):
            stored = _READS[name](conn, start, stop)
            if stored != derived and (stored := _sorted(stored)) != derived:
                _differences(report, name, derived, stored)  # in Python's order, as derived

    def finish(self, conn: sa.Connection, report: Report, end: int) -> None:
        """After the last entry checked, ``end - 1``: if nothing was wrong so far, look
        for rows naming no entry in [0, end) — below 0, past the end, or an index no
        number matches. (Rows of entries before the first run checked are not this
        check's: ``verify --since-head`` starts later; they lie in [0, end) all the
        same.)"""
        if report.first_bad_entry is not None:
            return
        for name, outside in _OUTSIDE.items():
            listed = [row[0] for row in outside(conn, end)]
            if listed:
                numbers = [i for i in listed if type(i) is int]
                at = min(numbers) if numbers else end
                named = at if numbers else repr(listed[0])
                report.fail(f"the {name} index lists entry {named}, which does not exist", at)


def _differences(report: Report, name: str, derived: list[Row], stored: list[Row]) -> None:
    """Name every entry whose stored rows are not the derived ones."""
    mine: dict[int, list[Row]] = {}
    theirs: dict[int, list[Row]] = {}
    for rows, grouped in ((derived, mine), (stored, theirs)):
        for row in rows:
            grouped.setdefault(row[0], []).append(row)
    for position in sorted(mine.keys() | theirs.keys()):
        if mine.get(position) != theirs.get(position):
            report.fail(f"the {name} index does not match entry {position}", position)


def _sorted(rows: list[Row]) -> list[Row]:
    """Rows in Python's order, which the derived rows follow (a database's collation may
    not); a forged value of another type still sorts, and then differs."""
    try:
        return sorted(rows)
    except TypeError:
        return sorted(rows, key=repr)


_READS: dict[str, Read] = {"customer": log.indexed_customers, "receipts": log.indexed_receipts}
_OUTSIDE = {"customer": log.customers_outside, "receipts": log.receipts_outside}
