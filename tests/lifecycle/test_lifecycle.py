"""The data lifecycle end to end on real SQLite and PostgreSQL, the clock moved by hand:
closure, erasure that keeps what the law keeps, retention runs, legal holds, and the
recipients told to erase their copies."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from needtoknow.config import Settings
from needtoknow.errors import NeedToKnowError, NotFound, PolicyDenied, ValidationError
from needtoknow.storage.schema import customers, ledger_entries
from needtoknow.vault import Vault
from tests.conftest import Clock
from tests.customers import ASHA

# What CERT-In direction (v) keeps of a VPS subscriber that ASHA has (no hire details)
SUBSCRIBER = ["address", "digital_identity", "email", "name", "telephone"]


def kinds(vault: Vault) -> list[dict[str, Any]]:
    with vault.db.connect() as conn:
        rows = conn.execute(sa.select(ledger_entries.c.entry).order_by(ledger_entries.c.idx))
        return [json.loads(bytes(row[0])) for row in rows]


def vps_customer(vault: Vault) -> str:
    cid = vault.add(ASHA).customer_id
    vault.accounts.set_services(cid, ["vps"])
    return cid


def test_erasing_a_vps_customer_keeps_the_cert_in_record_for_legal_process_only(
    vault: Vault,
) -> None:
    cid = vps_customer(vault)
    erased = vault.erase(cid)
    assert sorted(k["category"] for k in erased.kept) == SUBSCRIBER
    assert set(erased.erased) == {
        "bank_account",
        "card_number",
        "date_of_birth",
        "driving_licence",
        "identity_number",
    }
    email = next(k for k in erased.kept if k["category"] == "email")
    assert email["until"] == "2031-11-26" and "CERT-In" in email["laws"][0]
    with pytest.raises(PolicyDenied, match="held under cert_in_subscriber_records") as denied:
        vault.get(cid, recipient="support_team", purpose="service_delivery")
    assert set(denied.value.reasons) >= {"email", "name"}
    status = vault.accounts.status(cid)
    assert status.closed_reason == "erasure_request" and status.categories == tuple(SUBSCRIBER)
    (erasure,) = [e for e in kinds(vault) if e["kind"] == "erase"]
    assert erasure["detail"] == {
        "cause": "erasure",
        "held": {c: "2031-11-26" for c in SUBSCRIBER}
        | {"address": "2034-11-26", "name": "2034-11-26"},
    }


def test_held_data_is_released_to_the_authority_through_a_legal_disclosure(
    vault: Vault, settings: Settings, clock: Clock
) -> None:
    import dataclasses

    from needtoknow.config import open_vault

    cid = vps_customer(vault)
    vault.erase(cid)
    owner = vault.acting("legal:priya")
    request = owner.disclosures.request(
        authority="law_enforcement",
        purpose="investigation",
        legal_basis="IT Act 2000 s.69",
        reference="Notice 7/2027",
        customer_ids=[cid],
        categories=["email", "name"],
        case_owner="Priya (legal)",
    )
    approver = open_vault(dataclasses.replace(settings, actor="dpo:arun"), clock=clock)
    approver.disclosures.approve(request.id)
    approver.close()
    body = json.loads(owner.disclosures.release(request.id).payload)
    assert body["customers"][0]["fields"]["email"] == ASHA["email"]


def test_a_retention_run_erases_on_schedule_and_a_second_run_changes_nothing(
    vault: Vault, clock: Clock
) -> None:
    plain, vps, open_one = (
        vault.add(ASHA).customer_id,
        vps_customer(vault),
        vault.add(ASHA).customer_id,
    )
    vault.accounts.close(plain, "non_payment")
    vault.accounts.close(vps)
    clock.now += timedelta(days=200)
    assert vault.erasures.run().changed == []  # the DPDP Rules' year is not over
    clock.now += timedelta(days=200)
    first = vault.erasures.run()
    assert first.examined == 2
    by_id = {o.customer_id: o for o in first.changed}
    assert by_id[plain].whole and set(by_id[vps].held()) == set(SUBSCRIBER)
    with pytest.raises(NotFound):
        vault.get(plain, recipient="billing_team", purpose="billing")
    assert vault.get(open_one, recipient="billing_team", purpose="billing").values
    assert vault.erasures.run().changed == []  # nothing more is due
    clock.now += timedelta(days=365 * 5)
    later = vault.erasures.run()
    assert [o.erased for o in later.changed] == [("digital_identity", "email", "telephone")]
    assert vault.accounts.status(vps).categories == ("address", "name")  # invoices: 8 years
    clock.now += timedelta(days=365 * 3)
    assert vault.erasures.run().changed[0].whole
    summaries = [e for e in kinds(vault) if e["kind"] == "retention" and "examined" in e["detail"]]
    assert len(summaries) == 5  # every run is ledgered, even one that changed nothing


def test_a_dry_run_may_look_ahead_but_a_real_run_is_always_now(vault: Vault, clock: Clock) -> None:
    cid = vault.add(ASHA).customer_id
    vault.accounts.close(cid)
    ahead = clock.now + timedelta(days=800)
    preview = vault.erasures.run(dry_run=True, as_of=ahead)
    assert preview.changed[0].whole
    assert vault.get(cid, recipient="billing_team", purpose="billing").values  # unchanged
    with pytest.raises(ValidationError, match="dry_run_only"):
        vault.erasures.run(as_of=ahead)


def test_a_legal_hold_keeps_data_through_erasure_until_released(vault: Vault, clock: Clock) -> None:
    cid = vault.add(ASHA).customer_id
    placed = vault.holds.place(
        cid, ["email", "telephone"], "Civil suit CS 44/2026", date(2027, 12, 31)
    )
    erased = vault.erase(cid)
    assert sorted(k["category"] for k in erased.kept) == ["email", "telephone"]
    with pytest.raises(PolicyDenied, match=placed.hold.id):
        vault.get(cid, recipient="support_team", purpose="service_delivery")
    assert vault.erasures.run().changed == []  # the hold stands
    vault.holds.release(placed.hold.id)
    assert vault.erasures.run().changed[0].whole
    with pytest.raises(NeedToKnowError, match="already released"):
        vault.holds.release(placed.hold.id)


def test_a_hold_refuses_the_purposes_data_was_collected_for(vault: Vault) -> None:
    cid = vault.add(ASHA).customer_id
    with pytest.raises(ValidationError, match="investigation, legal_process"):
        vault.holds.place(cid, ["email"], "x", date(2027, 1, 1), readable_for=("billing",))
    with pytest.raises(ValidationError, match="future_date"):
        vault.holds.place(cid, ["email"], "x", date(2020, 1, 1))


def test_recipients_that_received_erased_data_are_told_to_erase_it(
    vault: Vault, clock: Clock
) -> None:
    cid = vault.add(ASHA).customer_id
    vault.agreements.assign("AGR-COLL-2026", [cid])
    vault.get(cid, recipient="collection_agency", purpose="bill_collection")
    vault.get(cid, recipient="billing_team", purpose="billing")  # internal: no instruction
    vault.ledger.sign_head()  # the customer index covers sealed entries
    vault.erase(cid)
    (instruction,) = vault.instructions.listing()
    assert instruction.recipient == "collection_agency" and instruction.cause == "erasure"
    received = set(instruction.categories)
    assert received == {"name", "telephone", "address", "email", "card_number"}  # last4 too
    clock.now += timedelta(days=16)
    assert vault.instructions.listing(overdue=True) == [instruction]
    done = vault.instructions.acknowledge(instruction.id)
    assert done.acknowledged_at == clock.now and vault.instructions.listing(overdue=True) == []


def test_shredding_a_category_leaves_no_live_key_that_opens_a_backup_copy(vault: Vault) -> None:
    from needtoknow.crypto import envelope
    from needtoknow.errors import IntegrityError
    from needtoknow.storage import store

    cid = vault.add(ASHA).customer_id
    vault.holds.place(cid, ["email"], "Court order", date(2030, 1, 1))
    with vault.db.connect() as conn:
        backup = store.locked_record(conn, cid)
    assert backup is not None
    vault.erase(cid)  # keeps email only
    with vault.db.connect() as conn:
        now = store.locked_record(conn, cid)
    assert now is not None and set(now.fields) == {"email"}
    assert now.key.dek_version == backup.key.dek_version + 1
    live = envelope.unwrap_dek(
        vault.keys, now.key.kek_version, now.key.wrapped_dek, cid, now.key.dek_version
    )
    old_name = {"name": backup.fields["name"]}
    for version in (backup.key.dek_version, now.key.dek_version):
        with pytest.raises(IntegrityError):
            envelope.decrypt_fields(live, cid, version, old_name)


def test_closing_and_reopening_are_checked_and_ledgered(vault: Vault) -> None:
    cid = vault.add(ASHA).customer_id
    with pytest.raises(ValidationError, match="customer_request, erasure_request"):
        vault.accounts.close(cid, "bored")
    vault.accounts.close(cid, "abuse")
    with pytest.raises(NeedToKnowError, match="already closed"):
        vault.accounts.close(cid)
    assert vault.accounts.reopen(cid).closed_at is None
    with pytest.raises(ValidationError, match="domains, email, hosting, vps"):
        vault.accounts.set_services(cid, ["mainframe"])
    events = [e["detail"]["event"] for e in kinds(vault) if e["kind"] == "account"]
    assert events == ["closed", "reopened"]
    with vault.db.connect() as conn:
        reason = conn.execute(sa.select(customers.c.closed_reason)).scalar()
    assert reason is None


def test_a_withdrawal_re_keys_the_customer(settings: Settings, clock: Clock) -> None:
    """Data collected only for a consent is crypto-shredded when the last consent goes:
    the customer's data key is replaced, and what stays is readable under the new one."""
    from needtoknow.config import init_vault
    from needtoknow.storage import store
    from tests.test_collection import BIRTHPLACE, REGIONAL

    vault = init_vault(settings, REGIONAL, clock=clock)
    try:
        cid = vault.add(ASHA).customer_id
        vault.consents.grant(cid, "marketing_contact", "web", "regional offers form 9")
        vault.correct(cid, BIRTHPLACE)
        with vault.db.connect() as conn:
            before = store.locked_record(conn, cid)
        vault.consents.withdraw(cid, "marketing_contact")
        with vault.db.connect() as conn:
            after = store.locked_record(conn, cid)
        assert before is not None and after is not None
        assert after.key.dek_version == before.key.dek_version + 1
        assert set(before.fields) - set(after.fields) == {"birthplace"}
        shown = vault.get(cid, recipient="billing_team", purpose="billing").values
        assert shown["name"] == ASHA["name"]
    finally:
        vault.close()


def test_a_run_erases_the_moment_the_year_is_over_not_a_day_later(
    vault: Vault, clock: Clock
) -> None:
    """The run only reads accounts closed at least 365 days ago (nothing of a later one
    can be due): the first second past the year must still find it."""
    cid = vault.add(ASHA).customer_id
    vault.accounts.close(cid)
    clock.now += timedelta(days=365, seconds=-1)  # 2027-11-26 is a calendar year on
    assert vault.erasures.run().changed == []
    clock.now += timedelta(seconds=1)
    assert [o.customer_id for o in vault.erasures.run().changed if o.whole] == [cid]
