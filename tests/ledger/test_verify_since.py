"""``ntk ledger verify --since-head``: only what was appended after a verified head is
read, and what was done to it is caught as a full verification catches it."""

from __future__ import annotations

import random

import pytest

from needtoknow.ledger import TreeHead, merkle
from needtoknow.ledger.since import Growing
from needtoknow.storage.schema import ledger_audits
from needtoknow.types import Context
from needtoknow.vault import Vault
from tests.conftest import Ntk
from tests.ledger.test_tamper import (
    Tamper,
    edit,
    edit_and_rehash,
    forge_node,
    forge_receipts_outside,
    hide_from_history,
    hide_from_scope,
    ledger_vault,  # noqa: F401 - the fixture
    reorder,
    truncate,
    unseal_to_hide,
)


def head_at(vault: Vault, size: int) -> TreeHead:
    (head,) = [h for h in vault.ledger.heads() if h.tree_size == size]
    return head


def reads(vault: Vault, n: int) -> None:
    cid = vault.customer_ids(limit=1)[0]
    for i in range(n):
        context = Context(now=vault.clock(), request_id=f"more-{i}")
        vault.get(cid, recipient="billing_team", purpose="billing", context=context)


def test_a_tree_grown_from_any_frontier_has_rfc_6962_roots_and_nodes() -> None:
    rng = random.Random(22)
    leaves = [merkle.leaf_hash(rng.randbytes(8)) for _ in range(70)]
    levels = [leaves]  # every complete subtree, level by level
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append(
            [merkle.node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        )

    class Levels:
        def complete(self, level: int, index: int) -> bytes:
            return levels[level][index]

    for start in range(0, 70):
        frontier, offset = [], 0
        for level in reversed(range(start.bit_length())):
            if start >> level & 1:
                frontier.append((level, offset >> level, levels[level][offset >> level]))
                offset += 1 << level
        grown = Growing(frontier)
        assert grown.root() == merkle.root(Levels(), start)
        for size in range(start + 1, 71):
            grown.append(leaves[size - 1])
            assert grown.root() == merkle.root(Levels(), size), (start, size)
        for level, nodes in grown.nodes.items():
            for index, node in nodes.items():
                assert levels[level][index] == node


def test_only_the_new_entries_are_read_and_every_later_head_is_checked(
    ledger_vault: Vault,  # noqa: F811
) -> None:
    reads(ledger_vault, 5)
    ledger_vault.ledger.sign_head()  # 17
    reads(ledger_vault, 8)
    ledger_vault.ledger.sign_head()  # 25
    full = ledger_vault.ledger.verify()
    read: list[int] = []
    witness = head_at(ledger_vault, 17)
    old_witness = head_at(ledger_vault, 6)
    since = ledger_vault.ledger.verify(
        [witness, old_witness], read.append, since=head_at(ledger_vault, 12)
    )
    assert since.ok and full.ok, since.problems
    assert (since.since, since.entries, sum(read)) == (12, 25, 13)  # 13 read, not 25
    assert since.heads_checked == 2 and since.witnesses_checked == 1 and since.nodes_checked
    assert any("older than the head" in w for w in since.warnings)


@pytest.mark.parametrize(
    ("tamper", "says"),
    [
        (edit, "entry 8 was changed"),
        (edit_and_rehash, "entries 6..11 do not match the signed tree head for size 12"),
        (reorder, "do not match the signed tree head"),
        (truncate, "covers entries that are gone"),
        (forge_node, "stored node level 2 index 1"),
        (hide_from_history, "the customer index does not match entry 9"),
        (hide_from_scope, "the receipts index does not match entry 9"),
        (forge_receipts_outside, "the receipts index lists entry"),
        (unseal_to_hide, "covers 6 entries, but 4 are sealed"),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_tampering_after_the_head_is_caught_as_a_full_verification_catches_it(
    ledger_vault: Vault,  # noqa: F811
    tamper: Tamper,
    says: str,
) -> None:
    start = head_at(ledger_vault, 6)
    assert ledger_vault.ledger.verify(since=start).ok
    with ledger_vault.db.begin() as conn:
        tamper(conn)
    report = ledger_vault.ledger.verify(since=start)
    assert not report.ok
    assert any(says in problem for problem in report.problems), report.problems


def test_a_rewritten_subtree_before_the_head_fails_the_fold(
    ledger_vault: Vault,  # noqa: F811
) -> None:
    """The stored subtrees that make up the starting head's tree must give its signed
    root: a node rewritten there (to hide a change to the entries under it) is caught."""
    from needtoknow.storage.schema import ledger_nodes

    with ledger_vault.db.begin() as conn:
        conn.execute(
            ledger_nodes.update()
            .where(ledger_nodes.c.level == 3, ledger_nodes.c.idx == 0)
            .values(hash=b"\x07" * 32)
        )
    report = ledger_vault.ledger.verify(since=head_at(ledger_vault, 12))
    assert not report.ok and report.first_bad == (0, 11), report.problems
    assert "no longer gives the root of the head for size 12" in report.problems[0]


def test_since_head_starts_where_the_last_verification_that_held_ended(ntk: Ntk) -> None:
    first = ntk.json("ledger", "verify", "--since-head")
    assert first["ok"] and first["since"] == 0  # none held before: all of it
    ntk("ledger", "sth")
    second = ntk.json("ledger", "verify", "--since-head")
    assert second["ok"] and 0 < second["since"] <= first["entries"] < second["entries"]


def test_an_edited_record_of_the_last_verification_does_not_make_a_run_skip_the_past(
    ledger_vault: Vault,  # noqa: F811
) -> None:
    """``ledger_audits`` is nothing signed: raising the entries the last run reached, to
    make the next one start past a rewrite, must not be believed — the run's own ledger
    entry says otherwise, and the next run verifies all of it."""
    audits = ledger_vault.audits
    assert audits.run(since_last=True).ok
    reads(ledger_vault, 3)
    assert audits.run(since_last=True).since > 0  # the record agrees: it starts there
    reads(ledger_vault, 3)
    with ledger_vault.db.begin() as conn:
        conn.execute(ledger_audits.update().values(entries=ledger_audits.c.entries + 3))
    report = audits.run(since_last=True)
    assert report.ok and report.since == 0
    assert "no earlier verification held: all of it was verified" in report.warnings
    with ledger_vault.db.begin() as conn:  # a record from before migration 0029
        conn.execute(ledger_audits.update().values(ledger_index=None))
    assert audits.run(since_last=True).since == 0


def test_a_forged_record_of_a_verification_does_not_make_a_run_skip_the_past(
    ledger_vault: Vault,  # noqa: F811
) -> None:
    """Whoever can write the database can append an ``audit`` entry and a matching row
    of their own, claiming a verification up to a later head. Without the ledger key
    they cannot sign its statement: not believed, the next run verifies all of it."""
    import uuid

    from needtoknow.ledger import Entry

    audits, ledger = ledger_vault.audits, ledger_vault.ledger
    assert audits.run(since_last=True).ok
    genuine = audits.run(since_last=True)
    assert genuine.ok and genuine.since > 0
    reads(ledger_vault, 3)
    later = ledger.sign_head()
    with ledger_vault.db.connect() as conn:
        kept = conn.execute(
            ledger_audits.select().order_by(ledger_audits.c.verified_at.desc())
        ).first()
    assert kept is not None
    statement = ledger.attest(head_at(ledger_vault, genuine.since))
    for forged in (
        {**statement, "tree_size": later.tree_size, "root_hash": later.root_hash.hex()},
        {k: v for k, v in statement.items() if k != "signature"},
        None,
    ):
        with ledger_vault.db.begin() as conn:
            detail: dict[str, object] = {"entries": later.tree_size, "ok": True, "since": 0}
            if forged is not None:
                detail["verified"] = forged
            entry = Entry(kind="audit", time=ledger_vault.clock(), actor="x", detail=detail)
            index = ledger.append(conn, entry)
            conn.execute(
                ledger_audits.insert().values(
                    id=str(uuid.uuid4()),
                    verified_at=ledger_vault.clock(),
                    actor="x",
                    entries=later.tree_size,
                    witnesses=0,
                    ok=True,
                    ledger_index=index,
                    since=0,
                )
            )
        assert ledger.attested(forged) is None
        report = audits.run(since_last=True)
        assert report.ok and report.since == 0, forged
        with ledger_vault.db.begin() as conn:  # the honest run's own record: next time
            conn.execute(ledger_audits.delete().where(ledger_audits.c.actor != "x"))
    assert ledger.attested(statement) == head_at(ledger_vault, genuine.since)


def test_a_statement_signed_by_a_retired_key_does_not_make_a_run_skip_the_past(
    ledger_vault: Vault,  # noqa: F811
) -> None:
    """Keys are rotated when one may have leaked: whoever holds the old private key must
    not vouch for a start with it. After a rotation the next run verifies everything."""
    audits, ledger = ledger_vault.audits, ledger_vault.ledger
    assert audits.run(since_last=True).ok
    genuine = audits.run(since_last=True)
    assert genuine.ok and genuine.since > 0
    statement = ledger.attest(head_at(ledger_vault, genuine.since))
    assert ledger.attested(statement) is not None
    ledger_vault.rotate_signing_key()
    assert ledger.attested(statement) is None
    first = audits.run(since_last=True)
    assert first.ok and first.since == 0
    assert audits.run(since_last=True).since > 0  # signed by the new key: believed again


def test_a_head_signed_while_a_verification_ran_is_not_the_next_start(
    ledger_vault: Vault,  # noqa: F811
) -> None:
    """A server seals and signs every minute. A head signed while a verification ran
    covers entries that were unsealed when it looked (their index rows unseen): the run
    vouches for the newest head it checked, so the next starts there, not later."""
    ledger, audits = ledger_vault.ledger, ledger_vault.audits
    checked = ledger.sign_head()
    reads(ledger_vault, 3)
    report = ledger.verify()
    assert report.ok and report.head_size == checked.tree_size < report.entries
    ledger.sign_head()  # "meanwhile", as ntk serve's seal would
    assert audits.run(since_last=True).ok  # a run over everything, recorded
    reads(ledger_vault, 2)
    later = audits.run(since_last=True)
    assert later.ok and later.since > checked.tree_size
    quiet = audits.run(since_last=True)  # nothing new: it still starts from a head
    assert quiet.ok and quiet.since > 0
