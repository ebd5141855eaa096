"""Sensitive data under the SPDI Rules 2011 (r.3: bank, card and other payment details,
biometric information; r.5(1): collected only with the provider's consent in writing,
obtained before collection) until the DPDP Act replaces them on 13 May 2027 — on real
SQLite and PostgreSQL: a signup carrying them without the evidence is refused, one with
it records a consent artefact in the ledger (the evidence's SHA-256, never its text),
bulk imports and corrections are held to the same, and `ntk policy explain --collection`
says which categories and until when."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from needtoknow.config import demo_policy_text
from needtoknow.errors import ValidationError
from needtoknow.imports.rows import read_rows
from needtoknow.policy import load_policy_text
from needtoknow.policy.diff import diff, is_material
from needtoknow.vault import Vault
from tests.conftest import Clock, Ntk
from tests.customers import ASHA, WRITTEN
from tests.ledgered import entries

WITHOUT = {k: v for k, v in ASHA.items() if k != "written_consent"}


def artefacts(vault: Vault) -> list[dict[str, Any]]:
    """The writes that carried a consent in writing, each with its artefact as detail."""
    return [
        {**e, "detail": e["detail"]["written_consent"]}
        for e in entries(vault)
        if "written_consent" in e.get("detail", {})
    ]


def test_bank_and_card_details_need_consent_in_writing_at_signup(vault: Vault) -> None:
    with pytest.raises(ValidationError, match="bank_account, card_number") as refused:
        vault.add(WITHOUT)
    assert "SPDI Rules 2011 r.5(1)" in str(refused.value) and "2027-05-13" in str(refused.value)
    plain = {k: v for k, v in WITHOUT.items() if k not in ("bank_account", "card_number")}
    vault.add(plain)  # nothing sensitive: nothing to ask
    cid = vault.add(ASHA).customer_id
    (artefact,) = artefacts(vault)
    assert artefact["customer_id"] == cid
    detail = artefact["detail"]
    assert isinstance(detail, dict)
    assert detail["written_for"] == ["bank_account", "card_number"]
    assert detail["law"] == "SPDI Rules 2011 r.5(1)" and detail["notice_version"]
    assert WRITTEN not in json.dumps(artefact)  # its SHA-256 only
    with pytest.raises(ValidationError, match="written_consent"):
        vault.add({**WITHOUT, "written_consent": "   "})


def test_a_correction_adding_card_details_needs_it_too(vault: Vault) -> None:
    plain = {"name": "Asha Canarywala", "email": "a5@example.in"}
    cid = vault.add(plain).customer_id
    with pytest.raises(ValidationError, match="written_consent"):
        vault.correct(cid, {"card_number": "5555 5555 5555 4444"})
    vault.correct(cid, {"card_number": "5555 5555 5555 4444", "written_consent": WRITTEN})
    assert [a["customer_id"] for a in artefacts(vault)] == [cid]


def test_a_bulk_import_refuses_rows_without_it_and_records_it_with_them(vault: Vault) -> None:
    plain = {**WITHOUT, "email": "b1@example.in", "telephone": "9123456781"}
    given = {**ASHA, "email": "b2@example.in", "telephone": "9123456782"}
    prepared = vault.prepare_many([plain, given])
    refused, ready = prepared
    assert "written_consent" in str(getattr(refused, "error", ""))
    results = vault.commit_prepared([ready], {})  # type: ignore[list-item]
    (written,) = results.values()
    assert [a["customer_id"] for a in artefacts(vault)] == [written.customer_id]
    rows = list(
        read_rows(io.StringIO("name,written_consent\nAsha,ticked\n"), "csv", vault.registry)
    )
    assert rows[0].record == {"name": "Asha", "written_consent": "ticked"}  # type: ignore[union-attr]


def test_after_the_rules_lapse_nothing_more_is_asked(vault: Vault, clock: Clock) -> None:
    clock.now = datetime(2027, 5, 13, 0, 0, tzinfo=clock.now.tzinfo)
    vault.add(WITHOUT)
    assert artefacts(vault) == []
    clock.now -= timedelta(seconds=1)
    with pytest.raises(ValidationError):
        vault.add({**WITHOUT, "email": "c1@example.in", "telephone": "9123456783"})


def test_asking_for_it_for_fewer_categories_is_material() -> None:
    policy, _ = load_policy_text(demo_policy_text(), "p.yaml")
    fewer, _ = load_policy_text(
        demo_policy_text().replace(
            "categories: [bank_account, card_number, photograph]", "categories: [photograph]"
        ),
        "p.yaml",
    )
    assert is_material(diff(policy, fewer)) and not is_material(diff(fewer, policy))


def test_explain_collection_names_the_categories_and_the_date(ntk: Ntk) -> None:
    account = ntk.json("policy", "explain", "--collection", "--json")
    assert account["written_consent"] == {
        "law": "SPDI Rules 2011 r.5(1)",
        "categories": ["bank_account", "card_number", "photograph"],
        "until": "2027-05-13",
    }
    assert "consent in writing" in ntk("policy", "explain", "--collection").stdout
