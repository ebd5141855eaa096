"""Collection limited to need: the vault stores only categories some purpose of the active
policy collects; a write carrying any other is refused whole, naming the category and
never the value; narrowing applies at once in every process, widening waits for its
notice — on SQLite and PostgreSQL, through the library, the CLI and HTTP."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from needtoknow.config import Settings, init_vault, open_vault
from needtoknow.detect import Scanner
from needtoknow.detect.redact import Redactor
from needtoknow.errors import NotCollected, NoticePending, PolicyError
from needtoknow.policy import load_policy_text
from needtoknow.storage import store
from needtoknow.storage.schema import customers, ledger_entries
from needtoknow.vault import Vault
from tests.conftest import Clock, Ntk
from tests.customers import ASHA, ASHA_CATEGORIES, NOT_COLLECTED

TEXT_FILE = Path(__file__).parents[1] / "policies" / "nextraone.yaml"
TEXT = TEXT_FILE.read_text("utf-8")
KYC = "identity_number, driving_licence,"
NO_LICENCE = TEXT.replace(KYC, "identity_number,")  # identity checks stop taking licences
WITH_VEHICLE = TEXT.replace(KYC, KYC + " vehicle_registration,")
MARKETING = "  marketing_contact: {legal_basis: consent, "
OFFERS = "  third_party_offers: {legal_basis: consent, "
REGIONAL = TEXT.replace(MARKETING, MARKETING + "collects: [birthplace], ").replace(
    OFFERS,
    OFFERS + "collects: [vehicle_registration], ",  # motor insurance offers
)
LEGACY = re.sub(r"\n    collects: \[[^\]]*\]", "", TEXT)  # written before `collects:`
BIRTHPLACE = {"birthplace": NOT_COLLECTED["birthplace"]}


def counts(vault: Vault) -> tuple[int, int]:
    with vault.db.connect() as conn:
        people = conn.execute(sa.select(sa.func.count()).select_from(customers)).scalar_one()
        entries = conn.execute(sa.select(sa.func.count()).select_from(ledger_entries)).scalar_one()
    return people, entries


def test_a_write_with_a_category_no_purpose_collects_is_refused_whole(vault: Vault) -> None:
    before = counts(vault)
    with pytest.raises(NotCollected) as refused:
        vault.add({**ASHA, **NOT_COLLECTED})
    assert refused.value.categories == sorted(NOT_COLLECTED)
    assert refused.value.details()["rule"] == "not_collected"
    shown = str(refused.value) + json.dumps(refused.value.details())
    assert "genetic_information" in shown and "nextraone" in shown
    for value in NOT_COLLECTED.values():
        assert value not in shown and value.split()[0] not in shown
    assert counts(vault) == before  # nothing stored, nothing ledgered
    asha = vault.add(ASHA).customer_id
    with pytest.raises(NotCollected, match="birthplace"):
        vault.correct(asha, {"email": "new@example.in", "birthplace": "Pune"})
    kept = vault.get(asha, recipient="support_team", purpose="service_delivery").values
    assert kept["email"] == ASHA["email"]  # the correction was refused whole


def test_narrowing_collection_applies_at_once_in_every_process(
    vault: Vault, settings: Settings
) -> None:
    holder = vault.add(ASHA).customer_id
    other = open_vault(settings, clock=vault.clock)
    try:
        versions = vault.versions
        posted = versions.propose(NO_LICENCE)
        assert not posted.material
        assert {
            "kind": "collection_removed",
            "widens": False,
            "purpose": "identity_check",
            "category": "driving_licence",
        } in posted.changes
        versions.activate(posted.version)
        for process in (vault, other):
            with pytest.raises(NotCollected, match="driving_licence"):
                process.add(ASHA)
        account = other.explain_collection()
        assert "driving_licence" not in account["collected"]
        assert account["not_collected"]["driving_licence"]["held_by"] == 1  # for review
        assert account["collected"]["email"]["held_by"] == 1
        vault.erase(holder)
        assert other.explain_collection()["not_collected"]["driving_licence"]["held_by"] == 0
    finally:
        other.close()


def test_collecting_more_is_material_and_waits_for_its_notice(vault: Vault, clock: Clock) -> None:
    versions = vault.versions
    posted = versions.propose(WITH_VEHICLE)
    assert posted.material
    assert posted.changes[0] == {
        "kind": "collection_added",
        "widens": True,
        "purpose": "identity_check",
        "category": "vehicle_registration",
    }
    with pytest.raises(NoticePending):
        versions.activate(posted.version)
    with pytest.raises(NotCollected):
        vault.add({**ASHA, "vehicle_registration": NOT_COLLECTED["vehicle_registration"]})
    clock.now += timedelta(days=30)
    versions.activate(posted.version)
    vault.add({**ASHA, "vehicle_registration": NOT_COLLECTED["vehicle_registration"]})
    # what was collected under the earlier version is explained under it
    earlier = vault.explain_collection(versions.at(clock.now - timedelta(days=1)))
    assert "vehicle_registration" in earlier["not_collected"]


def held(vault: Vault, customer_id: str) -> frozenset[str]:
    with vault.db.connect() as conn:
        return dict(store.live_categories(conn))[customer_id]


def test_what_only_a_consent_needs_is_held_only_while_the_consent_stands(
    settings: Settings, clock: Clock
) -> None:
    vault = init_vault(settings, REGIONAL, clock=clock)
    try:
        with pytest.raises(NotCollected, match="only with the customer's consent") as refused:
            vault.add({**ASHA, **BIRTHPLACE})
        assert refused.value.details()["consent_needed"] == ["marketing_contact"]
        asha = vault.add(ASHA).customer_id
        with pytest.raises(NotCollected, match="marketing_contact"):
            vault.correct(asha, BIRTHPLACE)
        vault.consents.grant(asha, "marketing_contact", "web", "regional offers form 9")
        vault.consents.grant(asha, "third_party_offers", "web", "insurance offers form 3")
        vault.correct(asha, {**BIRTHPLACE, "vehicle_registration": "MH 12 AB 1234"})
        assert {"birthplace", "vehicle_registration"} <= held(vault, asha)
        account = vault.explain_collection()["collected"]
        assert account["birthplace"]["consent_needed"] == ["marketing_contact"]
        assert account["email"]["consent_needed"] == []
        vault.consents.withdraw(asha, "marketing_contact", "email")
        # the rest stays for its own purposes, even what another withdrawn consent needs
        assert held(vault, asha) == {*ASHA_CATEGORIES, "vehicle_registration"}
        withdrawal = next(
            e for e in vault.ledger.history(asha)[::-1] if e.to_json()["entry"]["kind"] == "consent"
        ).to_json()["entry"]
        assert withdrawal["detail"] == {
            "action": "withdraw",
            "channel": "email",
            "closed": 1,
            "erased": ["birthplace"],
        }
        with pytest.raises(NotCollected):
            vault.correct(asha, BIRTHPLACE)
        vault.erase(asha)
        vault.consents.withdraw(asha, "marketing_contact")  # still never refused
    finally:
        vault.close()


def test_a_policy_declaring_no_collection_collects_everything_until_it_does(
    settings: Settings, clock: Clock
) -> None:
    vault = init_vault(settings, LEGACY, clock=clock)
    try:
        assert not vault.policy.collection_declared
        asha = vault.add({**ASHA, **NOT_COLLECTED}).customer_id
        assert not vault.explain_collection()["declared"]
        versions = vault.versions
        posted = versions.propose(TEXT)  # declaring what is needed only narrows
        assert not posted.material
        assert {
            "kind": "collection_removed",
            "widens": False,
            "purpose": "billing",
            "category": "genetic_information",
        } in posted.changes
        versions.activate(posted.version)
        with pytest.raises(NotCollected, match="genetic_information"):
            vault.correct(asha, NOT_COLLECTED)
        account = vault.explain_collection()
        assert account["declared"] and account["not_collected"]["genetic_information"]["held_by"]
    finally:
        vault.close()


@pytest.mark.parametrize(
    ("purpose", "problem"),
    [
        (
            "  billing: {legal_basis: voluntarily_provided, collects: [name, shoe_size]}",
            "purpose 'billing': unknown category 'shoe_size'",
        ),
        (
            "  billing: {legal_basis: voluntarily_provided, collects: name}",
            "purpose 'billing': 'collects' must be a list of categories",
        ),
        ("  sale: {legal_basis: none, collects: [name]}", "purpose 'sale' may not collect"),
        (
            "  billing: {legal_basis: voluntarily_provided, collects: [name], "
            "retention: eight years}",
            "purpose 'billing': retention is a whole number of days, months or years",
        ),
        (
            "  billing: {legal_basis: voluntarily_provided, collects: [name], retention: 0 days}",
            "retention is a whole number",
        ),
        (
            "  billing: {legal_basis: voluntarily_provided, collects: [name], "
            "retention: 2 fortnights}",
            "retention is a whole number",
        ),
        (
            "  billing: {legal_basis: voluntarily_provided, collects: [name], retention: ² years}",
            "retention is a whole number",
        ),
        ("  sale: {legal_basis: none, retention: 1 day}", "purpose 'sale' may not collect"),
    ],
)
def test_the_loader_checks_what_purposes_collect(purpose: str, problem: str) -> None:
    text = f"name: t\npurposes:\n{purpose}\nrecipients: {{}}\nrules: []\n"
    with pytest.raises(PolicyError, match=problem) as caught:
        load_policy_text(text, "t.yaml")
    assert caught.value.line == 3


def test_the_redactor_keeps_no_vault_copy_of_what_is_not_collected(vault: Vault) -> None:
    text = "Car MH 12 AB 1234, mail asha.canary@example.in"
    redactor = Redactor(default="vault", vault=vault)
    redacted = redactor.redact(text, Scanner().scan(text))
    assert "<VEHICLE_REGISTRATION>" in redacted and "<VAULT:" in redacted
    assert counts(vault)[0] == 1  # only the e-mail address was vaulted


def test_ntk_policy_explain_collection_and_a_refused_add(ntk: Ntk, tmp_path: Path) -> None:
    everything = json.dumps({**ASHA, **NOT_COLLECTED})
    refused = ntk("customer", "add", "-", "--json", stdin=everything, expect=5)
    body = json.loads(refused.stderr)
    assert body["error"] == "NotCollected" and body["categories"] == sorted(NOT_COLLECTED)
    assert "rs4680" not in refused.stdout + refused.stderr
    ntk("customer", "add", "-", "--json", stdin=json.dumps(ASHA))
    text = ntk("policy", "explain", "--collection").stdout
    assert "genetic_information" in text.split("refuses to store:")[1]
    assert (
        "date_of_birth: for identity_check (voluntarily_provided, kept 6 months)  [held by 1]"
        in text
    )
    account = ntk.json("policy", "explain", "--collection", "--json")
    cert_in = {"hire_period", "hire_purpose", "ownership_pattern"}  # VPS subscribers' items
    assert set(account["collected"]) == set(ASHA_CATEGORIES) | cert_in
    ntk("policy", "explain", "--collection", "--recipient", "billing_team", expect=2)
    (tmp_path / "legacy.yaml").write_text(LEGACY, "utf-8")
    checked = ntk("policy", "check", str(tmp_path / "legacy.yaml"))
    assert "every category may be collected" in checked.stderr
    assert "warning" not in ntk("policy", "check", str(TEXT_FILE)).stderr
    (tmp_path / "unstated.yaml").write_text(TEXT.replace("retention: 180 days", ""), "utf-8")
    unstated = ntk("policy", "check", str(tmp_path / "unstated.yaml")).stderr
    assert "state no retention: billing" in unstated
