"""Consent managers (DPDP Act s.6(7)-(9), Rules r.4) on real SQLite and PostgreSQL and
over real HTTP: a registered manager's signed grant and withdrawal take effect at once;
a forged, replayed or stale event is refused (and the refusal ledgered); the same event
twice is answered once; consents given through a manager outlive an erasure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from needtoknow.api.app import create_app
from needtoknow.config import Settings, demo_policy_text, init_vault
from needtoknow.errors import (
    AuthenticationError,
    NeedToKnowError,
    PolicyDenied,
    PolicyError,
    ValidationError,
)
from needtoknow.moments import utc_text
from needtoknow.policy import load_policy_text
from needtoknow.storage.schema import consents
from needtoknow.vault import Vault
from tests.conftest import Clock
from tests.customers import ASHA
from tests.ledgered import entries
from tests.serving import serving

SIGNER = Ed25519PrivateKey.generate()
PUBLIC = SIGNER.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
POLICY = demo_policy_text() + (
    "\nconsent_managers:\n"
    "  consentra:\n"
    "    registration: CM-2026-0001\n"
    f"    public_key: {PUBLIC}\n"
    "    description: A consent manager registered with the Data Protection Board\n"
)


@pytest.fixture
def managed(settings: Settings, clock: Clock) -> Iterator[Vault]:
    vault = init_vault(settings, policy_text=POLICY, clock=clock)
    yield vault
    vault.close()


def event(clock: Clock, customer: str, action: str, event_id: str, **extra: Any) -> bytes:
    body = {
        "event_id": event_id,
        "action": action,
        "customer_id": customer,
        "purpose": "marketing_contact",
        "artefact_id": "art-77",
        "issued_at": utc_text(clock.now),
        **extra,
    }
    return json.dumps(body).encode()


def signed(body: bytes, key: Ed25519PrivateKey = SIGNER) -> str:
    return key.sign(body).hex()


def test_a_managers_grant_and_withdrawal_take_effect_at_once(managed: Vault, clock: Clock) -> None:
    cid = managed.add(ASHA).customer_id
    with pytest.raises(PolicyDenied):
        managed.get(cid, recipient="marketing_team", purpose="marketing_contact")
    grant = event(clock, cid, "grant", "e-1")
    assert managed.consent_managers.receive("consentra", grant, signed(grant)) == {
        "event_id": "e-1",
        "outcome": "grant",
    }
    managed.get(cid, recipient="marketing_team", purpose="marketing_contact")
    (consent,) = managed.consents.listing(cid)
    shown = consent.to_json()
    assert (shown["channel"], shown["manager"], shown["artefact_id"]) == (
        "consent_manager",
        "consentra",
        "art-77",
    )
    clock.now += timedelta(minutes=1)
    withdraw = event(clock, cid, "withdraw", "e-2")
    managed.consent_managers.receive("consentra", withdraw, signed(withdraw))
    with pytest.raises(PolicyDenied):
        managed.get(cid, recipient="marketing_team", purpose="marketing_contact")


def test_forged_replayed_and_stale_events_are_refused(managed: Vault, clock: Clock) -> None:
    cid = managed.add(ASHA).customer_id
    grant = event(clock, cid, "grant", "e-1")
    intruder = Ed25519PrivateKey.generate()
    with pytest.raises(AuthenticationError):
        managed.consent_managers.receive("consentra", grant, signed(grant, intruder))
    with pytest.raises(AuthenticationError):
        managed.consent_managers.receive("consentra", grant, "zz")
    with pytest.raises(AuthenticationError):
        managed.consent_managers.receive("someone_else", grant, signed(grant))
    assert managed.consents.listing(cid) == []
    managed.consent_managers.receive("consentra", grant, signed(grant))
    again = managed.consent_managers.receive("consentra", grant, signed(grant))
    assert again["outcome"] == "duplicate"  # the same event, answered once
    other = event(clock, cid, "withdraw", "e-1")  # a used id, other content
    with pytest.raises(NeedToKnowError, match="other content"):
        managed.consent_managers.receive("consentra", other, signed(other))
    old = event(clock, cid, "withdraw", "e-3", issued_at=utc_text(clock.now - timedelta(hours=1)))
    with pytest.raises(ValidationError, match="stale"):
        managed.consent_managers.receive("consentra", old, signed(old))
    assert managed.consents.active(cid, "marketing_contact")  # nothing refused took effect
    refusals = [
        e["detail"]["reason"]
        for e in entries(managed)
        if e.get("detail", {}).get("action") == "manager_event_refused"
    ]
    assert {"bad_signature", "replayed_id", "stale"} <= set(refusals)


def test_a_consent_through_a_manager_outlives_an_erasure(managed: Vault, clock: Clock) -> None:
    cid = managed.add(ASHA).customer_id
    grant = event(clock, cid, "grant", "e-1")
    managed.consent_managers.receive("consentra", grant, signed(grant))
    managed.erase(cid)
    with managed.db.connect() as conn:
        kept = conn.execute(sa.select(consents.c.manager, consents.c.artefact_id)).all()
    assert [tuple(row) for row in kept] == [("consentra", "art-77")]  # Part B: 7 years


def test_the_event_route_takes_signatures_not_keys(managed: Vault, clock: Clock) -> None:
    cid = managed.add(ASHA).customer_id
    grant = event(clock, cid, "grant", "e-1")
    with serving(create_app(managed)) as url:
        route = f"{url}/v1/consent-manager/events"
        missing = httpx.post(route, content=grant)
        assert missing.status_code == 401
        forged = httpx.post(
            route,
            content=grant,
            headers={"X-Consent-Manager": "consentra", "X-Signature": "00" * 64},
        )
        assert forged.status_code == 401 and "art-77" not in forged.text
        good = httpx.post(
            route,
            content=grant,
            headers={"X-Consent-Manager": "consentra", "X-Signature": signed(grant)},
        )
        assert good.status_code == 200 and good.json() == {"event_id": "e-1", "outcome": "grant"}
        schema = httpx.get(f"{url}/openapi.json").json()
        operation = schema["paths"]["/v1/consent-manager/events"]["post"]
        assert operation["x-consent-manager"] is True and operation["security"] == []
    assert managed.consents.active(cid, "marketing_contact")


def test_the_policy_registers_managers_with_a_real_key() -> None:
    policy, _ = load_policy_text(POLICY, "p.yaml")
    assert policy.consent_managers["consentra"].registration == "CM-2026-0001"
    broken = POLICY.replace(PUBLIC, "abc")
    with pytest.raises(PolicyError, match="public_key"):
        load_policy_text(broken, "p.yaml")


def test_events_arriving_out_of_order_do_not_bring_a_consent_back(
    managed: Vault, clock: Clock
) -> None:
    """A grant issued before a withdrawal (by the manager, or by any other channel)
    that arrives after it is kept, not applied: the person withdrew last."""
    cid = managed.add(ASHA).customer_id
    granted_at = clock.now
    late_grant = event(clock, cid, "grant", "e-1")
    clock.now += timedelta(seconds=30)
    withdraw = event(clock, cid, "withdraw", "e-2")
    managed.consent_managers.receive("consentra", withdraw, signed(withdraw))
    answer = managed.consent_managers.receive("consentra", late_grant, signed(late_grant))
    assert answer == {"event_id": "e-1", "outcome": "superseded"}
    assert not managed.consents.active(cid, "marketing_contact")
    # the same for a withdrawal through the portal or API, then a stale grant
    clock.now = granted_at + timedelta(seconds=45)
    fresh = event(clock, cid, "grant", "e-3")
    managed.consent_managers.receive("consentra", fresh, signed(fresh))
    assert managed.consents.active(cid, "marketing_contact")
    clock.now = granted_at + timedelta(seconds=60)
    older = event(clock, cid, "grant", "e-4")  # issued before the withdrawal below
    clock.now = granted_at + timedelta(seconds=75)
    managed.consents.withdraw(cid, "marketing_contact", "portal")
    clock.now += timedelta(seconds=5)
    assert managed.consent_managers.receive("consentra", older, signed(older))["outcome"] == (
        "superseded"
    )
    assert not managed.consents.active(cid, "marketing_contact")
    superseded = [
        e["detail"]["event_id"]
        for e in entries(managed)
        if e.get("detail", {}).get("action") == "manager_event_superseded"
    ]
    assert superseded == ["e-1", "e-4"]


def test_the_same_event_sent_twice_at_once_is_applied_once(managed: Vault, clock: Clock) -> None:
    from concurrent.futures import ThreadPoolExecutor

    cid = managed.add(ASHA).customer_id
    grant = event(clock, cid, "grant", "e-1")
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(
                lambda _: managed.consent_managers.receive("consentra", grant, signed(grant)),
                range(8),
            )
        )
    assert sorted(a["outcome"] for a in answers) == ["duplicate"] * 7 + ["grant"]
    assert len(managed.consents.listing(cid)) == 1
    granted = [e for e in entries(managed) if e.get("detail", {}).get("action") == "grant"]
    assert [e["actor"] for e in granted] == ["consent_manager:consentra"]


def test_an_unsigned_claim_is_nobodys_and_its_refusals_are_limited(
    managed: Vault, clock: Clock
) -> None:
    """Whoever sends a bad signature is not ledgered as the manager they name, and a
    client sending many is stopped before its refusals flood the ledger."""
    from needtoknow.api.service import Limits

    cid = managed.add(ASHA).customer_id
    grant = event(clock, cid, "grant", "e-1")
    forged = {"X-Consent-Manager": "consentra", "X-Signature": "00" * 64}
    with serving(create_app(managed, Limits(refusals="3/minute"))) as url:
        route = f"{url}/v1/consent-manager/events"
        codes = [httpx.post(route, content=grant, headers=forged).status_code for _ in range(5)]
        assert codes == [401, 401, 401, 429, 429]
        # the real manager, sending from the same address, is not held back by them
        good = {"X-Consent-Manager": "consentra", "X-Signature": signed(grant)}
        assert httpx.post(route, content=grant, headers=good).status_code == 200
    refused = [
        e["actor"]
        for e in entries(managed)
        if e.get("detail", {}).get("action") == "manager_event_refused"
    ]
    assert refused == ["consent_manager:unauthenticated"] * 3


def test_a_flood_of_stale_events_is_limited_too(managed: Vault, clock: Clock) -> None:
    """A genuinely signed old event, sent again and again, is refused as stale — and
    stops being written to the ledger once its sender is over the limit."""
    from needtoknow.api.service import Limits

    cid = managed.add(ASHA).customer_id
    old = event(clock, cid, "grant", "e-9", issued_at=utc_text(clock.now - timedelta(hours=2)))
    headers = {"X-Consent-Manager": "consentra", "X-Signature": signed(old)}
    with serving(create_app(managed, Limits(refusals="3/minute"))) as url:
        route = f"{url}/v1/consent-manager/events"
        codes = [httpx.post(route, content=old, headers=headers).status_code for _ in range(6)]
    assert codes == [422, 422, 422, 429, 429, 429]
    stale = [e for e in entries(managed) if e.get("detail", {}).get("reason") == "stale"]
    assert len(stale) == 3


def test_a_withdrawal_cannot_commit_between_an_older_grants_check_and_its_write(
    managed: Vault, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Second review: under READ COMMITTED, a newer withdrawal committed while an older
    grant sat between its ordering check and its write, and the grant then brought the
    consent back. Events about one person now take turns on the customer's row lock.
    (The pause is injected around the real check; nothing of ours is replaced.)"""
    import threading

    from needtoknow.records.consent_managers import ConsentManagerEvents

    cid = managed.add(ASHA).customer_id
    grant = event(clock, cid, "grant", "e-1")
    clock.now += timedelta(seconds=5)
    withdraw = event(clock, cid, "withdraw", "e-2")
    check = ConsentManagerEvents._superseded
    checked, release = threading.Event(), threading.Event()

    def paused(conn: Any, manager: str, ev: dict[str, Any]) -> bool:
        result = check(conn, manager, ev)
        if ev["action"] == "grant":
            checked.set()
            release.wait(10)
        return result

    monkeypatch.setattr(ConsentManagerEvents, "_superseded", staticmethod(paused))
    outcomes: dict[str, str] = {}

    def send(name: str, body: bytes) -> None:
        outcomes[name] = managed.consent_managers.receive("consentra", body, signed(body))[
            "outcome"
        ]

    granting = threading.Thread(target=send, args=("grant", grant))
    granting.start()
    assert checked.wait(10)
    withdrawing = threading.Thread(target=send, args=("withdraw", withdraw))
    withdrawing.start()
    withdrawing.join(1)
    assert withdrawing.is_alive()  # it waits for the grant's transaction
    release.set()
    granting.join(10)
    withdrawing.join(10)
    assert outcomes == {"grant": "grant", "withdraw": "withdraw"}
    assert not managed.consents.active(cid, "marketing_contact")  # the person withdrew last
