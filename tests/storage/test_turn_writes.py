"""Corrections the event loop serves commit in their turn's transaction, with the turn's
read entries: one commit and one fsync for all, each correction under a savepoint."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from needtoknow.errors import NotFound, Unavailable, ValidationError
from needtoknow.records import agreements
from needtoknow.storage.schema import ledger_entries
from needtoknow.vault import Vault
from tests.customers import ASHA

BILLING: dict[str, Any] = {"recipient": "billing_team", "purpose": "billing"}
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def kinds(vault: Vault, after: int) -> list[str]:
    with vault.db.connect() as conn:
        query = sa.select(ledger_entries.c.entry).where(ledger_entries.c.idx >= after)
        stored: list[bytes] = list(conn.execute(query).scalars())
    return [json.loads(row)["kind"] for row in stored]


def test_a_turns_reads_and_corrections_share_one_commit(traced: tuple[Vault, list[str]]) -> None:
    vault, statements = traced
    ids = [vault.add({**ASHA, "email": f"p{k}@example.in"}).customer_id for k in range(4)]
    before = vault.ledger.sign_head().tree_size
    statements.clear()

    async def turn() -> list[Any]:
        reads = [vault.get_async(cid, **BILLING) for cid in ids]
        fixes = [
            vault.correct_async(ids[0], {"telephone": "+91 98450 12345"}),
            vault.correct_async(UNKNOWN, {"telephone": "+91 98450 12346"}),  # fails alone
            vault.correct_async(ids[1], {"email": "p1.new@example.in"}),
        ]
        return await asyncio.gather(*reads, *fixes, return_exceptions=True)

    found = asyncio.run(turn())
    # The corrections queue at once, the reads once their rows are fetched (a turn later):
    # two commits, where each correction committed on its own before (four).
    assert [s for s in statements if s.strip() == "COMMIT"] == ["COMMIT", "COMMIT"]
    assert sum(s.startswith("SAVEPOINT") for s in statements) == 3
    assert isinstance(found[5], NotFound)
    assert [type(f).__name__ for f in found] == ["Disclosure"] * 4 + [
        "WriteResult",
        "NotFound",
        "WriteResult",
    ]
    assert vault.get(ids[1], **BILLING).values["email"] == "p1.new@example.in"
    assert sorted(kinds(vault, before)) == ["correct"] * 2 + ["read"] * 5
    assert vault.ledger.verify().ok


def test_a_correction_refused_before_its_turn_writes_nothing(
    traced: tuple[Vault, list[str]],
) -> None:
    vault, _ = traced
    cid = vault.add(ASHA).customer_id
    before = vault.ledger.sign_head().tree_size
    with pytest.raises(ValidationError):
        asyncio.run(vault.correct_async(cid, {"telephone": "not a number"}))
    assert kinds(vault, before) == []


def test_the_check_under_the_row_lock_is_not_pinned_by_the_turn(
    traced: tuple[Vault, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The turn's commit runs in the context of whoever queued first: a read that pinned
    the registry version (as the HTTP read does). The correction's check under the row
    lock must read the version afresh."""
    vault, _ = traced
    cid = vault.add(ASHA).customer_id
    pins: list[object] = []
    original = Vault._collectable

    def watched(self: Vault, *args: Any) -> Any:
        pins.append(agreements._PINNED.get())
        return original(self, *args)

    async def pinned_first() -> Any:  # queues its entry first, inside a pin
        with vault.agreements.pinned():
            return await vault.ledger.record_async(vault.entry("read", **BILLING))

    async def turn() -> None:
        await asyncio.gather(pinned_first(), vault.correct_async(cid, {"name": "Asha K"}))

    monkeypatch.setattr(Vault, "_collectable", watched)
    asyncio.run(turn())
    assert pins and pins[-1] is None, pins


def test_a_correction_failing_after_its_writes_leaves_no_trace(
    traced: tuple[Vault, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its writes and entry roll back to its savepoint; the turn's other correction and
    entry commit."""
    vault, _ = traced
    a = vault.add(ASHA).customer_id
    b = vault.add({**ASHA, "email": "b@example.in"}).customer_id
    before = vault.ledger.sign_head().tree_size
    original = Vault._recorded

    def failing(self: Vault, conn: Any, kind: str, now: Any, customer_id: str, *rest: Any) -> Any:
        done = original(self, conn, kind, now, customer_id, *rest)
        if customer_id == a:
            raise RuntimeError("after the writes")
        return done

    monkeypatch.setattr(Vault, "_recorded", failing)

    async def turn() -> tuple[Any, ...]:
        return await asyncio.gather(
            vault.ledger.record_async(vault.entry("read", **BILLING)),
            vault.correct_async(a, {"email": "a.new@example.in"}),
            vault.correct_async(b, {"email": "b.new@example.in"}),
            return_exceptions=True,
        )

    found = asyncio.run(turn())
    assert isinstance(found[1], RuntimeError), found
    assert vault.get(a, **BILLING).values["email"] == ASHA["email"]
    assert vault.get(b, **BILLING).values["email"] == "b.new@example.in"
    assert sorted(kinds(vault, before)) == ["correct", "read", "read", "read"]
    assert vault.ledger.verify().ok


def test_a_correction_finding_the_database_taken_is_written_by_a_worker_thread(
    traced: tuple[Vault, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer holds the database past the loop's retries: the turn goes to a
    worker thread, which runs the correction (unpinned) in its own transaction."""
    vault, _ = traced
    cid = vault.add(ASHA).customer_id
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with vault.connections.transaction():
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    seen: list[tuple[str, object]] = []
    original = Vault._collectable

    def watched(self: Vault, *args: Any) -> Any:
        seen.append((threading.current_thread().name, agreements._PINNED.get()))
        return original(self, *args)

    monkeypatch.setattr(Vault, "_collectable", watched)

    async def correct() -> Any:
        with vault.agreements.pinned():
            task = asyncio.ensure_future(vault.correct_async(cid, {"email": "x@example.in"}))
            await asyncio.sleep(0.05)  # past the loop's retries: handed to a thread
        release.set()
        return await task

    try:
        done = asyncio.run(correct())
    finally:
        release.set()
        holder.join()
    assert done.customer_id == cid
    assert seen[-1][0] != threading.main_thread().name and seen[-1][1] is None, seen
    assert vault.get(cid, **BILLING).values["email"] == "x@example.in"
    assert vault.ledger.verify().ok


def test_an_interrupt_in_a_correction_leaves_no_transaction_open(
    traced: tuple[Vault, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A BaseException in the turn's transaction rolls it back (it held SQLite's write
    lock, for every process, until that thread's next transaction)."""
    vault, _ = traced
    cid = vault.add(ASHA).customer_id

    def interrupted(*_: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(Vault, "_recorded", interrupted)
    with pytest.raises((KeyboardInterrupt, Unavailable)):
        asyncio.run(vault.correct_async(cid, {"email": "x@example.in"}))
    monkeypatch.undo()
    other = sqlite3.connect(str(vault.db.url.database), timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")  # the write lock is free
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert vault.get(cid, **BILLING).values["email"] == ASHA["email"]
