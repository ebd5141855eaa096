"""The agreement registry: changes are ledgered, take effect at once (in every process),
and customer-scoped agreements limit a contractor to its assigned customers."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta
from typing import Any, TypedDict

import pytest
import sqlalchemy as sa

from needtoknow.config import Settings, demo_policy_text, open_vault
from needtoknow.errors import NotFound, PolicyDenied, PolicyError, ValidationError
from needtoknow.policy import load_policy_text
from needtoknow.policy.model import Agreement
from needtoknow.storage.schema import ledger_entries
from needtoknow.vault import Vault
from tests.conftest import Clock
from tests.customers import ASHA, RAVI


class Who(TypedDict):
    recipient: str
    purpose: str


COLLECT = Who(recipient="collection_agency", purpose="bill_collection")
NOTIFY = Who(recipient="notification_provider", purpose="service_notification")


def last_entries(vault: Vault, count: int) -> list[dict[str, Any]]:
    with vault.db.connect() as conn:
        rows: list[bytes] = list(
            conn.execute(
                sa.select(ledger_entries.c.entry).order_by(ledger_entries.c.idx.desc()).limit(count)
            ).scalars()
        )
    return [json.loads(bytes(row)) for row in rows][::-1]


def test_init_seeds_the_registry_from_the_policy(vault: Vault) -> None:
    listing = {a["id"]: a for a in vault.agreements.listing()}
    assert set(listing) == {a.id for a in vault.policy.agreements}
    assert listing["AGR-COLL-2026"]["customer_scoped"] is True
    assert listing["AGR-COLL-2026"]["reference"] == "MSA/COLL/2026-014"


def test_customer_scoped_agreement_limits_the_agency_to_assigned_accounts(vault: Vault) -> None:
    mine = vault.add(ASHA).customer_id
    other = vault.add(RAVI).customer_id
    vault.agreements.assign("AGR-COLL-2026", [mine])
    assert vault.get(mine, **COLLECT).values["name"] == "Asha Canarywala"
    with pytest.raises(PolicyDenied, match="not assigned to agreement AGR-COLL-2026"):
        vault.get(other, **COLLECT)
    got = vault.get_many([mine, other], **COLLECT)
    assert [d.customer_id for d in got] == [mine]
    assert vault.find("telephone", RAVI["telephone"], **COLLECT) == []
    assert vault.find("telephone", ASHA["telephone"], **COLLECT) == [mine]
    assert last_entries(vault, 1)[0]["customer_id"] == mine


def test_a_customers_history_names_no_other_customer(vault: Vault) -> None:
    """Review finding: an assignment entry listed every customer assigned with it, so one
    customer's history showed the others' ids. So would a lookup matching several."""
    mine = vault.add(ASHA).customer_id
    other = vault.add(RAVI).customer_id
    vault.agreements.assign("AGR-COLL-2026", [mine, other])
    vault.agreements.unassign("AGR-COLL-2026", [mine, other])
    vault.find("telephone", ASHA["telephone"], recipient="support_team", purpose="service_delivery")
    kinds = []
    for proof in vault.history(mine):
        assert other not in proof.entry.decode()
        kinds.append(json.loads(proof.entry)["kind"])
    assert kinds.count("assignment") == 2 and "find" in kinds


def test_a_subcontractor_needs_its_own_and_its_contractors_assignment(vault: Vault) -> None:
    cid = vault.add(ASHA).customer_id
    field = Who(recipient="collection_field_agent", purpose="bill_collection")
    vault.agreements.assign("AGR-FIELD-2026", [cid])
    with pytest.raises(PolicyDenied, match="AGR-COLL-2026"):
        vault.get(cid, **field)  # the agency itself was never handed the account
    vault.agreements.assign("AGR-COLL-2026", [cid])
    assert vault.get(cid, **field).values["telephone"] == "+********3210"
    vault.agreements.unassign("AGR-COLL-2026", [cid])
    with pytest.raises(PolicyDenied):
        vault.get(cid, **field)


def test_revocation_takes_effect_at_once_in_every_process(
    vault: Vault, settings: Settings, clock: Clock
) -> None:
    cid = vault.add(ASHA).customer_id
    other_process = open_vault(settings, clock=clock)
    assert other_process.get(cid, **NOTIFY).values["email"]
    vault.agreements.revoke("AGR-NOTIFY-2026", reason="vendor breach notice 2026-11-20")
    with pytest.raises(PolicyDenied, match="no agreement in force"):
        other_process.get(cid, **NOTIFY)
    entry = last_entries(vault, 2)[0]
    assert entry["kind"] == "agreement_change"
    assert entry["detail"]["action"] == "revoke"
    other_process.close()


def test_create_and_amend_agreements_with_dates(vault: Vault, clock: Clock) -> None:
    cid = vault.add(ASHA).customer_id
    vault.agreements.create(
        Agreement(
            id="AGR-SMS-2027",
            recipient="legacy_sms_gateway",
            purposes=frozenset({"service_notification"}),
            reference="MSA/SMS/2027-001",
            starts=clock.now.date() + timedelta(days=10),
            expires=date(2027, 12, 31),
        )
    )
    sms = Who(recipient="legacy_sms_gateway", purpose="service_notification")
    with pytest.raises(PolicyDenied):
        vault.get(cid, **sms)  # not started yet
    clock.now += timedelta(days=10)
    assert vault.get(cid, **sms).values["telephone"]
    vault.agreements.amend("AGR-SMS-2027", expires=clock.now.date())  # ends today
    clock.now += timedelta(days=1)
    with pytest.raises(PolicyDenied):
        vault.get(cid, **sms)
    actions = [
        e["detail"]["action"]
        for e in last_entries(vault, 20)
        if e["kind"] == "agreement_change" and e["detail"]["agreement"]["id"] == "AGR-SMS-2027"
    ]
    assert actions == ["create", "amend"]


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"recipient": "billing_team"}, "not_a_contractor"),
        ({"recipient": "nobody"}, "unknown_recipient"),
        ({"purposes": frozenset({"sale"})}, "prohibited_purpose"),
        ({"purposes": frozenset({"fishing"})}, "unknown_purpose"),
        ({"expires": date(2020, 1, 1), "starts": date(2021, 1, 1)}, "before_start"),
        ({"id": "AGR-COLL-2026"}, "duplicate_id"),
    ],
)
def test_bad_agreements_are_refused(vault: Vault, changes: dict[str, object], rule: str) -> None:
    base = {
        "id": "AGR-NEW",
        "recipient": "notification_provider",
        "purposes": frozenset({"service_notification"}),
        "reference": "X-1",
        "expires": date(2027, 1, 1),
    }
    with pytest.raises(ValidationError) as caught:
        vault.agreements.create(Agreement(**{**base, **changes}))  # type: ignore[arg-type]
    assert caught.value.rule == rule


def test_unknown_or_revoked_agreements_cannot_be_changed(vault: Vault) -> None:
    with pytest.raises(NotFound):
        vault.agreements.revoke("AGR-NOPE", reason="x")
    vault.agreements.revoke("AGR-SMS-2024", reason="lapsed")
    with pytest.raises(NotFound):
        vault.agreements.amend("AGR-SMS-2024", reference="again")
    with pytest.raises(ValidationError, match="not_customer_scoped"):
        vault.agreements.assign("AGR-NOTIFY-2026", ["c"])


def test_an_agreement_cannot_be_moved_to_another_contractor(vault: Vault) -> None:
    with pytest.raises(ValidationError, match="immutable"):
        vault.agreements.amend("AGR-COLL-2026", recipient="notification_provider")


def test_the_denial_names_only_the_agreement_the_customer_is_missing_from(vault: Vault) -> None:
    cid = vault.add(ASHA).customer_id
    vault.agreements.assign("AGR-COLL-2026", [cid])
    field = Who(recipient="collection_field_agent", purpose="bill_collection")
    with pytest.raises(PolicyDenied) as caught:
        vault.get(cid, **field)
    assert "AGR-FIELD-2026" in str(caught.value) and "AGR-COLL-2026" not in str(caught.value)


@pytest.mark.parametrize(
    "agreement_id",
    [
        "AGR\x00X",
        "AGR-X\n",
        "AGR\tX",
        "AGR X",
        "",
        " AGR",
        "-AGR",
        "\u0410GR-1",
        "AGR\u200b1",
        "A" * 101,
    ],
)
def test_agreement_ids_with_control_or_unsafe_characters_are_refused(
    vault: Vault, agreement_id: str
) -> None:
    """Issue 15: NUL and other control characters were accepted in agreement ids."""
    agreement = Agreement(
        id=agreement_id,
        recipient="notification_provider",
        purposes=frozenset({"service_notification"}),
        reference="X-1",
        expires=date(2027, 1, 1),
    )
    with pytest.raises(ValidationError) as caught:
        vault.agreements.create(agreement)
    assert (caught.value.field, caught.value.rule) == ("id", "id_format")
    assert "letters, digits" in str(caught.value)
    assert agreement_id not in [a["id"] for a in vault.agreements.listing()]


def test_the_longest_safe_agreement_id_is_accepted(vault: Vault) -> None:
    longest = "A" + "b.c_d:e-" * 12 + "f" * 3
    assert len(longest) == 100
    vault.agreements.create(
        Agreement(
            id=longest,
            recipient="notification_provider",
            purposes=frozenset({"service_notification"}),
            reference="X-1",
            expires=date(2027, 1, 1),
        )
    )
    assert longest in [a["id"] for a in vault.agreements.listing()]


def test_a_policy_file_with_an_unsafe_agreement_id_is_refused() -> None:
    text = demo_policy_text().replace("id: AGR-SMS-2024", 'id: "AGR-SMS\\x002024"')
    with pytest.raises(PolicyError, match="an agreement id is a letter or digit"):
        load_policy_text(text)


def test_unknown_or_erased_customers_cannot_be_assigned(vault: Vault) -> None:
    """Issue 15: an unknown customer could be assigned to an agreement; an erased one
    cannot be either. The whole assignment is refused and nothing is ledgered."""
    live = vault.add(ASHA).customer_id
    erased = vault.add(RAVI).customer_id
    vault.erase(erased)
    for stranger in ("no-such-customer", erased):
        before = last_entries(vault, 1)
        with pytest.raises(NotFound, match="unknown or erased") as caught:
            vault.agreements.assign("AGR-COLL-2026", [live, stranger])
        assert stranger in str(caught.value) and live not in str(caught.value)
        assert last_entries(vault, 1) == before
    assert vault.agreements.unassigned(live, (("AGR-COLL-2026",),)) == [("AGR-COLL-2026",)]
    assert vault.agreements.assign("AGR-COLL-2026", [live]) == 1


def test_entries_written_before_one_per_customer_are_shown_without_the_others(
    vault: Vault,
) -> None:
    """Second review: a lookup or release ledgered before the change lists several
    customers in one entry. Shown to one of them, the others' ids are taken out, and
    the proof still checks (it proves the stored entry's leaf)."""
    from needtoknow.ledger import log
    from needtoknow.ledger.entry import canonical_json

    mine, other = vault.add(ASHA).customer_id, vault.add(RAVI).customer_id
    old = {
        "v": 1,
        "kind": "find",
        "time": "2026-11-01T00:00:00.000000Z",
        "actor": "api:k",
        "customer_ids": sorted([mine, other]),
        "detail": {"customers": [mine, other]},
    }
    with vault.db.begin() as conn:
        cursor = conn.connection.cursor()
        log.append_with(cursor, log.statements(conn.dialect), [canonical_json(old)])
    shown = [p for p in vault.history(mine) if json.loads(p.entry)["kind"] == "find"]
    assert len(shown) == 1 and other not in shown[0].entry.decode()
    assert json.loads(shown[0].entry)["customer_ids"] == [mine]
    assert shown[0].to_json()["redacted"] is True
    shown[0].check(vault.keys.signing_public_key())
    audit = [p for p in vault.history(mine, include_held=True) if b'"find"' in p.entry]
    assert other in audit[0].entry.decode()  # internal audit sees the entry as stored


def test_a_view_acting_for_a_caller_keeps_everything_but_who_acts(vault: Vault) -> None:
    """Vault.acting copies its Scope without the dataclass's constructor (for speed): a
    field not carried over would silently be missing in every request's view."""
    view = vault.acting("api:someone", "request-1")
    for field in dataclasses.fields(view.scope):
        kept = getattr(view.scope, field.name)
        if field.name in ("actor", "request_id"):
            assert kept == {"actor": "api:someone", "request_id": "request-1"}[field.name]
        else:
            assert kept is getattr(vault.scope, field.name), field.name
    assert view.agreements.scope is view.scope


def test_a_view_refuses_a_change_to_an_attribute_it_does_not_have(vault: Vault) -> None:
    """``view_of`` sets what it is given: a misspelt name would leave the real one as it
    was (a ledger entry naming the wrong actor), so it is refused."""
    from needtoknow.types import view_of

    with pytest.raises(TypeError, match="actr"):
        view_of(vault.scope, actr="api:someone")
