"""The ledger's front door: record, sign tree heads, prove, verify, export, publish tiles."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar, cast

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from needtoknow.errors import IntegrityError, LedgerTampered
from needtoknow.ledger import audit, log, merkle, tiles
from needtoknow.ledger.entry import Entry, microseconds, salted
from needtoknow.ledger.heads import TreeHead, signed_bytes
from needtoknow.ledger.report import Report
from needtoknow.ledger.since import verify_since
from needtoknow.storage.database import WriterBusy, reading
from needtoknow.storage.fastpath import ThreadConnections, Transaction
from needtoknow.storage.groupcommit import GroupCommit
from needtoknow.storage.schema import ledger_heads

Done = TypeVar("Done")
Work = Callable[[Any], Any]  # a write run in a turn's transaction, given its cursor


@dataclass(frozen=True)
class _Failed:
    """What a work of a turn raised (its writes rolled back to its savepoint)."""

    error: Exception


if TYPE_CHECKING:
    from needtoknow.crypto.keys import KeyProvider


MILLISECOND = timedelta(milliseconds=1)
BROWSE_SCAN = 10_000  # entries a browse looks at, at most (Ledger.browse)
ORIGIN = "needtoknow/ledger"  # a checkpoint's origin unless told (say, where it is published)


@dataclass(frozen=True)
class InclusionProof:
    """Everything a checker needs to see one entry under a signed tree head."""

    index: int
    entry: bytes
    proof: tuple[bytes, ...]
    head: TreeHead
    # Set when ``entry`` is a redacted view (another customer's id taken out): the
    # stored entry's leaf hash, which is what the proof proves.
    redacted_leaf: bytes | None = None

    @property
    def leaf(self) -> bytes:
        return self.redacted_leaf or merkle.leaf_hash(self.entry)

    def check(self, public_key: bytes) -> None:
        """Raise IntegrityError unless the entry (or, for a redacted view, its stored
        leaf) is in the tree the head signs."""
        self.head.check(public_key)
        merkle.check_inclusion(
            self.leaf, self.index, self.head.tree_size, self.proof, self.head.root_hash
        )

    def redacted(self, view: bytes) -> InclusionProof:
        """The same proof showing ``view`` instead of the entry's own bytes."""
        return replace(self, entry=view, redacted_leaf=self.leaf)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "entry": json.loads(self.entry),
            "leaf_hash": self.leaf.hex(),
            "proof": [p.hex() for p in self.proof],
            "tree_size": self.head.tree_size,
            "root_hash": self.head.root_hash.hex(),
            # the entry shown is the customer's part of one naming others too; the proof
            # is of the whole entry's leaf (Vault.history)
            "redacted": self.redacted_leaf is not None,
        }


class Ledger:
    """An append-only, tamper-evident record of every access to personal data."""

    def __init__(
        self,
        db: sa.Engine,
        keys: KeyProvider,
        clock: Callable[[], datetime],
        connections: ThreadConnections,
    ) -> None:
        self.db = db
        self.keys = keys
        self.clock = clock
        self._connections = connections
        self._sql = log.statements(db.dialect)
        self._group: GroupCommit[bytes | Work, object] = GroupCommit(self._commit, self._commit_now)
        self._endorsed_for: bytes | None = None  # the signing key whose rotation is ledgered

    # -- writing ------------------------------------------------------------------------

    @staticmethod
    def append(conn: Transaction, entry: Entry) -> int:
        """Record ``entry`` in the caller's transaction: it commits with the operation."""
        return log.append(conn, [entry])[0]

    @staticmethod
    def append_each(conn: sa.Connection, entry: Entry, customer_ids: Iterable[str]) -> None:
        """Record ``entry`` once per customer (:meth:`Entry.for_each`) in the caller's
        transaction: what an operation on several customers writes."""
        log.append(conn, salted(entry.for_each(customer_ids)))

    @staticmethod
    def append_many(conn: sa.Connection, entries: list[Entry]) -> None:
        """Record several entries in the caller's transaction, in order."""
        if entries:
            log.append(conn, salted(entries))

    def record(self, entry: Entry) -> int:
        """Record ``entry`` in a transaction of its own, for operations that write nothing
        else (reads, denials); it is committed when this returns."""
        return self.record_many([entry])[0]

    def record_many(self, entries: list[Entry]) -> list[int]:
        """Record several entries, committed together by the time this returns. Entries
        other threads record meanwhile share the commit (see storage.groupcommit)."""
        committed = self._group.submit([entry.canonical() for entry in salted(entries)])
        return cast(list[int], committed)

    async def record_async(self, entry: Entry) -> int:
        """:meth:`record` for a coroutine: the event loop serves others until it commits."""
        return cast(int, (await self._group.submit_async([entry.canonical()]))[0])

    async def write_async(self, work: Callable[[Any], Done]) -> Done:
        """Run ``work`` (given a cursor inside the transaction; it appends its own entry)
        in the transaction that commits this turn's entries, under a savepoint of its
        own: a write the loop serves (a correction) shares the turn's one commit and
        fsync instead of paying its own, and its failure is its own — rolled back to the
        savepoint and raised to its caller alone, the turn's other work committed."""
        (done,) = await self._group.submit_async([work])
        if isinstance(done, _Failed):
            raise done.error
        return cast(Done, done)

    def close(self) -> None:
        """Commit entries coroutines queued and not yet saw committed; refuse new ones."""
        self._group.close()

    def _commit(self, items: list[bytes | Work]) -> list[object]:
        with self._connections.transaction() as cursor:
            return self._written(cursor, items)

    def _commit_now(self, items: list[bytes | Work]) -> list[object] | None:
        """:meth:`_commit` if no other writer holds the database, else None."""
        try:
            with self._connections.transaction(wait=False) as cursor:
                return self._written(cursor, items)
        except WriterBusy:
            return None

    def _written(self, cursor: Any, items: list[bytes | Work]) -> list[object]:
        """Each item's result, in order: an entry's index, or what a work returned (or
        the error it raised, as :class:`_Failed`)."""
        results: list[object] = []
        entries: list[bytes] = []
        for item in items:
            if isinstance(item, bytes):
                entries.append(item)
                continue
            results += log.append_with(cursor, self._sql, entries)
            entries = []
            cursor.execute("SAVEPOINT ntk_work")
            try:
                results.append(item(cursor))
            except Exception as error:
                cursor.execute("ROLLBACK TO ntk_work")
                results.append(_Failed(error))
            cursor.execute("RELEASE ntk_work")
        return results + log.append_with(cursor, self._sql, entries)

    # -- tree heads ---------------------------------------------------------------------

    def sign_head(self, batch: int = log.SEAL_BATCH, pause: float = 0.0) -> TreeHead:
        """A signed tree head covering at least every entry committed when it was
        called (reused if unchanged).

        That backlog is sealed in batches of ``batch`` entries, each its own transaction,
        so writers wait for one batch at most; the batch that reaches it signs one head
        in its transaction and moves the signed mark to it (verification relies on the
        mark: past the newest head, heads were deleted). Entries appended meanwhile wait
        for the next head, so a ledger growing faster than it is sealed still gets one.
        Until session 24 every batch signed a head: ~200 a minute under a server's load,
        55 MB a day. Each batch first checks the ledger still matches its newest head,
        so no seal runs over a tampered one. ``pause`` seconds between batches leave the
        database to the writers waiting (a server's requests), who would otherwise race
        the next batch for it.
        """
        if batch < 1:
            raise ValueError(f"a seal batch is at least one entry, not {batch}")
        self.ledger_endorsement()
        target = None
        while True:
            with reading(self.db) as conn:  # parsing and hashing hold no write lock
                sealing = log.derive(conn, batch)
                target = log.state(conn).size if target is None else target
            with self.db.begin() as conn:
                if self._check_newest(conn).size < target:  # appends never shrink it
                    raise LedgerTampered()
                state = log.apply(conn, sealing)
                if state is not None and state.sealed >= target:
                    return self._signed(conn, state.sealed)
            time.sleep(pause)

    def ledger_endorsement(self, actor: str = "needtoknow", request_id: str | None = None) -> None:
        """Record the last signing-key rotation's ``done`` entry, with the old key's
        endorsement of the new one, if the key provider still keeps it: the rotation
        just made, or one a crash cut off before its entry (then the first head signed
        with the new key, in any process, records it). Checked again only when the
        signing key changes; a crash between recording and the provider forgetting
        records it twice, which verifiers take as once. Only an endorsement of the
        active key, by a key of this ledger, that verifies, is recorded: anything else
        kept beside the key (planted on a token, say) is forgotten unrecorded."""
        public = self.keys.signing_public_key()
        if public == self._endorsed_for:
            return
        pending = self.keys.pending_endorsement()
        if pending is not None and not (
            pending.new == public
            and pending.old != public
            and pending.old in self.keys.signing_keys()
            and pending.valid()
        ):
            self.keys.forget_endorsement(pending)
            pending = None
        if pending is not None:
            detail = {
                "phase": "done",
                "key": "ledger_signing",
                "public_key": pending.new.hex(),
                "endorsement": pending.signature.hex(),
            }
            when = self.clock()
            self.record(Entry("key_rotation", when, actor, request_id=request_id, detail=detail))
            self.keys.forget_endorsement(pending)
        self._endorsed_for = public

    def _check_newest(self, conn: sa.Connection) -> log.State:
        """Refuse to seal or sign over a ledger that no longer matches its newest head:
        with the state row locked, the signed mark must be that head's size, the sealed
        mark and the size no lower, and the stored tree must give its root (O(log n)
        reads). Otherwise a fresh head — which ``ntk serve`` signs every minute — would
        cover up deleted heads, rewritten hashes, index rows hidden below a lowered
        mark, or sign a rollback (a head smaller than the newest, over a lowered size).
        Returns the state it locked."""
        state = log.state(conn, lock=True)
        signed = state.signed
        row = conn.execute(
            sa.select(ledger_heads).order_by(ledger_heads.c.tree_size.desc()).limit(1)
        ).first()
        newest = None if row is None else _head_from_row(row)
        marks_agree = signed <= state.sealed <= state.size
        if (newest.tree_size if newest else 0) != signed or not marks_agree:
            raise LedgerTampered()
        if newest is not None and merkle.root(log.StoredTree(conn), signed) != newest.root_hash:
            raise LedgerTampered()
        return state

    def _signed(self, conn: sa.Connection, size: int) -> TreeHead:
        """The head for ``size`` (everything sealed), stored if new."""
        existing = self._head(conn, size)
        if existing is not None:
            return existing
        root = merkle.root(log.StoredTree(conn), size)
        stamp = int(self.clock().timestamp() * 1000)
        head = self._sign(size, root, stamp)
        conn.execute(
            ledger_heads.insert().values(
                tree_size=size,
                timestamp_ms=stamp,
                root_hash=root,
                signature=head.signature,
                public_key=head.public_key,
            )
        )
        log.mark_signed(conn, size)
        return head

    def _sign(self, size: int, root: bytes, stamp: int) -> TreeHead:
        """A head whose signature checks under the key it names: another process may
        rotate the signing key between reading the public key and signing (then try
        once more, with the new key)."""
        for _ in range(2):
            public = self.keys.signing_public_key()
            head = TreeHead(
                size, root, stamp, self.keys.sign(signed_bytes(size, root, stamp)), public
            )
            try:
                head.check(public)
            except IntegrityError:
                continue
            return head
        raise IntegrityError()

    def recent_head(self, max_age: timedelta) -> TreeHead:
        """The newest signed head if it is at most ``max_age`` old, else a new one: what
        a service hands out, so a busy ledger is not sealed and signed on every call."""
        newest = self.newest_head()
        age = None if newest is None else self.clock().timestamp() * 1000 - newest.timestamp_ms
        if newest is not None and age is not None and age <= max_age / MILLISECOND:
            return newest
        return self.sign_head()

    def newest_head(self, at_most: int | None = None) -> TreeHead | None:
        """The newest signed head, as it is (None before the first); ``at_most``: the
        newest covering no more than that many entries."""
        query = sa.select(ledger_heads).order_by(ledger_heads.c.tree_size.desc()).limit(1)
        if at_most is not None:
            query = query.where(ledger_heads.c.tree_size <= at_most)
        with reading(self.db) as conn:
            row = conn.execute(query).first()
        return None if row is None else _head_from_row(row)

    def heads(self) -> list[TreeHead]:
        with reading(self.db) as conn:
            return _heads(conn)

    def head_of_size(self, size: int) -> TreeHead | None:
        """The head signed for ``size`` entries, if one was: one indexed row, where a
        server signing every minute keeps ~1,440 heads a day. A size no column holds
        (a client may ask for any number) has none."""
        if not 0 <= size <= log.BIGINT_MAX:
            return None
        with reading(self.db) as conn:
            return self._head(conn, size)

    @staticmethod
    def _head(conn: sa.Connection, size: int) -> TreeHead | None:
        row = conn.execute(sa.select(ledger_heads).where(ledger_heads.c.tree_size == size)).first()
        return None if row is None else _head_from_row(row)

    # -- proofs -------------------------------------------------------------------------

    def prove(self, index: int, head: TreeHead | None = None) -> InclusionProof:
        """An inclusion proof for entry ``index`` under ``head`` (default: a fresh head)."""
        head = head or self.sign_head()
        with reading(self.db) as conn:
            tree = log.StoredTree(conn)
            proof = merkle.inclusion_proof(tree, index, head.tree_size)
            return InclusionProof(index, log.entry_at(conn, index), tuple(proof), head)

    def consistency(self, old: TreeHead, new: TreeHead) -> list[bytes]:
        """Proof that ``new``'s tree extends ``old``'s (check with merkle.check_consistency)."""
        with reading(self.db) as conn:
            return merkle.consistency_proof(log.StoredTree(conn), old.tree_size, new.tree_size)

    def history(self, customer_id: str) -> list[InclusionProof]:
        """Every entry about one customer, each with its proof under one fresh tree head."""
        head = self.sign_head()
        with reading(self.db) as conn:
            indexes = [i for i in log.customer_indexes(conn, customer_id) if i < head.tree_size]
        return [self.prove(index, head) for index in indexes]

    def browse(
        self,
        customer_id: str | None = None,
        kind: str | None = None,
        recipient: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        scan: int = BROWSE_SCAN,
    ) -> tuple[list[tuple[int, dict[str, Any]]], int]:
        """The newest entries of ``kind`` to ``recipient`` in [``since``, ``until``),
        newest first, looking at no more than ``scan`` entries — about ``customer_id``
        only, through the customer index (a head is signed first, so the index covers
        everything), when given — with how many were looked at. Entries have no columns
        to index by recipient, kind or time, so a browse is bounded, not a full scan."""

        def wanted(entry: dict[str, Any]) -> bool:
            if kind is not None and entry.get("kind") != kind:
                return False
            if recipient is not None and entry.get("recipient") != recipient:
                return False
            moment = datetime.fromisoformat(entry["time"])
            return (since is None or moment >= since) and (until is None or moment < until)

        if customer_id is not None:
            self.sign_head()  # seals, and so indexes, what was appended since the last head
        found: list[tuple[int, dict[str, Any]]] = []
        looked = 0
        with reading(self.db) as conn:
            if customer_id is not None:
                indexes = log.customer_indexes(conn, customer_id)[::-1][:scan]
                candidates: Iterable[tuple[int, bytes]] = (
                    (i, log.entry_at(conn, i)) for i in indexes
                )
            else:
                size = log.state(conn).size
                rows = list(log.entries(conn, max(0, size - scan), size))[::-1]
                candidates = ((index, data) for index, data, _ in rows)
            for index, data in candidates:
                looked += 1
                entry = json.loads(data)
                if wanted(entry):
                    found.append((index, entry))
                    if len(found) == limit:
                        break
        return found, looked

    def received(
        self, party: str, since: datetime | None = None, until: datetime | None = None
    ) -> dict[str, set[str]]:
        """Customer → categories ``party`` (``actor:…`` or ``recipient:…``) received in
        [``since``, ``until``) by allowed reads and lookups: a range of the receipts
        index, after a head is signed so that the index covers every entry. The index
        is by each entry's own time, so entries appended out of time order (a retention
        run stamps its start) are found all the same."""
        low = None if since is None else microseconds(since)
        high = None if until is None else microseconds(until)
        found: dict[str, set[str]] = {}
        with reading(self.db) as conn:
            state = log.state(conn)
        if state.sealed < state.size:
            self.sign_head()
        with reading(self.db) as conn:
            for customer, categories in log.received(conn, party, low, high):
                found.setdefault(customer, set()).update(filter(None, categories.split(",")))
        return found

    # -- auditing -----------------------------------------------------------------------

    def verify(
        self,
        witnesses: Sequence[TreeHead] = (),
        progress: Callable[[int], None] | None = None,
        since: TreeHead | None = None,
    ) -> Report:
        """Recompute the tree from storage and check it against every signed tree head,
        and against ``witnesses`` (heads saved outside the vault: see docs/ledger.md).
        Heads, entries and state are read in one snapshot, so a head signed meanwhile
        by a running server cannot make them disagree. ``since``: only what was appended
        after that head, verified before (:mod:`needtoknow.ledger.since`)."""
        known = self.keys.signing_keys()
        with reading(self.db) as conn:
            if since is None:
                return audit.verify(conn, _heads(conn), known, witnesses, progress)
            later = _heads(conn, above=since.tree_size)
            return verify_since(conn, since, later, known, witnesses, progress)

    def attest(self, head: TreeHead) -> dict[str, Any]:
        """A statement, signed with the ledger key, that ``head`` was verified: what a
        later ``verify --since-head`` may start from. Whoever can write the database
        but does not hold the key cannot make one, so cannot make a run skip the past
        by recording a verification that never happened."""
        signature, public = self._sign_note(_attested_bytes(head))
        return {
            "tree_size": head.tree_size,
            "root_hash": head.root_hash.hex(),
            "key": public.hex(),
            "signature": signature.hex(),
        }

    def attested(self, statement: object) -> TreeHead | None:
        """The stored head a statement of :meth:`attest` vouches for, if its signature
        checks under the active signing key and the head is still the one stored; else
        None. Not under a retired key: keys are rotated when one may have leaked, and a
        leaked key must not be able to vouch for a start (the first run after a rotation
        verifies everything)."""
        if not isinstance(statement, dict):
            return None
        try:
            size, root = int(statement["tree_size"]), bytes.fromhex(statement["root_hash"])
            key, signature = bytes.fromhex(statement["key"]), bytes.fromhex(statement["signature"])
        except (KeyError, TypeError, ValueError):
            return None
        if key != self.keys.signing_public_key():
            return None
        head = self.head_of_size(size)
        if head is None or head.root_hash != root:
            return None
        try:
            Ed25519PublicKey.from_public_bytes(key).verify(signature, _attested_bytes(head))
        except (InvalidSignature, ValueError):
            return None
        return head

    def tiles(
        self,
        directory: Path,
        origin: str = ORIGIN,
        entries: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> tiles.Published:
        """Write the ledger under ``directory`` as C2SP tlog-tiles with a checkpoint
        signed by the ledger's key (see :mod:`needtoknow.ledger.tiles`); ``entries``
        adds the entry bundles, which hold customer ids (owner-only, never public)."""
        head = self.sign_head()
        note, public = tiles.checkpoint(origin, head, self._sign_note)
        with reading(self.db) as conn:
            written, bundles = tiles.write(conn, directory, head, note, entries, progress)
        return tiles.Published(
            str(directory),
            origin,
            head.tree_size,
            head.root_hash,
            written,
            bundles,
            tiles.verifier_key(origin, public),
        )

    def _sign_note(self, text: bytes) -> tuple[bytes, bytes]:
        """A signature of ``text`` and the key it checks under (the key may rotate
        between reading it and signing, as in :meth:`_sign`: then once more)."""
        for _ in range(2):
            public = self.keys.signing_public_key()
            signature = self.keys.sign(text)
            try:
                Ed25519PublicKey.from_public_bytes(public).verify(signature, text)
            except InvalidSignature:
                continue
            return signature, public
        raise IntegrityError()

    def export(
        self,
        out: IO[str],
        start: int = 0,
        stop: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Write entries [start, stop) and a signed tree head covering them as JSON Lines."""
        head = self.sign_head()
        stop = head.tree_size if stop is None else min(stop, head.tree_size)
        with reading(self.db) as conn:
            return audit.export(out, log.entries(conn, start, stop), head, progress)


def _heads(conn: sa.Connection, above: int = -1) -> list[TreeHead]:
    rows = conn.execute(
        sa.select(ledger_heads)
        .where(ledger_heads.c.tree_size > above)
        .order_by(ledger_heads.c.tree_size)
    )
    return [_head_from_row(row) for row in rows]


def _head_from_row(row: Any) -> TreeHead:
    return TreeHead(
        int(row.tree_size),
        bytes(row.root_hash),
        int(row.timestamp_ms),
        bytes(row.signature),
        bytes(row.public_key),
    )


def _attested_bytes(head: TreeHead) -> bytes:
    """What :meth:`Ledger.attest` signs: apart from a tree head's RFC 6962 bytes (which
    start with a zero version byte) and a checkpoint note, so no signature of one kind
    passes for another."""
    return b"needtoknow ledger verified\n%d\n%s\n" % (head.tree_size, head.root_hash.hex().encode())
