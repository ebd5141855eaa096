"""Corrections the event loop serves commit in their turn's transaction, with the turn's
read entries: one commit and one fsync for all, each correction under a savepoint."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import sqlalchemy as sa

from needtoknow.errors import NotFound, ValidationError
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
