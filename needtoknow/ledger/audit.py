"""Checking the ledger from storage, and exporting it for checkers that don't trust us.

``verify`` streams the entries once, recomputing every leaf hash from the stored bytes
and checking the customer and receipts indexes against each entry; it then rebuilds the
tree level by level (32 bytes per leaf held in memory: ~64 MB for a million entries) and
compares it with every signed tree head (root and signature) and with the stored
interior nodes. It names the first entry that is missing, out of place, or changed; a
change covered up by rewriting the stored hashes too is still caught by the heads and
the stored nodes, which name the smallest range it lies in.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Protocol, TypeVar

import sqlalchemy as sa

from needtoknow.crypto.keys import Endorsement
from needtoknow.errors import IntegrityError
from needtoknow.ledger import log, merkle
from needtoknow.ledger.derived import DerivedIndexes
from needtoknow.ledger.heads import TreeHead
from needtoknow.ledger.report import Report

T = TypeVar("T")


class Leaves(Protocol):
    """Where checked leaf hashes go: a list, or a tree growing (ledger.since)."""

    def __len__(self) -> int: ...

    def append(self, leaf: bytes, /) -> None: ...


def verify(
    conn: sa.Connection,
    heads: list[TreeHead],
    known_keys: Sequence[bytes],
    witnesses: Sequence[TreeHead] = (),
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Check the stored ledger against its own heads and against ``witnesses``: heads
    saved outside the vault, which hold whatever the vault's own tables now say.
    ``progress`` is told how many entries were read, now and then."""
    report = Report()
    state = log.state(conn)
    leaves = _check_entries(conn, report, state.sealed, progress)
    report.entries = len(leaves)
    check_size(report, state, len(leaves))
    levels = _levels(leaves)
    _check_heads(report, levels, heads, known_keys)
    check_sealed(report, state, len(leaves), max((h.tree_size for h in heads), default=0))
    check_witnesses(report, levels, witnesses, known_keys)
    report.nodes_checked = _check_nodes(conn, report, levels, min(state.sealed, len(leaves)))
    return report


def check_size(report: Report, state: log.State, stored: int) -> None:
    if state.size != stored and report.first_bad_entry is None:
        report.fail(
            f"the ledger says it holds {state.size} entries but {stored} are stored",
            min(state.size, stored),
        )


def check_sealed(report: Report, state: log.State, stored: int, signed: int) -> None:
    """The marks against the heads: every head signs what was sealed before it, in the
    transaction that moves the signed mark to it. A sealed mark below the newest head
    leaves entries it covers out of the customer index; a signed mark past it means
    heads were deleted — the only record that could show a rewrite of what they
    covered."""
    if state.sealed < signed:
        report.fail(
            f"the ledger says {state.sealed} entries are sealed, but heads cover {signed} "
            f"(it holds {state.size})",
            state.sealed,
        )
    if state.signed != signed:
        report.fail(
            f"the ledger says {state.signed} entries are signed, but heads cover {signed} "
            f"(it holds {state.size})",
            min(state.signed, signed),
        )
    if state.sealed > signed == state.signed:
        report.warnings.append(
            f"{state.sealed - signed} entries are sealed past the newest signed head "
            f"({signed}): a seal under way or cut off between its batches (the next head "
            "covers them) — or, should none be, heads deleted and the signed mark lowered "
            "to hide it: check against a head saved outside the vault (--witness)"
        )
    report.unsigned = max(stored - signed, 0)
    if report.unsigned and state.signed == signed:
        report.warnings.append(
            f"{report.unsigned} entries past the newest signed head ({signed}) are not yet "
            "covered by any signature: run 'ntk ledger sth'"
        )


def _check_heads(
    report: Report, levels: list[list[bytes]], heads: list[TreeHead], known: Sequence[bytes]
) -> None:
    last_good = 0
    size = len(levels[0])
    for head in sorted(heads, key=lambda h: h.tree_size):
        if head.tree_size > size:
            report.fail(
                f"tree head for size {head.tree_size} covers entries that are gone "
                f"(only {size} stored)",
                size,
            )
            continue
        computed = merkle.root(_Levels(levels), head.tree_size)
        if check_head(report, head, computed, known, last_good):
            last_good = head.tree_size


def check_witnesses(
    report: Report,
    levels: list[list[bytes]],
    witnesses: Sequence[TreeHead],
    known: Sequence[bytes],
) -> None:
    """Each witness head must be signed by a known key and be a prefix of the ledger as
    it is now (RFC 6962 consistency from its size to the whole ledger). Nothing the
    vault stores can make a rewrite of entries a witness saw pass this."""
    size = len(levels[0])
    current = merkle.root(_Levels(levels), size)
    for witness in witnesses:
        report.witnesses_checked += 1
        try:
            signed_by_known(witness, known)
        except IntegrityError:
            report.fail(
                f"witness head for size {witness.tree_size} is not signed by a key of this ledger"
            )
            continue
        if witness.tree_size > size:
            report.fail(
                f"a witness saw {witness.tree_size} entries but only {size} are stored: "
                "the ledger was truncated",
                size,
            )
            continue
        if witness.tree_size == 0:
            if witness.root_hash != merkle.EMPTY_ROOT:
                report.fail("a witness head for size 0 does not hold the empty tree's root")
            continue
        proof = merkle.consistency_proof(_Levels(levels), witness.tree_size, size)
        try:
            merkle.check_consistency(witness.tree_size, size, witness.root_hash, current, proof)
        except IntegrityError:
            report.fail_signed_range(
                f"entries 0..{witness.tree_size - 1} are not what a witness saw at size "
                f"{witness.tree_size}: the ledger was rewritten",
                0,
                witness.tree_size - 1,
            )


def signed_by_known(head: TreeHead, known: Sequence[bytes]) -> None:
    """Raise IntegrityError unless ``head`` carries one of ``known`` keys and its
    signature checks under it (a head naming a key of its own proves nothing)."""
    if head.public_key not in known:
        raise IntegrityError()
    head.check(head.public_key)


def _check_entries(
    conn: sa.Connection,
    report: Report,
    sealed: int,
    progress: Callable[[int], None] | None = None,
) -> list[bytes]:
    """Stream the entries: indexes in sequence, bytes matching their leaf hashes, the
    customer and receipts indexes matching each sealed entry (and listing none of the
    entries appended since). Returns the recomputed leaf hashes."""
    leaves: list[bytes] = []
    indexes = DerivedIndexes(sealed)
    for rows in log.windows(conn):
        if not rows:
            missing_window(report, len(leaves))
            break
        added = add_leaves(report, leaves, rows)
        indexes.check(conn, report, rows[:added])
        if progress is not None:
            progress(added)
        if added < len(rows):
            break
    indexes.finish(conn, report, len(leaves))
    return leaves


def missing_window(report: Report, at: int) -> None:
    """A whole window of indexes holds no entry, before the last one stored: ``at`` is
    missing (and the rest of the walk would be queries of nothing)."""
    report.fail(f"entry {at} is missing (none stored in the next window)", at)


def add_leaves(report: Report, leaves: list[bytes], rows: list[log.Row]) -> int:
    """:func:`add_leaf` for a window of stored entries, compared whole when they are in
    sequence and unchanged (the common case, with no per-entry Python but the hash);
    returns how many were added."""
    first = len(leaves)
    hashes = merkle.leaf_hashes([data for _, data, _ in rows])
    in_sequence = [index for index, _, _ in rows] == list(range(first, first + len(rows)))
    if in_sequence and hashes == [stored for _, _, stored in rows]:
        leaves += hashes
        return len(rows)
    for index, data, stored in rows:
        if not add_leaf(report, leaves, index, data, stored, f"next stored entry is {index}"):
            break
    return len(leaves) - first


def add_leaf(
    report: Report,
    leaves: Leaves,
    index: int,
    data: bytes,
    stored: bytes,
    where: str,
) -> bool:
    """Check the next entry (in sequence, bytes matching its stored leaf hash) and add
    its recomputed leaf; False when an entry is missing, which ends the check."""
    if index != len(leaves):
        report.fail(f"entry {len(leaves)} is missing ({where})", len(leaves))
        return False
    leaf = merkle.leaf_hash(data)
    if leaf != stored:
        report.fail(f"entry {index} was changed: its bytes no longer match its leaf hash", index)
    leaves.append(leaf)
    return True


def _levels(leaves: list[bytes]) -> list[list[bytes]]:
    """Every complete subtree hash, level by level: the tree recomputed in one pass,
    with the interior hash the log stores and the proofs use (:func:`merkle.parents`)."""
    levels = [leaves]
    while len(levels[-1]) >= 2:
        below = levels[-1]
        levels.append(merkle.parents(below))
    return levels


class _Levels:
    """A merkle.HashReader over recomputed levels."""

    def __init__(self, levels: list[list[bytes]]) -> None:
        self._levels = levels

    def complete(self, level: int, index: int) -> bytes:
        return self._levels[level][index]


def check_head(
    report: Report, head: TreeHead, computed: bytes, known: Sequence[bytes], last_good: int
) -> bool:
    report.heads_checked += 1
    try:
        signed_by_known(head, known)
    except IntegrityError:
        report.fail(
            f"tree head for size {head.tree_size} has an invalid signature or an unknown key"
        )
        return False
    if computed != head.root_hash:
        report.fail_signed_range(
            f"entries {last_good}..{head.tree_size - 1} do not match the signed tree "
            f"head for size {head.tree_size}",
            last_good,
            head.tree_size - 1,
        )
        return False
    report.head_size = max(report.head_size, head.tree_size)
    return True


def _check_nodes(
    conn: sa.Connection, report: Report, levels: list[list[bytes]], sealed: int
) -> int:
    """Compare stored interior nodes (used for proofs) with the recomputed ones."""
    checked = 0
    for level in range(1, len(levels) + 1):
        computed = levels[level][: sealed >> level] if level < len(levels) else []
        stored = log.stored_level(conn, level)
        if len(stored) > len(computed):
            first = len(computed) << level
            report.fail(f"stored node level {level} has hashes past the sealed entries", first)
            break
        if not computed:
            break
        checked += len(computed)
        if stored != computed[: len(stored)]:
            i = next(i for i, value in enumerate(stored) if computed[i] != value)
            first, last = i << level, (i << level) + (1 << level) - 1
            report.fail(
                f"stored node level {level} index {i} (entries {first}..{last}) "
                "does not match the entries",
                first,
                last,
            )
            break
        if len(stored) < len(computed):
            # Deleted hashes say nothing about which entry changed: the heads locate it.
            report.fail(f"stored node level {level} holds {len(stored)} of {len(computed)} hashes")
            break
    return checked


def counted(items: Iterable[T], progress: Callable[[int], None] | None) -> Iterator[T]:
    """``items``, telling ``progress`` how many went by every 1000 (a progress bar's
    advance, called rarely enough to cost nothing) and at the end."""
    if progress is None:
        yield from items
        return
    pending = 0
    for item in items:
        yield item
        pending += 1
        if pending == 1000:
            progress(pending)
            pending = 0
    progress(pending)


def export(
    out: IO[str],
    rows: Iterable[tuple[int, bytes, bytes]],
    head: TreeHead,
    progress: Callable[[int], None] | None = None,
) -> int:
    """JSON Lines: one object per entry, then the signed tree head; returns entries written."""
    written = 0
    for index, data, leaf in counted(rows, progress):
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


def verify_export(
    lines: Iterable[str], known_keys: Sequence[bytes] = (), witnesses: Sequence[TreeHead] = ()
) -> Report:
    """Check an export (see :func:`export`) with no vault at all: every leaf hash from the
    entry bytes, the root under the export's signed head, and each witness head's
    consistency with it. Keys come from the checker's own records (``known_keys``, or
    the witnesses' keys); an export checked only against the key it names is warned of."""
    report = Report()
    leaves: list[bytes] = []
    heads: list[TreeHead] = []
    rotations: list[bytes] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if "signed_tree_head" in item:
                heads.append(TreeHead.from_json(item["signed_tree_head"]))
                continue
            index, data = int(item["index"]), base64.b64decode(item["entry"], validate=True)
            stored = bytes.fromhex(item["leaf_hash"])
        except (ValueError, KeyError, TypeError, AttributeError):
            report.fail(f"line {number} is not an export line", len(leaves))
            return report
        if not add_leaf(report, leaves, index, data, stored, f"line {number} holds {index}"):
            return report
        if b'"key_rotation"' in data:
            rotations.append(data)
    report.entries = len(leaves)
    if len(heads) != 1:
        report.fail("an export ends with exactly one signed tree head")
        return report
    keys = list(known_keys) or [w.public_key for w in witnesses]
    if not keys:
        keys = [heads[0].public_key]
        report.warnings.append(
            "checked against the key the export names: pass --public-key or --witness "
            "from your own records for a check that does not trust the exporter"
        )
    elif len(followed := endorsed(keys, rotations)) > len(keys):
        report.warnings.append(
            f"followed {len(followed) - len(keys)} signing-key rotation(s) endorsed by a "
            f"key you gave: now also trusted {', '.join(k.hex() for k in followed[len(keys) :])}"
        )
        keys = followed
    if heads[0].tree_size != len(leaves):
        report.fail(
            f"the export's head covers {heads[0].tree_size} entries but it holds "
            f"{len(leaves)}: export the whole ledger (no --from/--to) to check its root"
        )
        return report
    levels = _levels(leaves)
    _check_heads(report, levels, heads, keys)
    check_witnesses(report, levels, witnesses, keys)
    return report


def endorsed(keys: Sequence[bytes], rotations: Iterable[bytes]) -> list[bytes]:
    """``keys`` and every key they endorsed, in ledger order: the ``done`` entry of a
    signing-key rotation carries the old key's signature over its successor
    (:func:`needtoknow.crypto.keys.endorsement_bytes`), so a checker that knows only an
    old key can follow the rotations since. An endorsement by no trusted key, or a
    rotation entry without one (before endorsements), adds nothing; nor does a key's
    second successor (keys are rotated when one may have leaked: whoever kept it must
    not be able to endorse a key of their own after the real rotation)."""
    trusted = list(keys)
    spent: set[bytes] = set()
    for data in rotations:
        try:
            entry = json.loads(data)
            detail = entry["detail"]
            if entry["kind"] != "key_rotation" or detail["key"] != "ledger_signing":
                continue
            if detail["phase"] != "done":
                continue
            new, signature = (
                bytes.fromhex(detail["public_key"]),
                bytes.fromhex(detail["endorsement"]),
            )
        except (ValueError, KeyError, TypeError):
            continue
        endorser = next(
            (old for old in trusted if old not in spent and _endorses(old, new, signature)), None
        )
        if endorser is not None:
            spent.add(endorser)
            if new not in trusted:
                trusted.append(new)
    return trusted


def _endorses(old: bytes, new: bytes, signature: bytes) -> bool:
    return Endorsement(old, new, signature).valid()
