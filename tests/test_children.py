"""Children's data (DPDP Act s.9, Rules r.10) on real SQLite and PostgreSQL: a child's
record comes in only with a parent's verified consent (an adult customer, or an age
verifier's signed token — its evidence kept, never a document); the parent acts for the
child; tracking, behavioural monitoring and targeted advertising are refused for a
child whatever the rules and consents say, until the eighteenth birthday; a child's
usage events are never kept; the loader refuses what would reach children."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from needtoknow.analytics.store import EventStore
from needtoknow.config import Settings, demo_policy_text, init_vault
from needtoknow.errors import PolicyDenied, PolicyError, ValidationError
from needtoknow.moments import utc_text
from needtoknow.policy import load_policy_text
from needtoknow.policy.notice import render
from needtoknow.records.outbox import Smtp
from needtoknow.rights.requests import RightsRequests
from needtoknow.rights.senders import Messenger, SmsWebhook
from needtoknow.storage.schema import children
from needtoknow.vault import Vault
from tests.conftest import Clock
from tests.customers import ASHA
from tests.ledgered import entries
from tests.mail import Inbox, SmsGateway, code_in

VERIFIER = Ed25519PrivateKey.generate()
POLICY = demo_policy_text() + (
    "\nage_verifiers:\n"
    "  digilocker:\n"
    f"    public_key: {VERIFIER.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()}\n"
    "    description: A DigiLocker-type age verification service\n"
)
# 14 years old on the test clock's day (2026-11-26), 18 on 2030-06-02
MEERA = {"name": "Meera Canarywala", "date_of_birth": "2012-06-02", "email": "meera@example.in"}


@pytest.fixture
def kids(settings: Settings, clock: Clock) -> Iterator[Vault]:
    vault = init_vault(settings, policy_text=POLICY, clock=clock)
    yield vault
    vault.close()


def parent_of(vault: Vault) -> dict[str, Any]:
    parent = vault.add(ASHA).customer_id
    return {"customer_id": parent, "evidence": "confirmed in her signed-in session"}


def token(clock: Clock, key: Ed25519PrivateKey = VERIFIER, **claims: Any) -> str:
    body = json.dumps(
        {
            "token_id": "dl-7781",
            "adult": True,
            "email": "parent@example.in",
            "issued_at": utc_text(clock.now),
            **claims,
        }
    ).encode()
    encode = base64.urlsafe_b64encode
    return f"{encode(body).decode().rstrip('=')}.{encode(key.sign(body)).decode().rstrip('=')}"


def test_a_childs_record_needs_a_parents_verified_consent(kids: Vault, clock: Clock) -> None:
    with pytest.raises(ValidationError, match="parental_consent_required"):
        kids.add(MEERA)
    with pytest.raises(ValidationError, match="parental_consent_required"):
        kids.add({"name": "Meera Canarywala", "is_child": True})  # declared, no date
    with pytest.raises(ValidationError, match="contradicts_date_of_birth"):
        kids.add({**MEERA, "is_child": False})
    guardian = parent_of(kids)
    child = kids.add({**MEERA, "guardian": guardian}).customer_id
    assert kids.minor(child) and not kids.minor(guardian["customer_id"])
    consent = [e for e in entries(kids) if e.get("detail", {}).get("action") == "parental_consent"]
    assert [e["customer_id"] for e in consent] == [child]
    assert consent[0]["detail"]["guardian"] == f"customer:{guardian['customer_id']}"
    assert "signed-in session" not in json.dumps(consent)  # only its SHA-256
    with pytest.raises(ValidationError, match="not_a_child"):  # an adult names nobody
        kids.add({**ASHA, "email": "a2@example.in", "guardian": guardian})
    with pytest.raises(ValidationError, match="not_an_adult"):  # a child is no guardian
        kids.add({**MEERA, "guardian": {"customer_id": child, "evidence": "x"}})
    with pytest.raises(ValidationError, match="unknown"):
        kids.add({**MEERA, "guardian": {"customer_id": "nobody", "evidence": "x"}})


def test_an_age_verifiers_token_is_the_evidence_never_the_document(
    kids: Vault, clock: Clock
) -> None:
    given = {"verifier": "digilocker", "token": token(clock)}
    child = kids.add({**MEERA, "guardian": given}).customer_id
    guardian = kids.guardians.of(child)
    assert guardian is not None and guardian.email == "parent@example.in"
    with kids.db.connect() as conn:
        row = conn.execute(sa.select(children)).one()
    assert row.verifier == "digilocker" and row.token_id == "dl-7781"
    assert b"parent@example.in" not in bytes(row.contact)  # sealed at rest
    intruder = Ed25519PrivateKey.generate()
    for bad, rule in (
        ({**given, "token": token(clock, intruder)}, "signature"),
        ({**given, "token": token(clock, adult=False)}, "not_adult"),
        (
            {**given, "token": token(clock, issued_at=utc_text(clock.now - timedelta(days=2)))},
            "stale",
        ),
        ({**given, "verifier": "aadhaarish"}, "digilocker"),  # the registered ones named
        ({**given, "email": "stranger@example.in"}, "shape"),  # the e-mail is the token's
        ({**given, "token": token(clock, email=None)}, "email"),
        (given, "used"),  # a token vouches for one child: not a second with another e-mail
    ):
        with pytest.raises(ValidationError, match=rule):
            kids.add({**MEERA, "email": "m2@example.in", "guardian": bad})


def test_no_tracking_or_targeted_advertising_of_a_child_until_eighteen(
    kids: Vault, clock: Clock
) -> None:
    """A permissive rule and a standing consent are not enough: marketing, third-party
    offers and personalised advertising are refused for a child (s.9(3)), and the child
    is left out of lookups for them; from the eighteenth birthday they are not."""
    child = kids.add({**MEERA, "guardian": parent_of(kids)}).customer_id
    kids.consents.grant(child, "marketing_contact", "web", "ticked by the parent")
    with pytest.raises(PolicyDenied, match=r"s\.9\(3\)"):
        kids.get(child, recipient="marketing_team", purpose="marketing_contact")
    found = kids.find(
        "email", MEERA["email"], recipient="marketing_team", purpose="marketing_contact"
    )
    assert found == []
    kids.get(child, recipient="billing_team", purpose="billing")  # service goes on
    clock.now = clock.now.replace(year=2030, month=6, day=2)  # eighteen today
    assert not kids.minor(child)
    kids.get(child, recipient="marketing_team", purpose="marketing_contact")


def test_a_childs_usage_events_are_never_kept(kids: Vault, clock: Clock, tmp_path: Path) -> None:
    child = kids.add({**MEERA, "guardian": parent_of(kids)}).customer_id
    adult = kids.add({**ASHA, "email": "a3@example.in", "telephone": "9123456780"}).customer_id
    store = EventStore(
        tmp_path / "events", kids.keys, consented=kids.consents.standing, minor=kids.minor
    )
    day = clock.now.date().isoformat()
    report = store.ingest(
        [
            {"kind": "page_view", "day": day, "customer_id": c, "page": "/plans"}
            for c in (child, adult)
        ]
    )
    assert (report.accepted, report.reasons["child"]) == (1, 1)
    assert store.query("SELECT count(*) FROM events") == [(1,)]


def test_the_parent_acts_for_the_child(
    kids: Vault, clock: Clock, smtp: tuple[Smtp, Inbox, Any], sms: SmsGateway
) -> None:
    """The code that verifies a child's request goes to the parent, never the child."""
    child = kids.add({**MEERA, "guardian": parent_of(kids)}).customer_id
    desk = RightsRequests(kids, Messenger(smtp[0], SmsWebhook(sms.url, "gw-token")))
    request = desk.open(child, "access")
    desk.send_code(request.id)
    (message,) = smtp[1].messages
    assert message["To"] == ASHA["email"]
    verified = desk.verify(request.id, code_in(message))
    assert verified.verified_by == "guardian"


def test_a_correction_cannot_make_an_adult_a_child_without_a_parent(kids: Vault) -> None:
    adult = kids.add({"name": "Asha Canarywala", "email": "a4@example.in"}).customer_id
    with pytest.raises(ValidationError, match="parental_consent_required"):
        kids.correct(adult, {"date_of_birth": MEERA["date_of_birth"]})


def test_erasing_a_child_removes_the_parents_link(kids: Vault, clock: Clock) -> None:
    given = {"verifier": "digilocker", "token": token(clock)}
    child = kids.add({**MEERA, "guardian": given}).customer_id
    kids.erase(child)
    with kids.db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(children)).scalar() == 0


def test_a_bulk_import_refuses_a_childs_record(kids: Vault) -> None:
    (refused,) = kids.prepare_many([MEERA])
    assert "parental_consent_required" in str(getattr(refused, "error", ""))


def test_the_loader_refuses_what_would_reach_children() -> None:
    untracked = demo_policy_text().replace(
        "personalised_advertising: {legal_basis: consent, tracking: true,",
        "personalised_advertising: {legal_basis: consent,",
    )
    with pytest.raises(PolicyError, match=r"s\.9\(3\)"):  # the third party's pixel serves it
        load_policy_text(untracked, "p.yaml")


def test_the_notice_says_what_is_never_done_to_a_child_in_both_languages() -> None:
    policy, registry = load_policy_text(demo_policy_text(), "p.yaml")
    english = render(policy, registry, "en").markdown()
    assert "## Children" in english and "verifiable consent of a parent" in english
    assert "Serve advertising chosen from your usage of the services" in english
    hindi = render(policy, registry, "hi").markdown()
    assert "## बच्चे" in hindi and "सत्यापन-योग्य" in hindi


def test_a_guardian_customer_must_have_an_age_on_record(kids: Vault) -> None:
    """r.10(1)(a): an adult whose identity and age the company holds — a customer with
    no date of birth on record is not shown to be one."""
    ageless = kids.add({"name": "Asha Canarywala", "email": "a6@example.in"}).customer_id
    with pytest.raises(ValidationError, match="age_unknown"):
        kids.add({**MEERA, "guardian": {"customer_id": ageless, "evidence": "x"}})


def test_registering_an_age_verifier_is_material() -> None:
    from needtoknow.policy.diff import diff, is_material

    plain, _ = load_policy_text(demo_policy_text(), "p.yaml")
    trusting, _ = load_policy_text(POLICY, "p.yaml")
    added = diff(plain, trusting)
    assert [c.kind for c in added] == ["age_verifier_added"] and is_material(added)
    assert not is_material(diff(trusting, plain))
