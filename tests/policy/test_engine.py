"""The compiled engine: deny by default, sub-contractor clipping, shared decisions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from needtoknow.errors import ValidationError
from needtoknow.policy import Engine, load_policy_text
from needtoknow.types import Context

POLICY = """\
name: clip
purposes:
  bill_collection: {legal_basis: voluntarily_provided}
recipients:
  agency: {kind: contractor}
  field: {kind: subcontractor, parent: agency}
agreements:
  - {id: A, recipient: agency, purposes: [bill_collection], expires: 2030-01-01}
  - {id: F, recipient: field, purposes: [bill_collection], expires: 2030-01-01}
rules:
  - id: agency
    recipient: agency
    purpose: bill_collection
    grant: {name: masked, telephone: last4, address: full, email: token}
    clause: x
  - id: field
    recipient: field
    purpose: bill_collection
    grant: {name: full, telephone: masked, address: city_only, email: masked,
            date_of_birth: full}
    clause: x
"""
NOW = Context(now=datetime(2026, 11, 26, tzinfo=UTC))
ENGINE = Engine(load_policy_text(POLICY)[0])


def test_subcontractor_is_clipped_by_a_partial_order_with_reasons() -> None:
    decision = ENGINE.decide("field", "bill_collection", None, NOW)
    got = {c: g.transform for c, g in decision.allowed.items()}
    assert got == {
        "name": "masked",  # contractor reveals less: take the contractor's
        "telephone": "last4",  # masked covers last4: take the contractor's
        "address": "city_only",  # contractor reveals more: keep its own
    }
    assert "is not within contractor 'agency'" in decision.denied["email"]  # token vs masked
    assert decision.denied["date_of_birth"] == "contractor 'agency' is not granted 'date_of_birth'"


def test_everything_clipped_still_says_why() -> None:
    decision = ENGINE.decide("field", "bill_collection", ("date_of_birth",), NOW)
    assert not decision.allowed and decision.denied["date_of_birth"]


def test_shared_decisions_cannot_be_changed_by_a_caller() -> None:
    decision = ENGINE.decide("agency", "bill_collection", None, NOW)
    with pytest.raises(TypeError):
        decision.allowed["genetic_information"] = decision.allowed["name"]  # type: ignore[index]
    with pytest.raises(TypeError):
        decision.denied["x"] = "y"  # type: ignore[index]
    assert (
        "genetic_information" not in ENGINE.decide("agency", "bill_collection", None, NOW).allowed
    )


def test_memo_separates_contexts() -> None:
    later = Context(now=datetime(2031, 1, 1, tzinfo=UTC))
    assert ENGINE.decide("agency", "bill_collection", ("name",), NOW).allowed
    assert not ENGINE.decide("agency", "bill_collection", ("name",), later).allowed
    assert ENGINE.decide("agency", "bill_collection", ("name",), NOW).allowed


def test_unknown_recipient_and_purpose_are_denied_with_reasons() -> None:
    assert "unknown recipient" in ENGINE.decide("nobody", "bill_collection", None, NOW).denied["*"]
    assert "unknown purpose" in ENGINE.decide("agency", "fishing", ("name",), NOW).denied["name"]


def test_time_must_carry_a_zone() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        Context(now=datetime(2026, 11, 26))


AUTHORITY_POLICY = """\
name: authority
purposes:
  legal_process: {legal_basis: legal_obligation}
  investigation: {legal_basis: legal_obligation}
recipients:
  police: {kind: authority}
rules:
  - id: process
    recipient: police
    purpose: legal_process
    grant: {name: full, email: full}
    obligations: [log, require_legal_reference]
    clause: x
  - id: investigation
    recipient: police
    purpose: investigation
    grant: {name: full}
    obligations: [require_legal_reference, require_case_id]
    clause: x
"""
AUTHORITY = Engine(load_policy_text(AUTHORITY_POLICY)[0])


def test_a_rule_requiring_a_legal_reference_gives_nothing_without_one() -> None:
    """The loader makes every authority rule carry the obligation; the engine is what
    withholds the data. Memoised decisions must not carry one context's answer to another."""
    cited = Context(now=NOW.now, legal_reference="Court order 42/2026")
    for context in (NOW, cited, NOW, Context(now=NOW.now, legal_reference="")):
        decision = AUTHORITY.decide("police", "legal_process", None, context)
        if context is cited:
            assert set(decision.allowed) == {"name", "email"}
            assert "require_legal_reference" in decision.obligations
        else:
            assert not decision.allowed
            assert decision.denied == dict.fromkeys(
                ("name", "email"), "a legal reference is required for this purpose"
            )


def test_a_rule_requiring_a_case_id_gives_nothing_without_one() -> None:
    reference = Context(now=NOW.now, legal_reference="IT Act s.69 notice")
    denied = AUTHORITY.decide("police", "investigation", ("name",), reference)
    assert denied.denied == {"name": "a case id is required for this purpose"}
    both = Context(now=NOW.now, legal_reference="IT Act s.69 notice", case_id="C-1")
    assert AUTHORITY.decide("police", "investigation", ("name",), both).allowed
    case_only = Context(now=NOW.now, case_id="C-1")
    assert AUTHORITY.decide("police", "investigation", ("name",), case_only).denied == {
        "name": "a legal reference is required for this purpose"
    }
