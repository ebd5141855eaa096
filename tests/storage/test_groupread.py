"""Group read: the customer rows one turn of an event loop asks for, in one statement."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable
from typing import Any

import pytest
import sqlalchemy as sa

from needtoknow.errors import IntegrityError, NotFound, PolicyDenied, Unavailable
from needtoknow.storage.groupread import GroupRead
from needtoknow.storage.schema import customers, ledger_entries
from needtoknow.storage.store import AMONG, Record
from needtoknow.vault import Vault
from tests.customers import ASHA


def customer_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().startswith("SELECT") and "FROM customers" in s]


def people(vault: Vault, n: int) -> dict[str, str]:
    """``n`` customers: id → e-mail."""
    emails = [f"person.{k}@example.in" for k in range(n)]
    return {vault.add({**ASHA, "email": e}).customer_id: e for e in emails}


def test_the_reads_of_one_turn_share_one_statement(traced: tuple[Vault, list[str]]) -> None:
    vault, statements = traced
    emails = people(vault, 5)
    ids = list(emails)
    unknown = "00000000-0000-4000-8000-000000000000"
    before = vault.ledger.sign_head().tree_size
    statements.clear()

    async def reads() -> list[Any]:
        wanted = [ids[n % 5] for n in range(20)] + [unknown]
        calls = (
            vault.get_async(cid, recipient="billing_team", purpose="billing") for cid in wanted
        )
        return await asyncio.gather(*calls, return_exceptions=True)

    found = asyncio.run(reads())
    assert len(customer_reads(statements)) == 1, customer_reads(statements)
    assert [d.values["email"] for d in found[:20]] == [emails[ids[n % 5]] for n in range(20)]
    assert isinstance(found[20], NotFound)
    assert vault.ledger.sign_head().tree_size == before + 21  # the unknown one too
    assert vault.ledger.verify().ok


def test_a_read_the_policy_denies_fetches_nothing(traced: tuple[Vault, list[str]]) -> None:
    """Need to know: the record is not even fetched for a read the policy or the
    customer's consent refuses — alone or among allowed reads of the same turn."""
    vault, statements = traced
    cid, other = people(vault, 2)
    statements.clear()

    async def reads() -> list[Any]:
        # marketing_contact needs a consent this customer never gave
        denied = vault.get_async(cid, recipient="marketing_team", purpose="marketing_contact")
        unknown_purpose = vault.get_async(cid, recipient="billing_team", purpose="resale")
        allowed = vault.get_async(other, recipient="billing_team", purpose="billing")
        return list(await asyncio.gather(denied, unknown_purpose, allowed, return_exceptions=True))

    *refused, disclosed = asyncio.run(reads())
    assert all(isinstance(o, PolicyDenied) for o in refused), refused
    assert disclosed.customer_id == other
    fetched = customer_reads(statements)
    assert len(fetched) == 1 and other in fetched[0] and cid not in fetched[0], fetched
    statements.clear()
    assert (
        vault.get_many([cid], recipient="marketing_team", purpose="marketing_contact") == []
    )  # recorded as denied, left out
    assert customer_reads(statements) == []


def test_fetch_many_finds_the_live_records_in_statements_of_a_bounded_size(vault: Vault) -> None:
    """On SQLite and PostgreSQL: more ids than one statement takes, sizes that are not a
    power of two, an id twice, an unknown one and an erased one."""
    emails = people(vault, AMONG + 3)
    ids = list(emails)
    vault.erase(ids[7])
    unknown = "00000000-0000-4000-8000-000000000000"
    for wanted in (ids, ids[:3], [ids[0], ids[0], unknown, ids[7]]):
        found = vault.reader.fetch_many(wanted)
        assert set(found) == set(wanted) - {unknown, ids[7]}
        assert all(isinstance(r, Record) and r.key.customer_id == c for c, r in found.items())
    assert vault.reader.fetch_many([]) == {}
    disclosed = vault.get_many([*ids, unknown], recipient="billing_team", purpose="billing")
    assert [d.values["email"] for d in disclosed] == [emails[c] for c in ids if c != ids[7]]


def test_a_failed_read_reaches_every_waiter_and_a_cancelled_one_is_skipped() -> None:
    """The first waiter gets the error as a read of its own would; the others a fresh
    Unavailable each, chained to it; nobody waits for ever."""
    calls: list[list[str]] = []

    def broken(keys: list[str]) -> dict[str, int]:
        calls.append(keys)
        raise OSError("disk gone")

    async def reads() -> list[Any]:
        group: GroupRead[str, int] = GroupRead(broken)
        left = asyncio.ensure_future(group.get("a"))
        others = [asyncio.ensure_future(group.get(k)) for k in ("a", "b", "c")]
        await asyncio.sleep(0)  # all four have asked
        left.cancel()
        together = asyncio.gather(left, *others, return_exceptions=True)
        return list(await asyncio.wait_for(together, 5))

    left, first, *followers = asyncio.run(reads())
    assert calls == [["a", "b", "c"]]
    assert isinstance(left, asyncio.CancelledError)
    assert isinstance(first, OSError)
    assert [type(f) for f in followers] == [Unavailable, Unavailable]
    assert followers[0] is not followers[1]
    assert all(f.__cause__ is first for f in followers)


def test_each_turn_fetches_what_it_asked_and_a_missing_key_is_none() -> None:
    calls: list[list[str]] = []

    def lengths(keys: list[str]) -> dict[str, int]:
        calls.append(keys)
        return {k: len(k) for k in keys if k != "gone"}

    async def reads() -> tuple[list[int | None], int | None]:
        group: GroupRead[str, int] = GroupRead(lengths)
        first = await asyncio.gather(*(group.get(k) for k in ("a", "bb", "a", "gone")))
        return first, await group.get("ccc")

    first, later = asyncio.run(reads())
    assert first == [1, 2, 1, None] and later == 3
    assert calls == [["a", "bb", "gone"], ["ccc"]]


def test_an_interrupt_in_the_read_leaves_no_waiter_waiting() -> None:
    """Ctrl-C (or an exit) inside the turn's read goes on out of the loop, and every
    waiter has learnt its read failed: none is left waiting for ever."""

    def interrupted(keys: list[str]) -> dict[str, int]:
        raise KeyboardInterrupt

    loop = asyncio.new_event_loop()
    try:
        group: GroupRead[str, int] = GroupRead(interrupted)
        waiters = [loop.create_task(group.get(k)) for k in ("a", "b")]
        with pytest.raises(KeyboardInterrupt):
            loop.run_until_complete(asyncio.wait(waiters))
        loop.run_until_complete(asyncio.wait(waiters, timeout=5))
        assert [type(w.exception()) for w in waiters] == [Unavailable, Unavailable]
    finally:
        loop.close()


def outcomes(vault: Vault, since: int) -> dict[str | None, str | None]:
    """Customer id → the outcome of each read entry appended from index ``since``."""
    with vault.db.connect() as conn:
        rows: Iterable[str] = conn.execute(
            sa.select(ledger_entries.c.entry).where(ledger_entries.c.idx >= since)
        ).scalars()
        entries = [json.loads(row) for row in rows]
    return {
        e["customer_id"]: e.get("detail", {}).get("outcome") for e in entries if e["kind"] == "read"
    }


@pytest.mark.parametrize(
    "tampered",
    [
        {"sealed_fields": b"\xc1"},  # not a MessagePack map
        {"sealed_fields": None},
        {"kek_version": None},
        {"dek_version": "x"},
    ],
    ids=["frame", "no-record", "no-kek-version", "text-version"],
)
def test_a_malformed_record_fails_its_own_read_alone_and_is_ledgered(
    traced: tuple[Vault, list[str]], tampered: dict[str, Any]
) -> None:
    """A tampered row among a turn's reads (or a batch's) is that read's integrity error,
    recorded in the ledger; the other reads are disclosed. Reads of the same bad row in
    one turn each get an error of their own."""
    vault, _ = traced
    bad, good = people(vault, 2)
    with vault.db.begin() as conn:
        conn.execute(customers.update().where(customers.c.id == bad).values(**tampered))
    size = vault.ledger.sign_head().tree_size

    async def reads() -> list[Any]:
        calls = (
            vault.get_async(c, recipient="billing_team", purpose="billing")
            for c in (bad, good, bad)
        )
        return list(await asyncio.gather(*calls, return_exceptions=True))

    failed, disclosed, again = asyncio.run(reads())
    assert isinstance(failed, IntegrityError) and isinstance(again, IntegrityError)
    assert failed is not again
    assert disclosed.customer_id == good
    assert outcomes(vault, size) == {bad: "integrity_error", good: None}

    size = vault.ledger.sign_head().tree_size
    with pytest.raises(IntegrityError):
        vault.get(bad, recipient="billing_team", purpose="billing")
    assert outcomes(vault, size) == {bad: "integrity_error"}

    size = vault.ledger.sign_head().tree_size
    with pytest.raises(IntegrityError):
        vault.get_many([good, bad], recipient="billing_team", purpose="billing")
    assert outcomes(vault, size) == {good: None, bad: "integrity_error"}


def test_a_batch_of_any_size_is_one_of_a_few_statements(traced: tuple[Vault, list[str]]) -> None:
    """IN lists are padded to a power of two, so SQLite prepares a handful of statements
    however the turns' sizes vary."""
    vault, statements = traced
    ids = list(people(vault, 20))
    statements.clear()
    for n in range(1, 21):
        assert set(vault.reader.fetch_many(ids[:n])) == set(ids[:n])
    lists = [re.search(r"IN \(([^)]*)\)", s) for s in customer_reads(statements)]
    lengths = {m[1].count(",") + 1 for m in lists if m is not None}
    assert lengths == {1, 2, 4, 8, 16, 32}
