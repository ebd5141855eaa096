"""`Ledger.verify` catches edits, deletions, insertions, reordering and truncation made
directly in the database (SQLite and PostgreSQL), and names the first bad entry."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from needtoknow.config import Settings, init_vault
from needtoknow.errors import LedgerTampered
from needtoknow.ledger import merkle
from needtoknow.storage.schema import (
    ledger_customers,
    ledger_entries,
    ledger_heads,
    ledger_nodes,
    ledger_receipts,
    ledger_state,
)
from needtoknow.types import Context
from needtoknow.vault import Vault
from tests.conftest import Clock
from tests.customers import ASHA, RAVI

Tamper = Callable[[sa.Connection], None]


POLICY = """\
name: tamper
purposes:
  billing:
    legal_basis: voluntarily_provided
    collects: [name, email, address, card_number, telephone, date_of_birth, bank_account,
               identity_number, driving_licence, digital_identity]
recipients: {billing_team: {kind: internal_team}}
rules:
  - {id: r, recipient: billing_team, purpose: billing, clause: x,
     grant: {name: full, email: full, address: full, card_number: last4, telephone: full}}
"""


@pytest.fixture
def ledger_vault(settings: Settings, clock: Clock) -> Iterator[Vault]:
    """12 entries, with signed tree heads at sizes 6 and 12."""
    vault = init_vault(settings, POLICY, clock=clock)
    for customer in (ASHA, RAVI, ASHA, RAVI, ASHA):
        vault.add(customer)
    assert vault.ledger.sign_head().tree_size == 6
    cid = vault.customer_ids(limit=1)[0]
    for i in range(6):
        context = Context(now=vault.clock(), request_id=f"req-{i}")
        vault.get(cid, recipient="billing_team", purpose="billing", context=context)
    assert vault.ledger.sign_head().tree_size == 12
    yield vault
    vault.close()


def entry(conn: sa.Connection, index: int) -> bytes:
    return bytes(
        conn.execute(
            sa.select(ledger_entries.c.entry).where(ledger_entries.c.idx == index)
        ).scalar_one()
    )


def set_entry(conn: sa.Connection, index: int, data: bytes, rehash: bool = False) -> None:
    values: dict[str, bytes] = {"entry": data}
    if rehash:
        values["leaf_hash"] = merkle.leaf_hash(data)
    conn.execute(ledger_entries.update().where(ledger_entries.c.idx == index).values(**values))


def edit(conn: sa.Connection) -> None:
    set_entry(conn, 8, entry(conn, 8).replace(b"billing_team", b"support_team"))


def edit_and_rehash(conn: sa.Connection) -> None:
    """Rewrite an entry, its leaf hash and what the receipts index derived from it."""
    set_entry(conn, 8, entry(conn, 8).replace(b"billing_team", b"support_team"), rehash=True)
    receipts = ledger_receipts.c
    conn.execute(
        ledger_receipts.update()
        .where(receipts.idx == 8, receipts.party == "recipient:billing_team")
        .values(party="recipient:support_team")
    )


def delete(conn: sa.Connection) -> None:
    conn.execute(ledger_entries.delete().where(ledger_entries.c.idx == 4))


def insert(conn: sa.Connection) -> None:
    """Shift entries 3.. up by one and slip a forged entry in at 3."""
    rows = conn.execute(
        sa.select(ledger_entries)
        .where(ledger_entries.c.idx >= 3)
        .order_by(ledger_entries.c.idx.desc())
    ).all()
    for row in rows:
        conn.execute(
            ledger_entries.update().where(ledger_entries.c.idx == row.idx).values(idx=row.idx + 1)
        )
    forged = entry(conn, 2)
    conn.execute(
        ledger_entries.insert().values(idx=3, entry=forged, leaf_hash=merkle.leaf_hash(forged))
    )


def reorder(conn: sa.Connection) -> None:
    a, b = entry(conn, 7), entry(conn, 9)
    set_entry(conn, 7, b, rehash=True)
    set_entry(conn, 9, a, rehash=True)


def truncate(conn: sa.Connection) -> None:
    conn.execute(ledger_entries.delete().where(ledger_entries.c.idx >= 10))


def hide_from_history(conn: sa.Connection) -> None:
    """Drop a read from the customer index, so "who saw my data" would not show it."""
    conn.execute(ledger_customers.delete().where(ledger_customers.c.idx == 9))


def hide_from_scope(conn: sa.Connection) -> None:
    """Drop a read from the receipts index, so an incident's scope would miss it."""
    conn.execute(ledger_receipts.delete().where(ledger_receipts.c.idx == 9))


def forge_receipts_outside(conn: sa.Connection) -> None:
    """Slip receipts for no entry at all, below 0 and far past the end, to inflate a
    scope (and its notices)."""
    row = {"party": "recipient:billing_team", "at": 1, "customer_id": "someone", "categories": ""}
    conn.execute(ledger_receipts.insert(), [{**row, "idx": -1}, {**row, "idx": 2**62 + 5}])


def forge_receipt_at_the_top(conn: sa.Connection) -> None:
    """A receipt at the largest index a column holds: past every range ending below it."""
    row = {"party": "recipient:billing_team", "at": 1, "customer_id": "someone", "categories": ""}
    conn.execute(ledger_receipts.insert(), [{**row, "idx": 2**63 - 1}])


def forge_entry_far_past_the_end(conn: sa.Connection) -> None:
    """An entry row at 2**62: verification must not walk every window up to it."""
    data = entry(conn, 3)
    conn.execute(
        ledger_entries.insert().values(idx=2**62, entry=data, leaf_hash=merkle.leaf_hash(data))
    )


def unseal_to_hide(conn: sa.Connection) -> None:
    """Lower the sealed mark and drop the index rows above it: the customer index then
    looks complete for what it claims to cover, and the reads at 4.. vanish from history."""
    conn.execute(ledger_state.update().values(sealed=4))
    conn.execute(ledger_customers.delete().where(ledger_customers.c.idx >= 4))


def edit_rehash_and_drop_nodes(conn: sa.Connection) -> None:
    """Review finding: with the stored nodes deleted, `verify --json` named entries 0..1
    (where the first hash was missing) instead of the signed range holding entry 3."""
    set_entry(conn, 3, entry(conn, 3).replace(b"write", b"erase"), rehash=True)
    conn.execute(ledger_nodes.delete())


def forge_node(conn: sa.Connection) -> None:
    conn.execute(
        ledger_nodes.update()
        .where(ledger_nodes.c.level == 2, ledger_nodes.c.idx == 1)
        .values(hash=b"\x00" * 32)
    )


@pytest.mark.parametrize(
    ("tamper", "first_bad", "says"),
    [
        (edit, (8, 8), "entry 8 was changed"),
        # Rewriting the stored leaf hash too: the signed head and the stored subtree
        # hashes still disagree, and the smallest such subtree is named.
        (edit_and_rehash, (8, 9), "entries 6..11 do not match the signed tree head for size 12"),
        (delete, (4, 4), "entry 4 is missing"),
        (insert, (2, 3), "stored node level 1 index 1 (entries 2..3)"),
        (reorder, (6, 7), "entries 6..11 do not match"),
        (truncate, (10, 10), "covers entries that are gone"),
        (forge_node, (4, 7), "stored node level 2 index 1"),
        (edit_rehash_and_drop_nodes, (0, 5), "entries 0..5 do not match the signed tree head"),
        (hide_from_history, (9, 9), "the customer index does not match entry 9"),
        (hide_from_scope, (9, 9), "the receipts index does not match entry 9"),
        (forge_receipts_outside, (-1, -1), "the receipts index lists entry -1"),
        (
            forge_receipt_at_the_top,
            (2**63 - 1, 2**63 - 1),
            f"the receipts index lists entry {2**63 - 1}",
        ),
        (forge_entry_far_past_the_end, (12, 12), "entry 12 is missing"),
        (unseal_to_hide, (4, 4), "4 entries are sealed, but heads cover 12"),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_tampering_is_detected_and_located(
    ledger_vault: Vault, tamper: Tamper, first_bad: tuple[int, int], says: str
) -> None:
    assert ledger_vault.ledger.verify().ok
    with ledger_vault.db.begin() as conn:
        tamper(conn)
    report = ledger_vault.ledger.verify()
    assert not report.ok
    assert report.first_bad == first_bad, report.problems
    assert any(says in problem for problem in report.problems), report.problems


def test_a_forged_head_signature_is_detected(ledger_vault: Vault) -> None:
    from needtoknow.storage.schema import ledger_heads

    with ledger_vault.db.begin() as conn:
        conn.execute(
            ledger_heads.update()
            .where(ledger_heads.c.tree_size == 6)
            .values(signature=b"\x01" * 64)
        )
    report = ledger_vault.ledger.verify()
    assert any("invalid signature" in p for p in report.problems)


def test_sqlite_refuses_an_entry_index_that_is_not_an_integer(ledger_vault: Vault) -> None:
    """An entry's index is SQLite's rowid (migration 0031): an entry cannot be moved to
    3.5, between two indexes, or to a text that sorts after every number, where no
    window of indexes would find it."""
    if ledger_vault.db.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's bigint holds no fractions")
    for forged in ("3.5", "'abc'"):
        refused = pytest.raises(sa.exc.IntegrityError, match="datatype mismatch")
        with refused, ledger_vault.db.begin() as conn:
            conn.execute(sa.text(f"UPDATE ledger_entries SET idx = {forged} WHERE idx = 4"))
    assert ledger_vault.ledger.verify().ok


def test_an_index_row_of_no_number_is_named(ledger_vault: Vault) -> None:
    """SQLite keeps text in an integer column, and text sorts after every number, so no
    range of indexes finds it: a customer-index row for entry 'abc' (which would break
    that customer's history) is still reported."""
    if ledger_vault.db.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's bigint holds no text")
    with ledger_vault.db.begin() as conn:
        conn.execute(sa.text("INSERT INTO ledger_customers (customer_id, idx) VALUES ('x', 'abc')"))
    report = ledger_vault.ledger.verify()
    assert report.first_bad == (12, 12), report.problems
    assert "the customer index lists entry 'abc', which does not exist" in report.problems


def test_a_lowered_sealed_mark_is_refused_before_anything_is_sealed(ledger_vault: Vault) -> None:
    """Review of session 24: the seal ran before the check, so a sealed mark lowered
    below the newest head raised a raw unique-key error (PostgreSQL's naming a
    customer) instead of LedgerTampered."""
    with ledger_vault.db.begin() as conn:
        conn.execute(ledger_state.update().values(sealed=6))
    with pytest.raises(LedgerTampered):
        ledger_vault.ledger.sign_head()


def test_index_rows_hidden_below_a_lowered_mark_are_not_resealed_over(
    ledger_vault: Vault,
) -> None:
    """Review of session 24: lower the sealed mark and delete the index rows and nodes
    past it (entries 6..11 gone from 'who saw my data'): verify flags it, and the next
    head — a server signs every minute — must refuse, not reseal and sign the evidence
    away."""
    with ledger_vault.db.begin() as conn:
        conn.execute(ledger_state.update().values(sealed=6))
        conn.execute(ledger_customers.delete().where(ledger_customers.c.idx >= 6))
        conn.execute(ledger_receipts.delete().where(ledger_receipts.c.idx >= 6))
        for level in range(1, 5):
            past = (ledger_nodes.c.idx + 1) * (1 << level) > 6
            conn.execute(ledger_nodes.delete().where(ledger_nodes.c.level == level, past))
    assert not ledger_vault.ledger.verify().ok
    with pytest.raises(LedgerTampered):
        ledger_vault.ledger.sign_head()
    assert not ledger_vault.ledger.verify().ok  # the evidence is still there


def test_heads_deleted_with_the_signed_mark_lowered_are_warned_of(ledger_vault: Vault) -> None:
    """One UPDATE of the signed mark hides deleted heads from the marks' check (before
    session 24 hiding them took the sealed mark lowered and every node and index row
    past it deleted; a witness catches either). Entries sealed past the newest head are
    what a cut-off seal also leaves: verify warns of both, naming the witness check."""
    with ledger_vault.db.begin() as conn:
        conn.execute(ledger_heads.delete().where(ledger_heads.c.tree_size > 6))
        conn.execute(ledger_state.update().values(signed=6))
    report = ledger_vault.ledger.verify()
    assert report.ok and report.unsigned == 6
    assert any("heads deleted and the signed mark lowered" in w for w in report.warnings)


def test_a_mark_lowered_between_seal_batches_is_refused(
    ledger_vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Second review of session 24: the check runs in every batch's transaction, not
    only the first — a mark lowered (and the index rows past it hidden) while a long
    backlog is being sealed is refused at the next batch."""
    cid = ledger_vault.customer_ids(limit=1)[0]
    for _ in range(6):
        ledger_vault.get(cid, recipient="billing_team", purpose="billing")

    def tamper(_: float) -> None:  # the pause between two batches
        with ledger_vault.db.begin() as conn:
            conn.execute(ledger_state.update().values(sealed=11))
            conn.execute(ledger_customers.delete().where(ledger_customers.c.idx >= 11))
            conn.execute(ledger_receipts.delete().where(ledger_receipts.c.idx >= 11))

    monkeypatch.setattr("needtoknow.ledger.ledger.time.sleep", tamper)
    with pytest.raises(LedgerTampered):
        ledger_vault.ledger.sign_head(batch=2)


def test_a_size_lowered_below_the_newest_head_is_refused_not_signed_smaller(
    ledger_vault: Vault,
) -> None:
    """Second review of session 24: with the size lowered below the marks, the seal
    lowered them to it and the key signed a head smaller than the newest — a rollback
    handed to witnesses."""
    with ledger_vault.db.begin() as conn:
        conn.execute(ledger_state.update().values(size=9))
    with pytest.raises(LedgerTampered):
        ledger_vault.ledger.sign_head()
    assert [h.tree_size for h in ledger_vault.ledger.heads()] == [6, 12]


def test_a_size_lowered_while_a_backlog_is_sealed_is_refused_not_chased(
    ledger_vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Third review of session 24: a size lowered mid-signing, to at or above the
    sealed mark but below what the signing set out to cover, made sign_head loop for
    ever (busily, on demand). The size never shrinks: refused."""
    cid = ledger_vault.customer_ids(limit=1)[0]
    for _ in range(6):
        ledger_vault.get(cid, recipient="billing_team", purpose="billing")
    pauses = 0

    def tamper(_: float) -> None:  # the pause between two batches
        nonlocal pauses
        pauses += 1
        if pauses == 1:
            with ledger_vault.db.begin() as conn:
                sealed = int(conn.execute(sa.select(ledger_state.c.sealed)).scalar_one())
                conn.execute(ledger_state.update().values(size=sealed + 1))
        assert pauses < 100, "sign_head chased a size that shrank"

    monkeypatch.setattr("needtoknow.ledger.ledger.time.sleep", tamper)
    with pytest.raises(LedgerTampered):
        ledger_vault.ledger.sign_head(batch=2)
