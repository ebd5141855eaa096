"""Incidents on real SQLite and PostgreSQL: the clocks an incident starts (in IST and
UTC, across midnight), a scope computed from the ledger's evidence — what one key or
recipient received in a window, or everyone holding a category — that only grows, in
versions, and every step ledgered; the summary sealed at rest."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from needtoknow.errors import NeedToKnowError, NotFound, ValidationError
from needtoknow.incidents import Incidents
from needtoknow.storage.schema import incidents
from needtoknow.vault import Vault
from tests.conftest import Clock
from tests.customers import ASHA, RAVI
from tests.ledgered import entries

IST = ZoneInfo("Asia/Kolkata")


def test_opening_starts_the_cert_in_and_board_clocks(vault: Vault, clock: Clock) -> None:
    register = Incidents(vault)
    noticed = datetime(2026, 11, 26, 20, 30, tzinfo=IST)  # 15:00 UTC; the clock is 12:00 UTC
    clock.now = noticed.astimezone(ZoneInfo("UTC")) + timedelta(minutes=10)
    opened = register.open("data_leak", noticed, "Billing export found on a public bucket")
    shown = opened.to_json(vault.clock())
    cert_in, board = shown["deadlines"]["cert_in"], shown["deadlines"]["board_report"]
    assert cert_in["due"] == "2026-11-26T21:00:00Z"
    assert cert_in["due_ist"] == "2026-11-27T02:30:00+05:30"  # past midnight in India
    assert cert_in["seconds_left"] == 6 * 3600 - 600 and not cert_in["overdue"]
    assert board["due"] == "2026-11-29T15:00:00Z"
    intimation = shown["deadlines"]["board_intimation"]
    assert intimation["due"] == "without delay" and not intimation["overdue"]
    assert intimation["seconds_since_noticed"] == 600
    clock.now += timedelta(hours=6)
    late = register.get(opened.id).to_json(vault.clock())["deadlines"]
    assert late["cert_in"]["overdue"] and not late["board_report"]["overdue"]
    assert [i.id for i in register.listing(open_only=True)] == [opened.id]
    # a report made stops its clock, and says when
    register.filed(opened.id, "cert_in", clock.now - timedelta(minutes=5), "CERTIN-2026-0042")
    filed = register.get(opened.id).to_json(vault.clock())["deadlines"]["cert_in"]
    assert not filed["overdue"] and filed["filed_at"] == "2026-11-26T21:05:00Z"
    with pytest.raises(ValidationError, match="board_report"):  # the valid reports named
        register.filed(opened.id, "board", clock.now)


def test_the_boards_clocks_run_only_for_a_personal_data_breach(vault: Vault, clock: Clock) -> None:
    asha = vault.add(ASHA).customer_id
    register = Incidents(vault)
    opened = register.open("malicious_code", clock.now, "Malware on a build server")
    assert set(opened.deadlines()) == {"cert_in"} and not opened.personal_data_breach
    with pytest.raises(NeedToKnowError, match="not a personal data breach"):
        register.filed(opened.id, "board_report", clock.now)
    vault.get(asha, recipient="billing_team", purpose="billing")
    register.scope(opened.id, actor=vault.scope.actor)  # the server's account read Asha
    grown = register.get(opened.id)
    assert grown.personal_data_breach and set(grown.deadlines()) == {
        "cert_in",
        "board_intimation",
        "board_report",
    }


def test_bad_openings_are_refused_naming_what_is_valid(vault: Vault, clock: Clock) -> None:
    register = Incidents(vault)
    with pytest.raises(ValidationError, match="data_breach"):  # the valid kinds are named
        register.open("data_breech", clock.now, "typo")
    with pytest.raises(ValidationError, match="future"):
        register.open("data_leak", clock.now + timedelta(hours=1), "not yet")
    with pytest.raises(ValidationError, match="zone"):
        register.open("data_leak", clock.now.replace(tzinfo=None), "no zone")
    with pytest.raises(NotFound):
        register.get("no-such-incident")


def test_the_summary_is_sealed_at_rest(vault: Vault, clock: Clock) -> None:
    register = Incidents(vault)
    opened = register.open("data_leak", clock.now, "Leaked: asha.canary@example.in")
    with vault.db.connect() as conn:
        stored: bytes = conn.execute(sa.select(incidents.c.summary)).scalar_one()
    assert b"asha.canary" not in bytes(stored)
    assert register.summary(opened.id) == "Leaked: asha.canary@example.in"


def test_a_keys_scope_is_what_it_received_in_the_window(vault: Vault, clock: Clock) -> None:
    asha, ravi = vault.add(ASHA).customer_id, vault.add(RAVI).customer_id
    third = vault.add({**RAVI, "email": "third@example.in", "telephone": "9123456781"})
    leaked = vault.api_keys.create("billing_team").key
    other = vault.api_keys.create("support_team").key
    before = clock.now
    clock.now += timedelta(hours=1)
    start = clock.now
    thief = vault.acting(f"api:{leaked.id}")
    thief.get(asha, recipient="billing_team", purpose="billing")
    with pytest.raises(NeedToKnowError):  # refused: nothing was received
        thief.get(ravi, recipient="billing_team", purpose="sale")
    vault.acting(f"api:{other.id}").get(
        third.customer_id, recipient="support_team", purpose="service_delivery"
    )
    clock.now += timedelta(hours=2)
    thief.get(ravi, recipient="billing_team", purpose="billing")  # after the window
    register = Incidents(vault)
    opened = register.open("unauthorised_access", clock.now, "A billing key was leaked")
    first = register.scope(opened.id, key=leaked.id, since=start, until=start + timedelta(hours=1))
    assert (first.version, first.added, first.customers) == (1, 1, 1)
    scoped = register.customers(opened.id)
    assert (
        list(scoped) == [asha] and "email" in scoped[asha] and "date_of_birth" not in scoped[asha]
    )
    # the window widened: the later read joins; a scope never shrinks
    second = register.scope(opened.id, key=leaked.id, since=before)
    assert (second.version, second.added, second.customers) == (2, 1, 2)
    again = register.scope(opened.id, recipient="billing_team", since=before)
    assert (again.version, again.added, again.customers) == (3, 0, 2)
    assert third.customer_id not in register.customers(opened.id)
    kinds = [
        json.loads(p.entry)["detail"]
        for p in vault.ledger.history(asha)
        if json.loads(p.entry)["kind"] == "incident"
    ]
    assert kinds == []  # the scoping is one entry, not one in each customer's history
    events = [e["detail"]["event"] for e in entries(vault) if e["kind"] == "incident"]
    assert events == ["opened", "scoped", "scoped", "scoped"]


def test_a_leaked_category_reaches_everyone_holding_it(vault: Vault, clock: Clock) -> None:
    asha = vault.add(ASHA).customer_id
    vault.add({k: v for k, v in RAVI.items() if k != "bank_account"})
    register = Incidents(vault)
    opened = register.open("data_breach", clock.now, "Bank details table copied")
    scoped = register.scope(opened.id, category="bank_account")
    assert register.customers(opened.id) == {asha: ("bank_account",)}
    assert scoped.categories == ("bank_account",)
    with pytest.raises(ValidationError, match="bank_account"):  # did you mean
        register.scope(opened.id, category="bank_acount")
    with pytest.raises(ValidationError):  # one basis at a time
        register.scope(opened.id, category="email", recipient="billing_team")


def test_a_closed_incident_keeps_its_scope_and_takes_no_more(vault: Vault, clock: Clock) -> None:
    asha = vault.add(ASHA).customer_id
    register = Incidents(vault)
    opened = register.open("data_leak", clock.now, "Resolved quickly")
    register.scope(opened.id, category="email")
    closed = register.close(opened.id)
    assert closed.status == "closed" and closed.customers == 1
    assert not closed.to_json(clock.now + timedelta(days=9))["deadlines"]["cert_in"]["overdue"]
    with pytest.raises(NeedToKnowError, match="closed"):
        register.scope(opened.id, category="email")
    with pytest.raises(NeedToKnowError, match="closed"):
        register.close(opened.id)
    assert register.customers(opened.id) == {asha: ("email",)}
    assert register.listing(open_only=True) == []


def test_a_scope_finds_receipts_appended_out_of_time_order(vault: Vault, clock: Clock) -> None:
    """Entries are indexed by their own time, not their place in the log: a read whose
    entry is stamped hours before the entries around it (a slow process, a retention
    run stamping its start) is still inside its window."""
    early = clock.now
    asha = vault.add(ASHA).customer_id
    clock.now += timedelta(hours=6)
    ravi = vault.add(RAVI).customer_id
    for _ in range(40):  # a long log of later reads around the late-stamped one
        clock.now += timedelta(minutes=10)
        vault.get(ravi, recipient="billing_team", purpose="billing")
    read_at, clock.now = clock.now, early + timedelta(minutes=30)
    vault.get(asha, recipient="billing_team", purpose="billing")  # appended last, stamped early
    clock.now = read_at
    for _ in range(5):
        vault.get(ravi, recipient="billing_team", purpose="billing")
    register = Incidents(vault)
    opened = register.open("data_leak", clock.now, "Billing export leaked")
    until = early + timedelta(hours=1)
    scoped = register.scope(opened.id, recipient="billing_team", since=early, until=until)
    assert set(register.customers(opened.id)) == {asha} and scoped.found == 1
    later = register.scope(opened.id, recipient="billing_team", since=early + timedelta(hours=1))
    assert later.added == 1 and set(register.customers(opened.id)) == {asha, ravi}
    assert vault.ledger.verify().ok


def test_a_leaked_key_or_agreement_is_stopped_from_the_incident(vault: Vault, clock: Clock) -> None:
    asha = vault.add(ASHA).customer_id
    vault.agreements.assign("AGR-COLL-2026", [asha])
    vault.get(asha, recipient="collection_agency", purpose="bill_collection")  # allowed now
    leaked = vault.api_keys.create("billing_team")
    register = Incidents(vault)
    opened = register.open("unauthorised_access", clock.now, "Key in a public repository")
    done = register.revoke(opened.id, key=leaked.key.id)
    assert done["revoked"] == {"key": leaked.key.id}
    assert vault.api_keys.check(leaked.token).__class__.__name__ == "Refusal"
    register.revoke(opened.id, agreement="AGR-COLL-2026")
    with pytest.raises(NeedToKnowError):  # the agency lost access at its next decision
        vault.get(asha, recipient="collection_agency", purpose="bill_collection")
    with pytest.raises(ValidationError):
        register.revoke(opened.id)
    events = [e["detail"]["event"] for e in entries(vault) if e["kind"] == "incident"]
    assert events == ["opened", "revoked", "revoked"]


def test_a_leaked_file_names_its_customers_through_the_blind_indexes(
    vault: Vault, clock: Clock, tmp_path: Path
) -> None:
    asha, ravi = vault.add(ASHA).customer_id, vault.add(RAVI).customer_id
    leaked = tmp_path / "export.csv"
    leaked.write_text(
        "name,contact,note\n"
        f"Asha,{ASHA['email'].upper()},paid\n"  # written differently from the vault
        "Someone,nobody@example.org,not a customer\n"
        "Ravi,+91 91234 56780,called\n",
        "utf-8",
    )
    register = Incidents(vault)
    opened = register.open("data_leak", clock.now, "An export on a paste site")
    scoped = register.scope(opened.id, file=leaked)
    assert scoped.basis["file"] == "export.csv" and scoped.found == 2
    assert register.customers(opened.id) == {asha: ("email",), ravi: ("telephone",)}


def test_a_disclosure_counts_when_released_not_when_requested(vault: Vault, clock: Clock) -> None:
    asha = vault.add(ASHA).customer_id
    made = vault.acting("user:priya").disclosures.request(
        authority="law_enforcement",
        purpose="legal_process",
        legal_basis="BNSS s.94",
        reference="FIR 1/2026",
        customer_ids=[asha],
        categories=["email"],
        case_owner="user:priya",
    )
    register = Incidents(vault)
    opened = register.open("unauthorised_access", clock.now, "Authority mailbox compromised")
    asked = register.scope(opened.id, recipient="law_enforcement")
    assert asked.found == 0  # requested only: nothing left the vault
    vault.acting("user:arun").disclosures.approve(made.id)
    vault.acting("user:priya").disclosures.release(made.id)
    released = register.scope(opened.id, recipient="law_enforcement")
    assert released.added == 1 and register.customers(opened.id) == {asha: ("email",)}


def test_two_steps_at_once_are_numbered_one_after_the_other(
    vault: Vault, clock: Clock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Second review: a step taken while another was being written (a report made
    during a scope) got the same number, and PostgreSQL refused it. Steps now take
    turns on the incident's row. (The pause is injected around the real append.)"""
    import threading

    from needtoknow.ledger.ledger import Ledger

    vault.add(ASHA)
    register = Incidents(vault)
    opened = register.open("data_leak", clock.now, "Bucket left public")
    append = Ledger.append
    inside, release = threading.Event(), threading.Event()

    def paused(conn: Any, entry: Any) -> int:
        index = append(conn, entry)
        if threading.current_thread().name == "scoper" and entry.kind == "incident":
            inside.set()
            release.wait(10)
        return index

    monkeypatch.setattr(Ledger, "append", staticmethod(paused))
    errors: list[BaseException] = []

    def run(action: Any) -> None:
        try:
            action()
        except BaseException as exc:  # the assertion below names it
            errors.append(exc)

    scoping = threading.Thread(
        target=run, args=(lambda: register.scope(opened.id, category="email"),), name="scoper"
    )
    scoping.start()
    assert inside.wait(10)
    from tests.incidents.test_reports import WORDS

    filing = threading.Thread(
        target=run, args=(lambda: register.report(opened.id, WORDS, tmp_path),)
    )
    filing.start()
    filing.join(1)
    release.set()
    scoping.join(10)
    filing.join(10)
    assert errors == []
    reported = [e for e in entries(vault) if e.get("detail", {}).get("event") == "reported"]
    assert len(reported) == 1  # the documents' hashes were recorded
