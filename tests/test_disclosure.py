"""Legal disclosures: four eyes, release through the policy and the ledger, encrypted
packages, and customer notices held while a non-disclosure order runs."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from needtoknow.config import Settings, init_vault, open_vault
from needtoknow.errors import NeedToKnowError, PolicyDenied, ValidationError
from needtoknow.records.disclosures import HPKE_SUITE
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
        **{"case_owner": "Priya (legal)", **extra},
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
    assert actions == ["request"] * 2 + ["approve"] * 2 + ["release"] * 2  # one per customer
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
    outside = [
        e["customer_id"] for e in entries if e.get("detail", {}).get("result") == "outside_period"
    ]
    assert outside == [joined]


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


def test_gag_ordered_request_is_hidden_before_release_and_after_rejection(
    officers: tuple[Vault, Vault], clock: Clock
) -> None:
    """Review finding: a request's reference and legal basis showed in the customer's
    history while its order ran, before release, and for good once rejected."""
    owner, approver = officers
    cid = owner.add(ASHA).customer_id
    until = clock.now.date() + timedelta(days=30)
    pending = ask(owner, [cid], non_disclosure_until=until)
    rejected = ask(owner, [cid], non_disclosure_until=until)
    approver.disclosures.reject(rejected, "out of scope")

    def shown() -> list[dict[str, Any]]:
        return [json.loads(p.entry) for p in owner.history(cid)]

    assert [e["kind"] for e in shown()] == ["write"]
    approver.disclosures.approve(pending)
    assert [e["kind"] for e in shown()] == ["write"]
    # The proofs shown stay valid: the hidden entries are still in the tree.
    public_key = owner.keys.signing_public_key()
    for proof in owner.history(cid):
        proof.check(public_key)
    clock.now = datetime.combine(until, clock.now.timetz())  # the order's last day
    assert [e["kind"] for e in shown()] == ["write"]
    clock.now += timedelta(days=1)
    visible = shown()
    assert {e.get("case_id") for e in visible} >= {pending, rejected}
    assert {e["detail"]["action"] for e in visible if e["kind"] == "disclosure"} == {
        "request",
        "approve",
        "reject",
    }


def test_disclosure_entries_name_only_their_own_customer(
    officers: tuple[Vault, Vault],
) -> None:
    owner, approver = officers
    asha, ravi = owner.add(ASHA).customer_id, owner.add(RAVI).customer_id
    request_id = ask(owner, [asha, ravi, "0" * 36])
    approver.disclosures.approve(request_id)
    owner.disclosures.release(request_id)
    for proof in owner.history(asha):
        entry = json.loads(proof.entry)
        assert ravi not in proof.entry.decode() and "customer_ids" not in entry
    results = {
        (e["customer_id"], e["detail"]["result"])
        for e in ledger(owner)
        if e["kind"] == "disclosure" and e["detail"]["action"] == "release"
    }
    assert results == {(asha, "released"), (ravi, "released"), ("0" * 36, "not_found")}


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


# The requester is "legal:priya"; each of these reads the same on screen.
LOOK_ALIKES = {
    "cyrillic_i": ("legal:pr\u0456ya", "mixed_scripts"),
    "greek_iota": ("legal:pr\u03b9ya", "mixed_scripts"),
    "zero_width_space": ("legal:pri\u200bya", "hidden_characters"),
    "soft_hyphen": ("legal:pri\u00adya", "hidden_characters"),
    "zero_width_joiner": ("legal:pri\u200dya", "hidden_characters"),
    "zero_width_non_joiner": ("legal:pri\u200cya", "hidden_characters"),
    "bidi_override": ("legal:\u202epriya", "hidden_characters"),
    "all_cyrillic": ("legal:\u0440\u0433\u0456\u0443\u0430", "four eyes"),
    "fullwidth": ("\uff2c\uff25\uff27\uff21\uff2c:\uff30\uff32\uff29\uff39\uff21", "four eyes"),
    "latin_alpha_and_dotless_i": ("legal:pr\u0131y\u0251", "four eyes"),
}


@pytest.mark.parametrize("variant", sorted(LOOK_ALIKES))
def test_four_eyes_refuses_look_alike_names_of_the_requester(
    officers: tuple[Vault, Vault], settings: Settings, clock: Clock, variant: str
) -> None:
    """Issue 15: a Cyrillic letter, a zero-width or soft-hyphen variant of the
    requester's name passed as a second person. Names that hide characters or mix
    scripts in a word are refused; the rest are compared by their skeleton."""
    owner, _ = officers
    request_id = ask(owner, [owner.add(ASHA).customer_id])
    actor, refusal = LOOK_ALIKES[variant]
    twin = open_vault(dataclasses.replace(settings, actor=actor), clock=clock)
    try:
        if refusal == "four eyes":
            with pytest.raises(PolicyDenied, match="four eyes"):
                twin.disclosures.approve(request_id)
        else:
            with pytest.raises(ValidationError) as caught:
                twin.disclosures.approve(request_id)
            assert (caught.value.field, caught.value.rule) == ("actor", refusal)
            assert actor not in str(caught.value)
        assert owner.disclosures.get(request_id).status == "requested"
    finally:
        twin.close()


def test_a_requester_or_case_owner_with_a_look_alike_name_cannot_ask(
    vault: Vault, settings: Settings, clock: Clock
) -> None:
    cid = vault.add(ASHA).customer_id
    hidden = open_vault(dataclasses.replace(settings, actor="legal:pri\u200bya"), clock=clock)
    try:
        with pytest.raises(ValidationError, match="hidden_characters"):
            ask(hidden, [cid])
    finally:
        hidden.close()
    with pytest.raises(ValidationError) as caught:
        ask(vault, [cid], case_owner="Pr\u0456ya")
    assert (caught.value.field, caught.value.rule) == ("case_owner", "mixed_scripts")
    assert vault.disclosures.requests() == []


def test_the_case_owner_cannot_approve_either(
    officers: tuple[Vault, Vault], settings: Settings, clock: Clock
) -> None:
    owner, approver = officers
    request_id = ask(owner, [owner.add(ASHA).customer_id], case_owner="DPO:Arun")
    with pytest.raises(PolicyDenied, match="four eyes"):
        approver.disclosures.approve(request_id)


def test_names_in_other_scripts_are_people_too(
    officers: tuple[Vault, Vault], settings: Settings, clock: Clock
) -> None:
    owner, _ = officers
    request_id = ask(owner, [owner.add(ASHA).customer_id])
    hindi = open_vault(
        dataclasses.replace(settings, actor="dpo:\u0905\u0930\u0941\u0923"), clock=clock
    )
    try:
        assert hindi.disclosures.approve(request_id).status == "approved"
    finally:
        hindi.close()


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


@pytest.mark.parametrize(
    ("filer", "approver"),
    [("user:priya", "staff:priya"), ("staff:priya", "user:PRIYA"), ("staff:priya", "priya")],
)
def test_one_person_through_the_cli_and_the_console_is_one_pair_of_eyes(
    settings: Settings, clock: Clock, filer: str, approver: str
) -> None:
    """The CLI's `user:` and the console's `staff:` say how a person came in, not who
    they are: filing in one and approving in the other is still one person."""
    owner = init_vault(dataclasses.replace(settings, actor=filer), clock=clock)
    twin = open_vault(dataclasses.replace(settings, actor=approver), clock=clock)
    try:
        request_id = ask(owner, [owner.add(ASHA).customer_id])
        with pytest.raises(PolicyDenied, match="four eyes"):
            twin.disclosures.approve(request_id)
        other = open_vault(dataclasses.replace(settings, actor="staff:arun"), clock=clock)
        assert other.disclosures.approve(request_id).status == "approved"
        other.close()
    finally:
        owner.close()
        twin.close()
