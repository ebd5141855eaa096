"""Legal disclosures: four eyes, release through the policy and the ledger, encrypted
packages, and customer notices held while a non-disclosure order runs."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from needtoknow.disclosure import HPKE_SUITE
from needtoknow.errors import NeedToKnowError, PolicyDenied, ValidationError
from needtoknow.home import Settings, init_vault, open_vault
from needtoknow.storage.schema import disclosure_requests, ledger_entries
from needtoknow.types import Context
from needtoknow.vault import Vault
from tests.conftest import Clock
from tests.customers import ASHA, RAVI


@pytest.fixture
def officers(settings: Settings, clock: Clock) -> Iterator[tuple[Vault, Vault]]:
    """The same vault as seen by the case owner and by a second approver."""
    owner = init_vault(dataclasses.replace(settings, actor="legal:priya"), clock=clock)
    approver = open_vault(dataclasses.replace(settings, actor="dpo:arun"), clock=clock)
    yield owner, approver
    owner.close()
    approver.close()


def ask(vault: Vault, customers: list[str], **extra: Any) -> str:
    return vault.disclosures.request(
        authority="law_enforcement",
        purpose="investigation",
        legal_basis="IT Act 2000 s.69",
        reference="Notice 114/2026 (Cyber Cell, Pune)",
        customer_ids=customers,
        categories=["name", "email", "digital_identity"],
        case_owner="Priya (legal)",
        **extra,
    ).id


def ledger(vault: Vault) -> list[dict[str, Any]]:
    with vault.db.connect() as conn:
        rows: list[bytes] = list(
            conn.execute(sa.select(ledger_entries.c.entry).order_by(ledger_entries.c.idx)).scalars()
        )
    return [json.loads(bytes(row)) for row in rows]


def test_four_eyes_then_release_through_the_policy(officers: tuple[Vault, Vault]) -> None:
    owner, approver = officers
    asha, ravi = owner.add(ASHA).customer_id, owner.add(RAVI).customer_id
    request_id = ask(owner, [asha, ravi])
    with pytest.raises(NeedToKnowError, match="not approved"):
        owner.disclosures.release(request_id)
    with pytest.raises(PolicyDenied, match="four eyes"):
        owner.disclosures.approve(request_id)
    approved = approver.disclosures.approve(request_id)
    assert approved.status == "approved" and approved.decided_by == "dpo:arun"
    package = owner.disclosures.release(request_id)
    body = json.loads(package.payload)
    assert [c["customer_id"] for c in body["customers"]] == [asha, ravi]
    assert body["customers"][0]["fields"]["email"] == "asha.canary@example.in"
    assert "telephone" not in body["customers"][0]["fields"]  # outside the requested scope
    assert package.manifest["package_sha256"] == hashlib.sha256(package.payload).hexdigest()
    with pytest.raises(NeedToKnowError, match="released"):
        owner.disclosures.release(request_id)
    entries = ledger(owner)
    actions = [e["detail"]["action"] for e in entries if e["kind"] == "disclosure"]
    assert actions == ["request", "approve", "release"]
    reads = [e for e in entries if e["kind"] == "read"]
    assert {e["customer_id"] for e in reads} == {asha, ravi}
    assert all(
        e["legal_reference"].startswith("Notice 114") and e["case_id"] == request_id for e in reads
    )
    assert [n["status"] for n in owner.disclosures.notices()] == ["due", "due"]


def test_the_period_limits_who_is_read_and_flags_later_corrections(
    officers: tuple[Vault, Vault], clock: Clock
) -> None:
    """An order for the period up to yesterday: a customer who joined today is not read
    at all, and one corrected today is disclosed with a flag (today's values may not be
    what the period saw)."""
    owner, approver = officers
    asha, ravi = owner.add(ASHA).customer_id, owner.add(RAVI).customer_id
    clock.now += timedelta(days=2)
    owner.correct(asha, {"email": "asha.new@example.in"})
    joined = owner.add({**RAVI, "email": "late.joiner@example.in"}).customer_id
    yesterday = (clock.now - timedelta(days=1)).date()
    request_id = ask(owner, [asha, ravi, joined], period=(None, yesterday))
    approver.disclosures.approve(request_id)
    body = json.loads(owner.disclosures.release(request_id).payload)
    flags = {c["customer_id"]: c["corrected_after_period"] for c in body["customers"]}
    assert flags == {asha: True, ravi: False}
    assert body["outside_period"] == [joined] and body["not_found"] == []
    entries = ledger(owner)
    assert joined not in {e.get("customer_id") for e in entries if e["kind"] == "read"}
    release = next(e for e in entries if e.get("detail", {}).get("action") == "release")
    assert release["detail"]["outside_period"] == [joined]


def test_rejection_needs_a_reason_and_ends_the_request(officers: tuple[Vault, Vault]) -> None:
    owner, approver = officers
    request_id = ask(owner, [owner.add(ASHA).customer_id])
    with pytest.raises(ValidationError):
        approver.disclosures.reject(request_id, "  ")
    rejected = approver.disclosures.reject(request_id, "notice not signed by an officer")
    assert rejected.status == "rejected"
    with pytest.raises(NeedToKnowError):
        approver.disclosures.approve(request_id)


def test_package_encrypted_to_the_requester(officers: tuple[Vault, Vault]) -> None:
    owner, approver = officers
    cid = owner.add(ASHA).customer_id
    request_id = ask(owner, [cid])
    approver.disclosures.approve(request_id)
    key = X25519PrivateKey.generate()
    package = owner.disclosures.release(request_id, key.public_key().public_bytes_raw())
    assert b"Canarywala" not in package.payload
    plain = HPKE_SUITE.decrypt(
        package.payload, key, info=b"needtoknow disclosure " + request_id.encode()
    )
    assert hashlib.sha256(plain).hexdigest() == package.manifest["package_sha256"]
    assert json.loads(plain)["customers"][0]["fields"]["name"] == "Asha Canarywala"


def test_notice_is_held_until_the_non_disclosure_order_expires(
    officers: tuple[Vault, Vault], clock: Clock
) -> None:
    owner, approver = officers
    cid = owner.add(ASHA).customer_id
    order_ends = clock.now.date() + timedelta(days=90)
    request_id = ask(owner, [cid], non_disclosure_until=order_ends)
    approver.disclosures.approve(request_id)
    owner.disclosures.release(request_id)
    assert owner.disclosures.notices(cid)[0]["status"] == "held"
    assert owner.disclosures.release_due_notices() == 0
    clock.now += timedelta(days=91)
    assert owner.disclosures.release_due_notices() == 1
    assert owner.disclosures.notices(cid)[0]["status"] == "due"
    assert ledger(owner)[-1]["kind"] == "notice"


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"authority": "billing_team"}, "not_an_authority"),
        ({"purpose": "sale"}, "unknown_purpose"),
        ({"reference": " "}, "empty"),
        ({"categories": ["dna"]}, "unknown_category"),
        ({"customer_ids": []}, "empty"),
        ({"period": (date(2026, 5, 1), date(2026, 4, 1))}, "ends_before_start"),
    ],
)
def test_bad_requests_are_refused(vault: Vault, change: dict[str, Any], rule: str) -> None:
    request = {
        "authority": "law_enforcement",
        "purpose": "investigation",
        "legal_basis": "IT Act 2000 s.69",
        "reference": "N-1",
        "customer_ids": ["c"],
        "categories": ["name"],
        "case_owner": "P",
        **change,
    }
    with pytest.raises(ValidationError) as caught:
        vault.disclosures.request(**request)
    assert caught.value.rule == rule


def test_four_eyes_is_not_fooled_by_spelling(
    officers: tuple[Vault, Vault], settings: Settings, clock: Clock
) -> None:
    owner, _ = officers
    request_id = ask(owner, [owner.add(ASHA).customer_id])
    twin = open_vault(dataclasses.replace(settings, actor=" LEGAL:Priya "), clock=clock)
    with pytest.raises(PolicyDenied, match="four eyes"):
        twin.disclosures.approve(request_id)
    twin.close()


def test_a_release_the_policy_does_not_fully_allow_reads_nothing(
    officers: tuple[Vault, Vault],
) -> None:
    owner, approver = officers
    cid = owner.add(ASHA).customer_id
    request_id = owner.disclosures.request(
        authority="law_enforcement",
        purpose="investigation",
        legal_basis="IT Act 2000 s.69",
        reference="N-2",
        customer_ids=[cid],
        categories=["name", "card_number"],
        case_owner="Priya",
    ).id
    approver.disclosures.approve(request_id)
    before = len(ledger(owner))
    with pytest.raises(PolicyDenied, match="card_number"):
        owner.disclosures.release(request_id)
    assert len(ledger(owner)) == before  # nothing was read
    assert owner.disclosures.get(request_id).status == "approved"


def test_a_request_is_released_once(officers: tuple[Vault, Vault]) -> None:
    owner, approver = officers
    request_id = ask(owner, [owner.add(ASHA).customer_id])
    approver.disclosures.approve(request_id)
    owner.disclosures._claim(request_id)  # another release is under way
    with pytest.raises(NeedToKnowError, match="not approved"):
        approver.disclosures.release(request_id)


def test_the_ledger_of_a_disclosure_holds_no_pii(officers: tuple[Vault, Vault]) -> None:
    owner, approver = officers
    request_id = ask(owner, [owner.add(ASHA).customer_id])
    approver.disclosures.approve(request_id)
    package = owner.disclosures.release(request_id)
    text = json.dumps(ledger(owner))
    for canary in ("Canarywala", "asha.canary", "ashacanary", "198.51.100.23"):
        assert canary not in text
    body = json.loads(package.payload)
    guessed = dict(body, nonce="0" * 64)  # without the nonce the hash cannot be rebuilt
    rebuilt = json.dumps(guessed, sort_keys=True, ensure_ascii=False).encode()
    assert hashlib.sha256(rebuilt).hexdigest() not in text


def test_history_hides_a_disclosure_while_its_gag_order_runs(
    officers: tuple[Vault, Vault], clock: Clock
) -> None:
    owner, approver = officers
    cid = owner.add(ASHA).customer_id
    request_id = ask(owner, [cid], non_disclosure_until=clock.now.date() + timedelta(days=30))
    approver.disclosures.approve(request_id)
    owner.disclosures.release(request_id)

    def kinds(include_held: bool = False) -> list[str]:
        return [json.loads(p.entry)["kind"] for p in owner.history(cid, include_held)]

    assert kinds() == ["write"]
    assert kinds(include_held=True) == ["write", "disclosure", "disclosure", "read", "disclosure"]
    # Another recipient naming the held case cannot hide its own read behind it.
    context = Context(now=clock.now, case_id=request_id)
    owner.get(cid, recipient="billing_team", purpose="billing", context=context)
    assert kinds() == ["write", "read"]
    clock.now += timedelta(days=31)
    assert kinds().count("read") == 2


def test_an_authority_reads_only_through_an_approved_disclosure_request(
    officers: tuple[Vault, Vault],
) -> None:
    """Issue 15: an authority read any customer directly with any legal reference,
    skipping the second person's approval and the customer's notice. Every direct read
    or lookup is now denied and ledgered, naming ``ntk disclosure request`` — even one
    that names a request, unless the vault finds that stored request being released
    to this authority, for this purpose, covering these customers and categories."""
    owner, approver = officers
    asha, ravi = owner.add(ASHA).customer_id, owner.add(RAVI).customer_id
    request_id = ask(owner, [asha])
    reference = "Notice 114/2026 (Cyber Cell, Pune)"
    police = {"recipient": "law_enforcement", "purpose": "investigation"}

    def attempts(context: Context, purpose: str = "investigation") -> list[Any]:
        asked: dict[str, Any] = {**police, "purpose": purpose, "context": context}
        return [
            lambda: owner.get(asha, **asked),
            lambda: owner.get_many([asha], **asked),
            lambda: owner.find("email", ASHA["email"], **asked),
        ]

    def context(**extra: Any) -> Context:
        return Context(now=owner.clock(), legal_reference=reference, case_id=request_id, **extra)

    def denied(tried: list[Any]) -> None:
        for attempt in tried:
            with pytest.raises(PolicyDenied, match="ntk disclosure request"):
                attempt()

    before = len(ledger(owner))
    denied(attempts(context()))
    denied(attempts(context(disclosure_request=request_id)))  # requested, not approved
    approver.disclosures.approve(request_id)
    denied(attempts(context(disclosure_request=request_id)))  # approved, not being released
    with owner.db.begin() as conn:  # as if a release were under way right now
        conn.execute(
            disclosure_requests.update()
            .where(disclosure_requests.c.id == request_id)
            .values(status="releasing")
        )
    mid_release = context(disclosure_request=request_id)
    denied(attempts(mid_release, purpose="legal_process"))  # another purpose
    denied([lambda: owner.get(ravi, **police, context=mid_release)])  # outside its scope
    denied([lambda: owner.get(asha, **police, context=mid_release)])  # telephone: not asked
    denied([lambda: owner.find("email", ASHA["email"], **police, context=mid_release)])
    refused = [e for e in ledger(owner)[before:] if e["kind"] in ("read", "find")]
    assert len(refused) == 15 and {e["decision"] for e in refused} == {"deny"}
    assert all("ntk disclosure request" in str(e["reasons"]) for e in refused)
    assert owner.disclosures.notices() == []
    with owner.db.begin() as conn:
        conn.execute(
            disclosure_requests.update()
            .where(disclosure_requests.c.id == request_id)
            .values(status="approved")
        )
    body = json.loads(owner.disclosures.release(request_id).payload)
    assert [c["customer_id"] for c in body["customers"]] == [asha]
    assert [n["customer_id"] for n in owner.disclosures.notices()] == [asha]
