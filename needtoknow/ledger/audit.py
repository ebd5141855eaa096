"""Checking the ledger from storage, and exporting it for checkers that don't trust us.

``verify`` recomputes every leaf hash from the stored entry bytes, rebuilds the tree in
one streaming pass, and compares it with every signed tree head (root and signature),
with the stored leaf hashes and with the stored interior nodes. It names the first entry
that is missing, out of place, or changed; a change that was covered up by rewriting the
stored hashes too is still caught by the signed heads, which name the range it lies in.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import sqlalchemy as sa

from needtoknow.errors import IntegrityError
from needtoknow.ledger import log, merkle
from needtoknow.ledger.entry import customers_of
from needtoknow.ledger.heads import TreeHead
from needtoknow.storage.schema import ledger_nodes


@dataclass
class Report:
    """What verification found. ``first_bad`` is the earliest place something is wrong,
    as an inclusive range of entry indexes: one entry when the entry itself shows it, or
    the smallest subtree (or signed range) that no longer matches when the stored hashes
    were rewritten too."""

    entries: int = 0
    heads_checked: int = 0
    nodes_checked: int = 0
    problems: list[str] = field(default_factory=list)
    _located: list[tuple[int, int]] = field(default_factory=list)
    _signed_ranges: list[tuple[int, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad(self) -> tuple[int, int] | None:
        candidates = self._located or self._signed_ranges
        return min(candidates, key=lambda r: (r[0], r[1])) if candidates else None

    @property
    def first_bad_entry(self) -> int | None:
        first = self.first_bad
        return None if first is None else first[0]

    def fail(self, problem: str, first: int | None = None, last: int | None = None) -> None:
        self.problems.append(problem)
        if first is not None:
            self._located.append((first, first if last is None else last))

    def fail_signed_range(self, problem: str, first: int, last: int) -> None:
        self.problems.append(problem)
        self._signed_ranges.append((first, last))

    def to_json(self) -> dict[str, Any]:
        first = self.first_bad
        return {
            "ok": self.ok,
            "entries": self.entries,
            "heads_checked": self.heads_checked,
            "nodes_checked": self.nodes_checked,
            "first_bad": None if first is None else {"from": first[0], "to": first[1]},
            "problems": self.problems,
        }


def verify(conn: sa.Connection, heads: list[TreeHead], public_key: bytes) -> Report:
    report = Report()
    pending = sorted(heads, key=lambda h: h.tree_size)
    frontier = merkle.Frontier()
    while pending and pending[0].tree_size == 0:  # a head signed over an empty ledger
        _check_head(report, pending.pop(0), merkle.EMPTY_ROOT, public_key, 0)
    leaves: list[bytes] = []
    last_good = 0
    index_rows = _Peek(log.indexed_customers(conn))
    for index, data, stored in log.entries(conn):
        if index != frontier.size:
            report.fail(
                f"entry {frontier.size} is missing (next stored entry is {index})", frontier.size
            )
            break
        leaf = merkle.leaf_hash(data)
        if leaf != stored:
            report.fail(
                f"entry {index} was changed: its bytes no longer match its leaf hash", index
            )
        _check_index(report, index, customers_of(data), index_rows)
        frontier.append(leaf)
        leaves.append(leaf)
        while pending and pending[0].tree_size == frontier.size:
            head = pending.pop(0)
            if _check_head(report, head, frontier.root(), public_key, last_good):
                last_good = head.tree_size
    report.entries = frontier.size
    stray = index_rows.peek()
    if stray is not None and report.first_bad_entry is None:
        report.fail(f"the customer index lists entry {stray[0]}, which does not exist", stray[0])
    state = log.state(conn)
    if state.size != frontier.size and report.first_bad_entry is None:
        report.fail(
            f"the ledger says it holds {state.size} entries but {frontier.size} are stored",
            min(state.size, frontier.size),
        )
    for head in pending:
        report.fail(
            f"tree head for size {head.tree_size} covers entries that are gone "
            f"(only {frontier.size} stored)",
            frontier.size,
        )
    report.nodes_checked = _check_nodes(conn, report, leaves, min(state.sealed, len(leaves)))
    return report


class _Peek:
    """An iterator that can look one item ahead."""

    def __init__(self, items: Iterator[tuple[int, str]]) -> None:
        self._items = items
        self._next: tuple[int, str] | None = next(items, None)

    def peek(self) -> tuple[int, str] | None:
        return self._next

    def pop(self) -> tuple[int, str]:
        current = self._next
        assert current is not None
        self._next = next(self._items, None)
        return current


def _check_index(report: Report, index: int, expected: list[str], rows: _Peek) -> None:
    """The history index must list exactly the customers the entry names."""
    listed = []
    while (row := rows.peek()) is not None and row[0] <= index:
        position, customer = rows.pop()
        if position < index:
            report.fail(
                f"the customer index lists entry {position}, which does not exist", position
            )
            continue
        listed.append(customer)
    if listed != expected:
        report.fail(f"the customer index does not match entry {index}", index)


def _check_head(
    report: Report, head: TreeHead, computed: bytes, public_key: bytes, last_good: int
) -> bool:
    report.heads_checked += 1
    try:
        head.check(public_key)
    except IntegrityError:
        report.fail(f"tree head for size {head.tree_size} has an invalid signature")
        return False
    if computed != head.root_hash:
        report.fail_signed_range(
            f"entries {last_good}..{head.tree_size - 1} do not match the signed tree "
            f"head for size {head.tree_size}",
            last_good,
            head.tree_size - 1,
        )
        return False
    return True


def _check_nodes(conn: sa.Connection, report: Report, leaves: list[bytes], sealed: int) -> int:
    """Compare stored interior nodes (used for proofs) with ones recomputed from entries."""
    checked, level, below = 0, 1, leaves[:sealed]
    while len(below) >= 2:
        computed = [
            merkle.node_hash(below[2 * i], below[2 * i + 1]) for i in range(len(below) // 2)
        ]
        rows = conn.execute(
            sa.select(ledger_nodes.c.idx, ledger_nodes.c.hash).where(ledger_nodes.c.level == level)
        )
        stored = {int(row.idx): bytes(row.hash) for row in rows}
        for i, value in enumerate(computed):
            checked += 1
            if stored.get(i) != value:
                first = i << level
                last = first + (1 << level) - 1
                report.fail(
                    f"stored node level {level} index {i} (entries {first}..{last}) "
                    "does not match the entries",
                    first,
                    last,
                )
                return checked
        below, level = computed, level + 1
    return checked


def export(out: IO[str], rows: Iterable[tuple[int, bytes, bytes]], head: TreeHead) -> int:
    """JSON Lines: one object per entry, then the signed tree head; returns entries written."""
    written = 0
    for index, data, leaf in rows:
        out.write(
            json.dumps(
                {
                    "index": index,
                    "entry": base64.b64encode(data).decode("ascii"),
                    "leaf_hash": leaf.hex(),
                }
            )
            + "\n"
        )
        written += 1
    out.write(json.dumps({"signed_tree_head": head.to_json()}) + "\n")
    return written
