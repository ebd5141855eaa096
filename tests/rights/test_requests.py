"""Customers' rights requests end to end on real SQLite and PostgreSQL, with codes
delivered through a real SMTP server and SMS gateway on 127.0.0.1 and the clock moved by
hand: access, correction, erasure, nomination and grievance, their deadlines and
escalation, and the verification that comes before any of them."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from needtoknow.errors import (
    NeedToKnowError,
    PolicyDenied,
    ValidationError,
    VerificationFailed,
)
from needtoknow.ledger import InclusionProof
from needtoknow.ledger.entry import canonical_json
from needtoknow.ledger.heads import TreeHead
from needtoknow.records.disclosures import HPKE_SUITE
from needtoknow.records.outbox import Smtp
from needtoknow.rights.requests import RightsRequests
from needtoknow.rights.senders import Messenger, SmsWebhook
from needtoknow.storage.schema import ledger_entries, rights_requests
from needtoknow.types import Context
from needtoknow.vault import Vault
from tests.conftest import Clock
from tests.customers import ASHA, ASHA_CATEGORIES
from tests.mail import Inbox, SmsGateway, code_in, text_of

Mail = tuple[Smtp, Inbox, Controller]


@pytest.fixture
def desk(vault: Vault, smtp: Mail, sms: SmsGateway) -> RightsRequests:
    return RightsRequests(vault, Messenger(smtp[0], SmsWebhook(sms.url, "gw-token")))


def verified(desk: RightsRequests, inbox: Inbox, cid: str, kind: str, details: Any = None) -> str:
    request = desk.open(cid, kind, details)
    desk.send_code(request.id)
    desk.verify(request.id, code_in(inbox.messages[-1]))
    return request.id


def test_an_access_summary_lists_every_recipient_the_ledger_recorded_with_proofs(
    vault: Vault, desk: RightsRequests, smtp: Mail
) -> None:
    cid = vault.add(ASHA).customer_id
    vault.get(cid, recipient="billing_team", purpose="billing")
    vault.get(cid, recipient="support_team", purpose="service_delivery", categories=["email"])
    with pytest.raises(PolicyDenied):  # a denial is not a receipt
        vault.get(cid, recipient="ad_network", purpose="advertising")
    request = desk.open(cid, "access")
    assert request.verification == "pending" and request.due_at == request.opened_at + timedelta(
        days=30
    )
    with pytest.raises(VerificationFailed, match="unverified"):
        desk.fulfil(request.id)
    sent = desk.send_code(request.id)
    assert sent["sent"] == "email" and ASHA["email"] not in json.dumps(sent)
    (message,) = smtp[1].messages
    assert message["To"] == ASHA["email"]
    desk.verify(request.id, code_in(message))
    answer = desk.fulfil(request.id)
    summary = answer["answer"]
    assert answer["contact"].startswith("Grievance Officer")
    assert answer["request"]["status"] == "fulfilled"
    received = [(r["recipient"], r["purpose"]) for r in summary["recipients"]]
    # the two reads, and the notification provider reading the address to send the code
    assert received == [
        ("billing_team", "billing"),
        ("support_team", "service_delivery"),
        ("notification_provider", "service_notification"),
    ]
    # what the customer can check with the public key alone
    head = TreeHead.from_json(summary["signed_tree_head"])
    for receipt in summary["recipients"]:
        proof = receipt["proof"]
        InclusionProof(
            proof["index"],
            canonical_json(proof["entry"]),
            tuple(bytes.fromhex(p) for p in proof["proof"]),
            head,
        ).check(vault.keys.signing_public_key())
    categories = {c["category"]: c for c in summary["categories"]}
    assert set(categories) == set(ASHA_CATEGORIES)
    assert {"purpose": "billing", "legal_basis": "voluntarily_provided"} in categories["email"][
        "purposes"
    ]
    assert all(fate["action"] == "keep" for fate in summary["retention"])  # an open account
    assert ASHA["email"] not in json.dumps(summary)  # names, never values


def test_a_copy_is_sealed_to_the_key_the_customer_gives(
    vault: Vault, desk: RightsRequests, smtp: Mail
) -> None:
    cid = vault.add(ASHA).customer_id
    private = X25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    request_id = verified(desk, smtp[1], cid, "access")
    copy = desk.fulfil(request_id, copy_key=public)["answer"]["copy"]
    assert ASHA["name"] not in json.dumps(copy)
    body = HPKE_SUITE.decrypt(
        bytes.fromhex(copy["payload"]), private, info=copy["encryption"]["info"].encode()
    )
    assert json.loads(body)["fields"]["email"] == ASHA["email"]


def test_erasure_keeps_the_vps_subscriber_record_and_says_under_which_law(
    vault: Vault, desk: RightsRequests, clock: Clock
) -> None:
    cid = vault.add(ASHA).customer_id
    vault.accounts.set_services(cid, ["vps"])
    request = desk.open(cid, "erasure")
    desk.verify_offline(request.id, "Meera (KYC desk)", "video_kyc")
    answer = desk.fulfil(request.id)["answer"]
    kept = {k["category"]: k for k in answer["kept"]}
    assert set(kept) == {"address", "digital_identity", "email", "name", "telephone"}
    assert "CERT-In" in kept["email"]["laws"][0] and kept["email"]["until"] == "2031-11-26"
    assert set(answer["categories_erased"]) == {
        "bank_account",
        "card_number",
        "date_of_birth",
        "driving_licence",
        "identity_number",  # CERT-In direction (v) does not ask for it
    }
    with pytest.raises(PolicyDenied):
        vault.get(cid, recipient="support_team", purpose="service_delivery")
    clock.now += timedelta(days=365 * 5 + 2)  # CERT-In's five years are over
    (later,) = vault.erasures.run().changed
    assert set(later.erased) == {"digital_identity", "email", "telephone"}
    assert vault.accounts.status(cid).categories == ("address", "name")  # invoices: 8 years


def test_a_correction_applies_the_same_validators_and_answers_what_changed(
    vault: Vault, desk: RightsRequests, smtp: Mail
) -> None:
    cid = vault.add(ASHA).customer_id
    bad = verified(desk, smtp[1], cid, "correction", {"telephone": "12"})
    with pytest.raises(ValidationError):
        desk.fulfil(bad)
    assert desk.get(bad).status == "open"  # nothing changed; staff can close it with reasons
    with pytest.raises(ValidationError, match="unknown_category"):
        desk.open(cid, "correction", {"shoe_size": 9})
    good = verified(desk, smtp[1], cid, "correction", {"email": "asha.new@example.in"})
    assert desk.fulfil(good)["answer"] == {"corrected": ["email"]}
    values = vault.get(cid, recipient="billing_team", purpose="billing").values
    assert values["email"] == "asha.new@example.in"


def test_what_a_customer_wrote_is_sealed_and_destroyed_once_answered(
    sqlite_vault: Vault, smtp: Mail
) -> None:
    vault = sqlite_vault
    desk = RightsRequests(vault, Messenger(smtp[0]))
    cid = vault.add(ASHA).customer_id
    secret = "canary.correction@example.in"
    request_id = verified(desk, smtp[1], cid, "correction", {"email": secret})
    grievance = desk.open(cid, "grievance", "Support read my Aadhaar 2345 6789 0124 aloud")
    vault.close()
    raw = b"".join(p.read_bytes() for p in _db_files(vault))
    assert secret.encode() not in raw and b"read my Aadhaar" not in raw
    vault2 = _reopen(vault)
    desk2 = RightsRequests(vault2, Messenger(smtp[0]))
    desk2.fulfil(request_id)
    closed = desk2.close(grievance.id, "Apologised; the agent was retrained.")
    assert closed["resolution"].startswith("Apologised")
    with vault2.db.connect() as conn:
        rows = conn.execute(sa.select(rights_requests.c.id, rights_requests.c.details)).all()
    assert {row.id: row.details for row in rows} == {request_id: None, grievance.id: None}
    vault2.close()


def _db_files(vault: Vault) -> list[Any]:
    from pathlib import Path

    path = Path(vault.db.url.database or "")
    return [p for p in (path, path.with_name(path.name + "-wal")) if p.exists()]


def _reopen(vault: Vault) -> Vault:
    from needtoknow.config import open_vault

    return open_vault(_reopen_settings(vault), clock=vault.clock)


def _reopen_settings(vault: Vault) -> Any:
    from pathlib import Path

    from needtoknow.config import Settings

    path = Path(vault.db.url.database or "")
    return Settings(home=path.parent / "home", database_url=str(vault.db.url))


def test_wrong_codes_are_limited_ledgered_and_a_code_expires(
    vault: Vault, desk: RightsRequests, smtp: Mail, clock: Clock
) -> None:
    cid = vault.add(ASHA).customer_id
    request = desk.open(cid, "access")
    desk.send_code(request.id)
    code = code_in(smtp[1].messages[-1])
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(4):
        with pytest.raises(VerificationFailed, match="wrong_code"):
            desk.verify(request.id, wrong)
    with pytest.raises(VerificationFailed, match="locked"):
        desk.verify(request.id, wrong)
    with pytest.raises(VerificationFailed, match="locked"):
        desk.verify(request.id, code)  # even the right code, once locked
    desk.send_code(request.id)  # a new code unlocks
    fresh = code_in(smtp[1].messages[-1])
    clock.now += timedelta(minutes=11)
    with pytest.raises(VerificationFailed, match="expired"):
        desk.verify(request.id, fresh)
    events = [e["detail"]["event"] for e in _entries(vault) if e["kind"] == "verification"]
    assert events == ["sent"] + ["wrong_code"] * 4 + ["locked", "locked", "sent", "expired"]


def test_a_code_goes_by_sms_to_the_number_on_file(
    vault: Vault, desk: RightsRequests, sms: SmsGateway
) -> None:
    cid = vault.add(ASHA).customer_id
    request = desk.open(cid, "access")
    desk.send_code(request.id, channel="sms")
    (message,) = sms.messages
    assert message["to"] == "+919876543210" and sms.tokens == ["Bearer gw-token"]
    assert desk.verify(request.id, code_in(message["text"])).verification == "verified"


def test_an_sms_gateway_beyond_loopback_must_be_https() -> None:
    with pytest.raises(ValidationError, match="https_beyond_loopback"):
        SmsWebhook("http://sms.example.com/send")
    assert SmsWebhook("https://sms.example.com/send").url.startswith("https")


def test_a_nominee_acts_only_after_evidence_and_is_verified_at_their_own_contact(
    vault: Vault, desk: RightsRequests, smtp: Mail
) -> None:
    cid = vault.add(ASHA).customer_id
    nomination = verified(
        desk, smtp[1], cid, "nomination", {"name": "Kiran Canarywala", "email": "kiran@example.in"}
    )
    nominee = desk.fulfil(nomination)["answer"]["nominee"]
    assert nominee["may_act"] is False and "Kiran" not in json.dumps(nominee)
    with pytest.raises(VerificationFailed, match="nominee_without_evidence"):
        desk.open(cid, "erasure", nominee_id=nominee["nominee_id"])
    desk.nominees.evidence(nominee["nominee_id"], "death", "Death certificate MH/PUN/2027/0042")
    request = desk.open(cid, "access", nominee_id=nominee["nominee_id"])
    desk.send_code(request.id)
    assert smtp[1].messages[-1]["To"] == "kiran@example.in"
    desk.verify(request.id, code_in(smtp[1].messages[-1]))
    assert desk.get(request.id).verified_by == f"nominee:{nominee['nominee_id']}"
    assert desk.fulfil(request.id)["answer"]["customer_id"] == cid
    with pytest.raises(ValidationError, match="not_by_nominee"):
        desk.open(cid, "nomination", {"name": "X", "email": "x@example.in"}, nominee["nominee_id"])


def test_an_overdue_grievance_escalates_once_to_the_contact_person(
    vault: Vault, desk: RightsRequests, smtp: Mail, clock: Clock
) -> None:
    cid = vault.add(ASHA).customer_id
    grievance = desk.open(cid, "grievance", "My invoice shows someone else's address")
    desk.verify_offline(grievance.id, "Arun (grievance officer)", "document")
    with pytest.raises(ValidationError, match="close_with_resolution"):
        desk.fulfil(grievance.id)
    assert desk.escalate() == [] and desk.listing(overdue=True) == []
    clock.now += timedelta(days=31)
    assert [r.id for r in desk.listing(overdue=True)] == [grievance.id]
    (escalated,) = desk.escalate()
    assert escalated.escalated_at == clock.now
    assert desk.escalate() == []  # once
    message = smtp[1].messages[-1]
    assert message["To"] == "grievance@nextraone.example" and grievance.id in text_of(message)
    assert "invoice" not in text_of(message)
    closed = desk.close(grievance.id, "Corrected the invoice template.")
    assert closed["request"]["status"] == "closed" and closed["contact"]
    with pytest.raises(NeedToKnowError, match="closed"):
        desk.close(grievance.id, "again")


def test_the_customer_sees_their_own_requests_in_their_history(
    vault: Vault, desk: RightsRequests
) -> None:
    cid = vault.add(ASHA).customer_id
    other = vault.add(ASHA).customer_id
    request = desk.open(cid, "grievance", "Too many e-mails")
    desk.open(other, "access")
    desk.verify_offline(request.id, "Arun", "in_person")
    desk.close(request.id, "Unsubscribed you.")
    events = [
        json.loads(p.entry)["detail"]["event"]
        for p in vault.history(cid)
        if json.loads(p.entry)["kind"] == "request"
    ]
    assert events == ["opened", "verified", "closed"]


def test_bad_input_is_refused_naming_the_valid_values(vault: Vault, desk: RightsRequests) -> None:
    cid = vault.add(ASHA).customer_id
    with pytest.raises(ValidationError, match=r"\(one_of\): access, correction, erasure"):
        desk.open(cid, "deletion")
    request = desk.open(cid, "access")
    with pytest.raises(ValidationError, match="in_person, video_kyc, document"):
        desk.verify_offline(request.id, "Arun", "phone_call")
    with pytest.raises(ValidationError, match="email, sms"):
        desk.send_code(request.id, channel="pigeon")
    with pytest.raises(ValidationError, match="text"):
        desk.open(cid, "grievance")


def test_notes_survive_key_rotation_and_the_old_key_retires(
    vault: Vault, desk: RightsRequests, smtp: Mail
) -> None:
    cid = vault.add(ASHA).customer_id
    request_id = verified(desk, smtp[1], cid, "correction", {"email": "asha.rotated@example.in"})
    old = vault.keys.active_version()
    batches: list[int] = []
    rotated = vault.rotate_keys(batch=1, progress=batches.append)
    assert batches == [1] and rotated.rewrapped == 2  # the customer's key, then the note
    vault.retire_key(old)
    assert desk.fulfil(request_id)["answer"] == {"corrected": ["email"]}


def _entries(vault: Vault) -> list[dict[str, Any]]:
    with vault.db.connect() as conn:
        rows = conn.execute(sa.select(ledger_entries.c.entry).order_by(ledger_entries.c.idx))
        return [json.loads(bytes(row[0])) for row in rows]


def test_no_api_key_can_act_as_the_customer(vault: Vault) -> None:
    """The data_principal recipient reads any customer's whole record: a key bound to it
    would be a master key, so only a customer's own verified session acts as it."""
    with pytest.raises(ValidationError, match="data_principal_signs_in_with_codes"):
        vault.api_keys.create("data_principal", ("customers:read",))


def test_nobody_reads_as_the_customer_but_the_answer_to_their_verified_request(
    vault: Vault, desk: RightsRequests
) -> None:
    """An operator's read "as the customer" would put their read in the customer's name
    in the customer's own history: it is refused unless it answers a verified access
    request of that very customer (or starts a session, for a lookup)."""
    cid = vault.add(ASHA).customer_id
    other = vault.add(ASHA).customer_id
    with pytest.raises(PolicyDenied, match="verified access"):
        vault.get(cid, recipient="data_principal", purpose="rights_request")
    pending = desk.open(cid, "access")
    verified_other = desk.open(other, "access")
    desk.verify_offline(verified_other.id, "Arun", "in_person")
    for request_id in (pending.id, verified_other.id, "no-such-request"):
        context = Context(now=vault.clock(), rights_request=request_id)
        with pytest.raises(PolicyDenied, match="verified access"):
            vault.get(cid, recipient="data_principal", purpose="rights_request", context=context)
    with pytest.raises(PolicyDenied, match="start their session"):
        vault.find("email", ASHA["email"], recipient="data_principal", purpose="rights_request")
