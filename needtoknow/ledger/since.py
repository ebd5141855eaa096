"""Verifying only what was appended after a head verified before (``ntk ledger verify
--since-head``): the cost is the new entries', not the whole log's.

The tree of the verified head is rebuilt from the O(log n) complete subtrees that make
it up (its *frontier*), checked against that head's signed root, and then grown a leaf
at a time as RFC 6962's tree grows: each later head and witness head is checked against
the root at its size, and each stored node the new entries complete against the one
computed. The customer and receipts indexes of the new entries are checked as
:func:`needtoknow.ledger.audit.verify` checks them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa

from needtoknow.errors import IntegrityError
from needtoknow.ledger import log, merkle
from needtoknow.ledger.audit import (
    add_leaf,
    check_head,
    check_sealed,
    check_size,
    missing_window,
    signed_by_known,
)
from needtoknow.ledger.derived import DerivedIndexes
from needtoknow.ledger.heads import TreeHead
from needtoknow.ledger.report import Report


def verify_since(
    conn: sa.Connection,
    start: TreeHead,
    heads: list[TreeHead],
    known_keys: Sequence[bytes],
    witnesses: Sequence[TreeHead] = (),
    progress: Callable[[int], None] | None = None,
) -> Report:
    """:func:`verify` of what was appended after ``start``, a head verified before (or a
    witness's): the cost is the new entries', not the whole log's.

    The stored tree's O(log n) subtrees that make up ``start``'s tree must fold into its
    signed root — so nothing before it changed without the signing key — and the new
    entries are added to those subtrees one by one, as RFC 6962's tree grows: every
    head and witness past ``start`` is checked against the root at its size, and every
    stored node the new entries complete against the one computed. Entries before
    ``start`` are not read: a rewrite there that also rewrote the stored nodes of the
    signed subtrees is caught by a full :func:`verify` or a witness, not here."""
    size = start.tree_size
    report = Report(since=size)
    state = log.state(conn)
    try:
        signed_by_known(start, known_keys)
    except IntegrityError:
        report.fail(f"the head for size {size} to start from is not signed by a key of this ledger")
        return report
    if size > state.sealed:
        report.fail(f"the head to start from covers {size} entries, but {state.sealed} are sealed")
        return report
    grown = Growing(frontier(conn, size))
    if grown.root() != start.root_hash:
        report.fail_signed_range(
            f"the stored tree no longer gives the root of the head for size {size}: entries "
            f"0..{size - 1} or their stored hashes were rewritten (run a full verification)",
            0,
            size - 1,
        )
        return report
    report.head_size = size  # signed by a key of ours, and its tree is the stored one
    checks: dict[int, list[tuple[TreeHead, bool]]] = {}
    for head in heads:
        if head.tree_size > size:
            checks.setdefault(head.tree_size, []).append((head, False))
    for witness in witnesses:
        if witness.tree_size < size:
            report.warnings.append(
                f"the witness head for size {witness.tree_size} is older than the head "
                f"verification started from ({size}): a full verification checks it"
            )
        else:
            checks.setdefault(witness.tree_size, []).append((witness, True))
    indexes = DerivedIndexes(state.sealed)
    last_good = size
    check_grown(report, checks.pop(size, []), grown.root(), known_keys, last_good)
    for rows in log.windows(conn, size):
        if not rows:
            missing_window(report, grown.size)
            break
        first = grown.size
        for index, data, stored in rows:
            if not add_leaf(report, grown, index, data, stored, f"next stored entry is {index}"):
                break
            if grown.size in checks:
                root = grown.root()
                last_good = check_grown(report, checks.pop(grown.size), root, known_keys, last_good)
        indexes.check(conn, report, rows[: grown.size - first])
        if progress is not None:
            progress(grown.size - first)
        if grown.size - first < len(rows):
            break
    report.entries = grown.size
    indexes.finish(conn, report, grown.size)
    for past in sorted(checks):
        report.fail(
            f"a head for size {past} covers entries that are gone (only {grown.size} stored)",
            grown.size,
        )
    check_size(report, state, grown.size)
    check_sealed(report, state, grown.size, max((h.tree_size for h in heads), default=size))
    report.nodes_checked = check_grown_nodes(conn, report, grown.nodes, state.sealed)
    return report


def check_grown(
    report: Report,
    due: list[tuple[TreeHead, bool]],
    computed: bytes,
    known: Sequence[bytes],
    last_good: int,
) -> int:
    """Check the heads and witness heads of one size against the root grown to it;
    returns the size the signed heads are good up to."""
    for head, is_witness in due:
        if not is_witness:
            if check_head(report, head, computed, known, last_good):
                last_good = head.tree_size
            continue
        report.witnesses_checked += 1
        try:
            signed_by_known(head, known)
        except IntegrityError:
            report.fail(
                f"witness head for size {head.tree_size} is not signed by a key of this ledger"
            )
            continue
        if computed != head.root_hash:
            report.fail_signed_range(
                f"entries 0..{head.tree_size - 1} are not what a witness saw at size "
                f"{head.tree_size}: the ledger was rewritten",
                0,
                head.tree_size - 1,
            )
    return last_good


def frontier(conn: sa.Connection, size: int) -> list[tuple[int, int, bytes]]:
    """The complete subtrees whose concatenation is the tree of ``size`` leaves, largest
    first, as (level, index, hash): stored nodes, and the last leaf recomputed from its
    entry's bytes. O(log n) reads."""
    tree, frontier, offset = log.StoredTree(conn), [], 0
    for level in reversed(range(size.bit_length())):
        if size >> level & 1:
            index = offset >> level
            if level == 0:
                hashed = merkle.leaf_hash(log.entry_at(conn, offset))
            else:
                try:
                    hashed = tree.complete(level, index)
                except LookupError:
                    hashed = b""  # a deleted node: the fold then misses the signed root
            frontier.append((level, index, hashed))
            offset += 1 << level
    return frontier


class Growing:
    """A tree grown a leaf at a time from a frontier (its complete subtrees, largest
    first): each merge of two equal subtrees is a node the log stores, and the root is
    the frontier folded right to left — RFC 6962's MTH for any size."""

    def __init__(self, frontier: list[tuple[int, int, bytes]]) -> None:
        self._stack = list(frontier)
        self.size = sum(1 << level for level, _, _ in frontier)
        self.nodes: dict[int, dict[int, bytes]] = {}  # level → index → hash, merged here

    def __len__(self) -> int:
        return self.size

    def append(self, leaf: bytes) -> None:
        stack = self._stack
        stack.append((0, self.size, leaf))
        self.size += 1
        while len(stack) >= 2 and stack[-1][0] == stack[-2][0]:
            level, _, right = stack.pop()
            _, index, left = stack.pop()
            node = merkle.node_hash(left, right)
            stack.append((level + 1, index >> 1, node))
            self.nodes.setdefault(level + 1, {})[index >> 1] = node

    def root(self) -> bytes:
        if not self._stack:
            return merkle.EMPTY_ROOT
        *rest, (_, _, folded) = self._stack
        for _, _, left in reversed(rest):
            folded = merkle.node_hash(left, folded)
        return folded


def check_grown_nodes(
    conn: sa.Connection, report: Report, nodes: dict[int, dict[int, bytes]], sealed: int
) -> int:
    """Compare the stored nodes the new entries completed (up to the sealed mark) with
    those computed, and find none stored past it."""
    checked = 0
    for level in sorted(nodes):
        expected = {i: h for i, h in nodes[level].items() if (i + 1) << level <= sealed}
        if not expected:
            continue
        stored = log.stored_nodes(conn, level, min(expected))
        for i in sorted(expected):
            first, last = i << level, ((i + 1) << level) - 1
            if stored.get(i) != expected[i]:
                found = "does not match the entries" if i in stored else "is missing"
                report.fail(
                    f"stored node level {level} index {i} (entries {first}..{last}) {found}",
                    first,
                    last,
                )
                return checked
            checked += 1
        past = [i for i in stored if (i + 1) << level > sealed]
        if past:
            report.fail(
                f"stored node level {level} has hashes past the sealed entries", past[0] << level
            )
            return checked
    return checked
