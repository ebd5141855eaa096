"""The ledger on real SQLite and PostgreSQL: what is recorded, proofs, heads, tampering."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from needtoknow.config import Settings, init_vault
from needtoknow.errors import IntegrityError, NotFound, PolicyDenied, ValidationError
from needtoknow.ledger import log, merkle
from needtoknow.storage.database import reading
from needtoknow.storage.schema import ledger_customers, ledger_entries, ledger_state
from needtoknow.types import Context
from needtoknow.vault import Vault
from tests.conftest import Clock
from tests.customers import ASHA, RAVI, lookup
from tests.ledgered import entries, reads_after_a_head, seal_unsigned


def test_every_operation_is_recorded(vault: Vault) -> None:
    cid = vault.add(ASHA).customer_id
    vault.get(cid, recipient="billing_team", purpose="billing")
    with pytest.raises(PolicyDenied):
        vault.get(cid, recipient="ad_network", purpose="advertising")
    with pytest.raises(NotFound):
        vault.get("missing", recipient="billing_team", purpose="billing")
    lookup(vault, "email", ASHA["email"])
    vault.correct(cid, {"email": "asha.new@example.in"})
    vault.rotate_keys()
    vault.retire_key(1)
    vault.erase(cid)
    kinds = [
        (
            e["kind"],
            e.get("decision"),
            e.get("detail", {}).get("outcome") or e.get("detail", {}).get("phase"),
        )
        for e in entries(vault)
    ]
    seeded = [("agreement_change", None, None)] * len(vault.policy.agreements)
    assert kinds == [
        ("policy_change", None, None),
        *seeded,
        ("write", None, None),
        ("read", "allow", None),
        ("read", "deny", None),
        ("read", "allow", "not_found"),
        ("find", "allow", None),
        ("correct", None, None),
        ("key_rotation", None, "begin"),
        ("key_rotation", None, "done"),
        ("key_retirement", None, "begin"),
        ("key_retirement", None, "done"),
        ("erase", None, None),
    ]
    read = next(e for e in entries(vault) if e["kind"] == "read")
    assert read["recipient"] == "billing_team" and read["purpose"] == "billing"
    assert read["legal_basis"] == "voluntarily_provided" and read["customer_id"] == cid
    assert read["transforms"]["card_number"] == "last4"
    assert read["policy_version"] == vault.policy.version
    assert next(e for e in entries(vault) if e["kind"] == "find")["customer_id"] == cid


def test_legal_reference_and_case_id_are_recorded(vault: Vault) -> None:
    cid = vault.add(ASHA).customer_id
    context = Context(
        now=vault.clock(),
        legal_reference="IT Act s.69 notice 12",
        case_id="C-9",
        request_id="req-1",
    )
    vault.get(cid, recipient="legal_team", purpose="protect_rights", context=context)
    last = entries(vault)[-1]
    assert (last["legal_reference"], last["case_id"], last["request_id"]) == (
        "IT Act s.69 notice 12",
        "C-9",
        "req-1",
    )


def test_the_ledger_holds_no_pii(vault: Vault) -> None:
    cid = vault.add(ASHA).customer_id
    vault.consents.grant(cid, "credit_reporting", "paper", "form C-1")
    for recipient, purpose in (
        ("billing_team", "billing"),
        ("support_team", "service_delivery"),
        ("credit_bureau", "credit_reporting"),
    ):
        vault.get(cid, recipient=recipient, purpose=purpose)
    lookup(vault, "email", ASHA["email"])
    lookup(vault, "identity_number", {"type": "pan", "number": "ABCPE1234F"})
    with vault.db.connect() as conn:
        blob = b"".join(bytes(r.entry) for r in conn.execute(sa.select(ledger_entries.c.entry)))
    for canary in (
        "Canarywala",
        "asha.canary",
        "9876543210",
        "ABCPE1234F",
        "234567890124",
        "Canary Lane",
        "1987-04-12",
        "123456789012",
        "ashacanary",
    ):
        assert canary.encode() not in blob, canary


def test_a_failed_ledger_write_discloses_nothing(vault: Vault) -> None:
    cid = vault.add(ASHA).customer_id
    with vault.db.begin() as conn:
        conn.execute(ledger_state.delete())  # the next append cannot take an index
    with pytest.raises(Exception):  # noqa: B017 - any failure will do; nothing may come back
        vault.get(cid, recipient="billing_team", purpose="billing")


def test_inclusion_proofs_check_against_a_signed_head(vault: Vault) -> None:
    ids = [vault.add(c).customer_id for c in (ASHA, RAVI, ASHA, RAVI, ASHA)]
    for cid in ids:
        vault.get(cid, recipient="billing_team", purpose="billing")
    head = vault.ledger.sign_head()
    key = vault.keys.signing_public_key()
    assert head.tree_size == len(entries(vault))
    for index in range(head.tree_size):
        vault.ledger.prove(index, head).check(key)
    first_read = [e["kind"] for e in entries(vault)].index("read")
    proof = vault.ledger.prove(first_read, head)
    assert b"billing_team" in proof.entry
    forged = type(proof)(
        proof.index, proof.entry.replace(b"billing_team", b"support_team"), proof.proof, head
    )
    with pytest.raises(IntegrityError):
        forged.check(key)


def test_heads_are_consistent_as_the_ledger_grows(vault: Vault) -> None:
    vault.add(ASHA)
    old = vault.ledger.sign_head()
    for _ in range(6):
        vault.add(RAVI)
    new = vault.ledger.sign_head()
    proof = vault.ledger.consistency(old, new)
    merkle.check_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof)
    assert vault.ledger.sign_head() == new  # nothing new: the same head


def test_history_lists_every_access_to_one_customer(vault: Vault) -> None:
    cid = vault.add(ASHA).customer_id
    other = vault.add(RAVI).customer_id
    vault.get(cid, recipient="billing_team", purpose="billing")
    vault.get(other, recipient="billing_team", purpose="billing")
    with pytest.raises(PolicyDenied):
        vault.get(cid, recipient="ad_network", purpose="advertising")
    lookup(vault, "email", ASHA["email"])
    history = vault.ledger.history(cid)
    assert [json.loads(p.entry)["kind"] for p in history] == ["write", "read", "read", "find"]
    for proof in history:
        proof.check(vault.keys.signing_public_key())


def test_export_can_be_checked_without_our_code(vault: Vault) -> None:
    for customer in (ASHA, RAVI, ASHA):
        vault.add(customer)
    out = io.StringIO()
    assert vault.ledger.export(out) == len(entries(vault))
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    head = lines[-1]["signed_tree_head"]
    # An outside auditor's check, with hashlib and pyca/cryptography only:
    import hashlib
    import struct

    leaves = [hashlib.sha256(b"\x00" + base64.b64decode(e["entry"])).digest() for e in lines[:-1]]
    assert [leaf.hex() for leaf in leaves] == [e["leaf_hash"] for e in lines[:-1]]

    def mth(items: list[bytes]) -> bytes:
        if len(items) == 1:
            return items[0]
        k = 1 << ((len(items) - 1).bit_length() - 1)
        return hashlib.sha256(b"\x01" + mth(items[:k]) + mth(items[k:])).digest()

    assert mth(leaves).hex() == head["root_hash"]
    signed = struct.pack(
        ">BBQQ32s", 0, 1, head["timestamp"], head["tree_size"], bytes.fromhex(head["root_hash"])
    )
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(head["public_key"])).verify(
        bytes.fromhex(head["signature"]), signed
    )
    assert head["public_key"] == vault.keys.signing_public_key().hex()


def test_get_many_records_every_customer_in_one_commit(vault: Vault) -> None:
    ids = [vault.add(ASHA).customer_id, vault.add(RAVI).customer_id]
    before = len(entries(vault))
    got = vault.get_many([*ids, "missing"], recipient="billing_team", purpose="billing")
    assert [d.customer_id for d in got] == ids
    assert got[1].values["card_number"] == "4444"
    recorded = entries(vault)[before:]
    assert [(e["customer_id"], e.get("detail", {}).get("outcome")) for e in recorded] == [
        (ids[0], None),
        (ids[1], None),
        ("missing", "not_found"),
    ]
    # One batch: same time, request and decision; each entry salted apart (threat model).
    assert len({e["salt"] for e in recorded}) == 3
    one = vault.get(ids[0], recipient="billing_team", purpose="billing")
    assert one.customer_id == ids[0] and "salt" not in entries(vault)[-1]
    with pytest.raises(PolicyDenied):
        vault.get_many(ids, recipient="ad_network", purpose="advertising")
    assert [e["decision"] for e in entries(vault)[-2:]] == ["deny", "deny"]


def test_a_read_records_only_the_categories_the_customer_has(vault: Vault) -> None:
    cid = vault.add({"name": "Ravi Sentinelkar", "email": "ravi@example.in"}).customer_id
    vault.get(cid, recipient="billing_team", purpose="billing")
    assert entries(vault)[-1]["categories"] == ["name", "email"]


def test_a_head_over_an_empty_ledger_verifies(tmp_path: Path, clock: Clock) -> None:
    policy = (
        "name: empty\npurposes: {b: {legal_basis: voluntarily_provided, collects: [name]}}\n"
        "recipients: {}\nrules: []\n"
    )
    settings = Settings(home=tmp_path / "h", database_url=f"sqlite:///{tmp_path / 'e.db'}")
    vault = init_vault(settings, policy, clock=clock)
    with vault.db.begin() as conn:  # an empty ledger: drop the init entry
        conn.execute(ledger_entries.delete())
        conn.execute(ledger_state.update().values(size=0, sealed=0, signed=0))
    assert vault.ledger.sign_head().tree_size == 0
    vault.add({"name": "Ravi Sentinelkar"})
    vault.ledger.sign_head()
    report = vault.ledger.verify()
    assert report.ok, report.problems
    vault.close()


def test_verify_does_not_block_writers(sqlite_vault: Vault) -> None:
    with reading(sqlite_vault.db) as conn:
        conn.execute(sa.select(ledger_entries.c.idx)).all()  # a read transaction is open
        sqlite_vault.add(ASHA)  # a writer still gets the write lock


def test_refusals_without_a_customer_are_still_recorded(vault: Vault) -> None:
    before = len(entries(vault))
    with pytest.raises(PolicyDenied):
        vault.get_many([], recipient="ad_network", purpose="advertising")
    with pytest.raises(ValidationError):
        vault.find("email", "not an email", recipient="support_team", purpose="service_delivery")
    recorded = entries(vault)[before:]
    assert [(e["kind"], e["decision"]) for e in recorded] == [("read", "deny"), ("find", "allow")]
    assert recorded[1]["detail"] == {"outcome": "invalid_value"}
    with pytest.raises(ValidationError):
        vault.get("x" * 65, recipient="billing_team", purpose="billing")


@pytest.mark.parametrize("bad", ["a\x00b", "x" * 37, "", "tab\there", "line\u2028break"])
def test_malformed_customer_ids_never_reach_the_ledger(vault: Vault, bad: str) -> None:
    """A denial is recorded without a lookup, so the id itself must be checked first: an
    id the customer index cannot store (PostgreSQL refuses NUL and long strings) would
    otherwise stop every later seal."""
    cid = vault.add(ASHA).customer_id
    calls: list[Callable[[], object]] = [
        lambda: vault.get(bad, recipient="nobody", purpose="billing"),
        lambda: vault.get_many([cid, bad], recipient="billing_team", purpose="billing"),
        lambda: vault.correct(bad, {"email": "x@example.in"}),
        lambda: vault.erase(bad),
        lambda: vault.history(bad),
        lambda: vault.disclosures.request(
            authority="law_enforcement",
            purpose="investigation",
            legal_basis="IT Act 2000 s.69",
            reference="Notice 1",
            customer_ids=[bad],
            categories=["email"],
            case_owner="legal",
        ),
    ]
    for call in calls:
        with pytest.raises(ValidationError, match="customer_id"):
            call()
    assert bad not in {e.get("customer_id") for e in entries(vault)}
    assert vault.ledger.sign_head().tree_size == len(entries(vault))
    assert vault.ledger.verify().ok


def test_verification_reads_one_snapshot_while_heads_are_signed(vault: Vault) -> None:
    """A head signed mid-verification (``ntk ledger sth --every``) indexes entries that
    verification saw as unsealed; reading one snapshot keeps the two views consistent."""
    cid = vault.add(ASHA).customer_id
    vault.get(cid, recipient="billing_team", purpose="billing")
    with reading(vault.db) as conn:
        before: int = conn.execute(sa.select(ledger_state.c.sealed)).scalar_one()
        vault.ledger.sign_head()  # another connection seals and commits meanwhile
        indexed = conn.execute(
            sa.select(sa.func.count()).select_from(ledger_customers)
        ).scalar_one()
        assert conn.execute(sa.select(ledger_state.c.sealed)).scalar_one() == before
    with vault.db.connect() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(ledger_customers)).scalar_one()
            > indexed
        )


def test_sealing_in_small_batches_stores_what_one_seal_would(vault: Vault) -> None:
    """sign_head seals a backlog in batches (bounded lock time); any batch size must give
    the same stored hashes, index and head as one seal — and one head, not one a batch
    (session 24: ~200 heads a minute under a server's load)."""
    ids = [vault.add(c).customer_id for c in (ASHA, RAVI, ASHA, RAVI, ASHA)]
    for cid in ids * 6:
        vault.get(cid, recipient="billing_team", purpose="billing")
    head = vault.ledger.sign_head(batch=3)
    assert [h.tree_size for h in vault.ledger.heads()] == [head.tree_size]
    with vault.db.connect() as conn:
        assert log.state(conn) == log.State(head.tree_size, head.tree_size, head.tree_size)
    report = vault.ledger.verify()
    assert (
        report.ok
        and report.nodes_checked == head.tree_size - 1 - bin(head.tree_size).count("1") + 1
    )
    assert len(vault.history(ids[0])) == 1 + 6
    for index in range(head.tree_size):
        vault.ledger.prove(index, head).check(vault.keys.signing_public_key())


def test_a_recent_head_is_reused_and_an_old_one_replaced(vault: Vault, clock: Clock) -> None:
    from datetime import timedelta

    first = vault.ledger.recent_head(timedelta(seconds=1))
    vault.add(ASHA)
    assert vault.ledger.recent_head(timedelta(seconds=1)) == first  # fresh enough
    clock.now += timedelta(seconds=2)
    newer = vault.ledger.recent_head(timedelta(seconds=1))
    assert newer.tree_size == first.tree_size + 1


def test_a_proof_does_not_let_a_customer_confirm_another_customers_id(vault: Vault) -> None:
    """An operation on several customers writes one entry per customer. Were the copies
    the same but for the id, a customer given the proof of theirs — whose first sibling
    may be another copy — could confirm a guessed id by hashing their own entry with it.
    Each copy carries a random salt, so the guess does not hash to the sibling."""
    from needtoknow.ledger import Entry

    mine, theirs = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
    if vault.ledger.sign_head().tree_size % 2:  # so the two copies below are siblings
        vault.ledger.record(Entry(kind="audit", time=vault.clock(), actor="t"))
    operation = Entry(kind="assignment", time=vault.clock(), actor="t", recipient="x")
    first, _ = vault.ledger.record_many(operation.for_each([mine, theirs]))
    proof = vault.ledger.prove(first)
    shown = json.loads(proof.entry)
    assert shown["customer_id"] == mine and len(shown["salt"]) == 32
    guess = merkle.leaf_hash(proof.entry.replace(mine.encode(), theirs.encode()))
    with reading(vault.db) as conn:
        sibling = bytes(
            conn.execute(
                sa.select(ledger_entries.c.leaf_hash).where(ledger_entries.c.idx == first + 1)
            ).scalar_one()
        )
    assert proof.proof[0] == sibling != guess


def test_a_backlog_is_sealed_a_transaction_a_batch_and_signed_once_at_the_end(
    tmp_path: Path, sqlite_statements: list[str]
) -> None:
    """Each batch commits on its own, so writers wait for one batch at most, and only
    the batch that catches up signs: the one head and the signed mark move together,
    in its transaction."""
    vault = init_vault(Settings(home=tmp_path / "h", database_url=f"sqlite:///{tmp_path}/v.db"))
    ids = [vault.add(c).customer_id for c in (ASHA, RAVI)]
    before = vault.ledger.sign_head().tree_size
    for cid in ids * 5:
        vault.get(cid, recipient="billing_team", purpose="billing")
    sqlite_statements.clear()
    head = vault.ledger.sign_head(batch=3)
    assert head.tree_size == before + 10
    transactions, current = [], []
    for statement in sqlite_statements:
        current.append(statement)
        if statement == "COMMIT":
            transactions.append(current)
            current = []
    sealing = [t for t in transactions if any("SET sealed=" in s for s in t)]
    marks = [
        int(s.split("SET sealed=")[1].split()[0]) for t in sealing for s in t if "SET sealed=" in s
    ]
    assert marks == [before + 3, before + 6, before + 9, before + 10]
    signing = [t for t in transactions if any("INSERT INTO ledger_heads" in s for s in t)]
    assert signing == [sealing[-1]]
    assert any(f"SET signed={head.tree_size}" in s for s in sealing[-1])
    vault.close()


def test_a_seal_cut_off_before_its_head_verifies_and_is_signed_next_time(vault: Vault) -> None:
    """A crash between batches leaves entries sealed but not signed: nothing is wrong
    (verification warns they are unsigned, as for any entry past the newest head), and
    the next head covers them."""
    _, head = reads_after_a_head(vault, 4)
    seal_unsigned(vault, 3)  # the batches that committed before the crash
    with vault.db.connect() as conn:
        assert log.state(conn) == log.State(head.tree_size + 4, head.tree_size + 3, head.tree_size)
    report = vault.ledger.verify()
    assert report.ok and report.unsigned == 4, report.problems
    assert vault.ledger.sign_head().tree_size == head.tree_size + 4
    assert vault.ledger.verify().ok


def test_the_fast_paths_store_entries_and_hashes_as_blobs(sqlite_vault: Vault) -> None:
    """Prepared statements hand bytes to sqlite3 without SQLAlchemy's Binary wrapper
    (storage.fastpath._taken_as_is): what lands must still be blobs, not text."""
    customer_id = sqlite_vault.add(ASHA).customer_id
    for _ in range(3):
        sqlite_vault.get(customer_id, recipient="billing_team", purpose="billing")
    sqlite_vault.ledger.sign_head()
    with sqlite_vault.db.connect() as conn:
        kinds = conn.exec_driver_sql(
            "SELECT DISTINCT typeof(entry), typeof(leaf_hash) FROM ledger_entries"
        ).all()
        nodes = conn.exec_driver_sql("SELECT DISTINCT typeof(hash) FROM ledger_nodes").all()
    assert kinds == [("blob", "blob")] and nodes == [("blob",)]


def test_a_ledger_growing_while_it_is_sealed_still_gets_a_head(
    vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review of session 24: sign_head sealed until it caught up, so a ledger appended
    to faster than it was sealed got no head at all. It now seals what was there when
    it was called and signs that; what came meanwhile waits for the next head."""
    customer_id, head = reads_after_a_head(vault, 4)
    before = head.tree_size
    appended = 0

    def appends_meanwhile(_: float) -> None:  # the pause between batches
        nonlocal appended
        if appended < 40:  # bounded, so the old behaviour ends too (and fails below)
            for _ in range(3):
                vault.get(customer_id, recipient="billing_team", purpose="billing")
            appended += 3

    monkeypatch.setattr("needtoknow.ledger.ledger.time.sleep", appends_meanwhile)
    head = vault.ledger.sign_head(batch=2)
    assert before + 4 <= head.tree_size < before + 4 + appended
    assert vault.ledger.verify().ok


def test_a_sealing_derived_before_another_signer_sealed_is_not_written(vault: Vault) -> None:
    """Sealing is derived from a snapshot and written under the lock afterwards: if
    another signer moved the sealed mark meanwhile, what was derived is dropped (the
    caller derives again), never written twice or over a different start."""
    reads_after_a_head(vault, 3)
    with reading(vault.db) as conn:
        stale = log.derive(conn)
    head = vault.ledger.sign_head()  # another signer, in between
    with vault.db.begin() as conn:
        assert log.apply(conn, stale) is None
        assert log.state(conn).sealed == head.tree_size
    assert vault.ledger.verify().ok


def test_a_sealing_derived_before_the_size_was_lowered_is_not_written(vault: Vault) -> None:
    """Third review of session 24: apply's check of the size had no test. Rows derived
    for entries the ledger no longer says it holds are dropped, not written past it."""
    reads_after_a_head(vault, 5)
    with reading(vault.db) as conn:
        stale = log.derive(conn)
    with vault.db.begin() as conn:
        conn.execute(ledger_state.update().values(size=stale.start + 1))
    with vault.db.begin() as conn:
        assert log.apply(conn, stale) is None
        assert log.state(conn).sealed == stale.start


def test_a_sealing_is_derived_from_one_snapshot(vault: Vault) -> None:
    """The state and the entries a derivation reads are one snapshot (PostgreSQL's
    REPEATABLE READ, SQLite's read transaction): entries committed meanwhile on other
    connections are not half taken."""
    customer_id, _ = reads_after_a_head(vault, 3)
    with reading(vault.db) as conn:
        size = log.state(conn).size
        for _ in range(4):
            vault.get(customer_id, recipient="billing_team", purpose="billing")
        sealing = log.derive(conn, 10_000)
    assert sealing.stop == size
    assert {i for i, _ in sealing.customers} <= set(range(sealing.start, size))
