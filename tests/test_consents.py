"""Consent: a consent-based purpose is served for a customer only while the customer's
consent stands; withdrawal is one call, takes effect at once in every process and is
never refused; grants and withdrawals are ledger entries — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from needtoknow.config import Settings, open_vault
from needtoknow.errors import NotFound, PolicyDenied, ValidationError
from needtoknow.storage.schema import consents, ledger_entries
from needtoknow.vault import Vault
from tests.conftest import Clock, Ntk
from tests.customers import ASHA

MARKETING: dict[str, Any] = {"recipient": "marketing_team", "purpose": "marketing_contact"}


def consent_entries(vault: Vault) -> list[dict[str, Any]]:
    with vault.db.connect() as conn:
        rows = conn.execute(sa.select(ledger_entries.c.entry).order_by(ledger_entries.c.idx))
        entries = [json.loads(bytes(row.entry)) for row in rows]
    return [e for e in entries if e["kind"] == "consent"]


def test_a_consent_based_purpose_needs_a_standing_consent(vault: Vault) -> None:
    asha = vault.add(ASHA).customer_id
    with pytest.raises(PolicyDenied, match="has not consented to 'marketing_contact'"):
        vault.get(asha, **MARKETING)
    given = vault.consents.grant(asha, "marketing_contact", "web", "signup form #1234")
    assert given.notice_version == vault.policy.version and given.active
    got = vault.get(asha, **MARKETING).values
    assert set(got) == {"name", "email", "telephone"}
    vault.consents.withdraw(asha, "marketing_contact", "email")
    with pytest.raises(PolicyDenied, match="or withdrew"):
        vault.get(asha, **MARKETING)
    assert [e["detail"]["action"] for e in consent_entries(vault)] == ["grant", "withdraw"]
    assert [c.active for c in vault.consents.listing(asha)] == [False]


def test_a_withdrawal_reaches_every_process_at_once(
    vault: Vault, settings: Settings, clock: Clock
) -> None:
    asha = vault.add(ASHA).customer_id
    vault.consents.grant(asha, "marketing_contact", "app", "in-app toggle 7")
    other = open_vault(settings, clock=clock)
    try:
        assert other.get(asha, **MARKETING).values
        vault.consents.withdraw(asha, "marketing_contact")
        with pytest.raises(PolicyDenied):
            other.get(asha, **MARKETING)
    finally:
        other.close()


def test_withdrawal_is_never_refused(vault: Vault) -> None:
    asha = vault.add(ASHA).customer_id
    assert vault.consents.withdraw(asha, "marketing_contact") == []  # nothing stood
    vault.consents.grant(asha, "third_party_offers", "phone", "call ref 55")
    vault.erase(asha)
    assert len(vault.consents.withdraw(asha, "third_party_offers")) == 1  # after erasure
    assert [e["detail"].get("closed") for e in consent_entries(vault)] == [0, None, 1]


def test_grants_are_checked_and_idempotent(vault: Vault) -> None:
    asha = vault.add(ASHA).customer_id
    with pytest.raises(ValidationError, match="not_consent_based"):
        vault.consents.grant(asha, "billing", "web", "form")
    with pytest.raises(ValidationError, match="channel"):
        vault.consents.grant(asha, "marketing_contact", "pigeon", "form")
    with pytest.raises(NotFound):
        vault.consents.grant("no-such-customer", "marketing_contact", "web", "form")
    first = vault.consents.grant(asha, "marketing_contact", "web", "form A")
    assert vault.consents.grant(asha, "marketing_contact", "sms", "form B") == first
    assert len(consent_entries(vault)) == 1


def test_lookups_for_a_consent_based_purpose_find_only_consenting_customers(
    vault: Vault,
) -> None:
    asha = vault.add(ASHA).customer_id
    pan = {"type": "pan", "number": "ABCPE1234F"}
    ask: dict[str, Any] = {"recipient": "credit_bureau", "purpose": "credit_reporting"}
    assert vault.find("identity_number", pan, **ask) == []
    vault.consents.grant(asha, "credit_reporting", "paper", "form C-9")
    assert vault.find("identity_number", pan, **ask) == [asha]


def test_evidence_is_kept_only_as_a_digest(vault: Vault) -> None:
    asha = vault.add(ASHA).customer_id
    vault.consents.grant(asha, "marketing_contact", "web", "asha.canary@example.in ticked box")
    with vault.db.connect() as conn:
        stored = [dict(row._mapping) for row in conn.execute(sa.select(consents))]
        ledger = [bytes(r[0]) for r in conn.execute(sa.select(ledger_entries.c.entry))]
    assert "canary" not in json.dumps(stored, default=str) and b"canary" not in b"".join(ledger)
    assert len(stored[0]["evidence_sha256"]) == 64


def test_ntk_consent_commands(ntk: Ntk) -> None:
    cid = ntk.json("customer", "add", "-", "--json", stdin=json.dumps(ASHA))["customer_id"]
    get = (
        "customer",
        "get",
        cid,
        "--recipient",
        "marketing_team",
        "--purpose",
        "marketing_contact",
    )
    ntk(*get, expect=3)
    granted = ntk.json(
        "consent", "grant", cid, "--purpose", "marketing_contact", "--evidence", "form 1", "--json"
    )
    assert granted["active"] is True
    ntk(*get)
    ntk("consent", "withdraw", cid, "--purpose", "marketing_contact")
    ntk(*get, expect=3)
    listed = ntk.json("consent", "list", cid, "--json")
    assert [c["active"] for c in listed["consents"]] == [False]  # the shape HTTP answers


def test_a_consent_citing_a_policy_version_never_posted_is_refused(vault: Vault) -> None:
    """Issue 15: a consent could cite a notice (policy) version that does not exist."""
    asha = vault.add(ASHA).customer_id
    before = consent_entries(vault)
    with pytest.raises(ValidationError) as caught:
        vault.consents.grant(asha, "marketing_contact", "web", "form 9", notice_version="f" * 64)
    assert (caught.value.field, caught.value.rule) == ("notice_version", "unknown_version")
    assert "ntk policy versions" in str(caught.value)
    assert vault.consents.listing(asha) == [] and consent_entries(vault) == before
    shown = vault.consents.grant(
        asha, "marketing_contact", "web", "form 9", notice_version=vault.policy.version
    )
    assert shown.notice_version == vault.policy.version


def test_ntk_consent_grant_refuses_an_unknown_notice_version(ntk: Ntk) -> None:
    cid = ntk.json("customer", "add", "-", "--json", stdin=json.dumps(ASHA))["customer_id"]
    refused = ntk(
        "consent",
        "grant",
        cid,
        "--purpose",
        "marketing_contact",
        "--evidence",
        "form 9",
        "--notice-version",
        "0" * 64,
        expect=5,
    )
    assert "unknown_version" in refused.stderr and "ntk policy versions" in refused.stderr
