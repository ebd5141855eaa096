"""Policy loading: every mistake is named with file and line, and the seed's hard promises
cannot be switched off by any policy file."""

from __future__ import annotations

from pathlib import Path

import pytest

from needtoknow.errors import PolicyError
from needtoknow.policy import load_policy, load_policy_text

BASE = """\
name: test
purposes:
  billing: {legal_basis: voluntarily_provided}
  sale: {legal_basis: none}
  legal_process: {legal_basis: legal_obligation}
  bill_collection: {legal_basis: voluntarily_provided}
recipients:
  billing_team: {kind: internal_team}
  ads: {kind: advertiser}
  police: {kind: authority}
  agency: {kind: contractor}
agreements:
  - {id: A1, recipient: agency, purposes: [bill_collection], expires: 2027-01-01}
rules:
"""


def error_for(rules: str, base: str = BASE) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        load_policy_text(base + rules, "test.yaml")
    return caught.value


def test_a_good_policy_loads_with_a_stable_version() -> None:
    rules = (
        "  - {id: r1, recipient: billing_team, purpose: billing, grant: {name: full}, "
        "clause: billing}\n"
    )
    first, _ = load_policy_text(BASE + rules)
    second, _ = load_policy_text(BASE + rules)
    assert first.version == second.version and len(first.version) == 64


def test_unknown_category_names_file_and_line() -> None:
    error = error_for(
        "  - id: r1\n    recipient: billing_team\n    purpose: billing\n"
        "    grant: {nmae: full}\n    clause: billing\n"
    )
    assert error.source == "test.yaml" and error.line == 18
    assert "unknown category 'nmae'" in str(error) and str(error).startswith("test.yaml:18:")


def test_unknown_purpose_and_recipient() -> None:
    assert "unknown purpose 'biling'" in str(
        error_for(
            "  - {id: r1, recipient: billing_team, purpose: biling, "
            "grant: {name: full}, clause: x}\n"
        )
    )
    assert "unknown recipient 'billing'" in str(
        error_for(
            "  - {id: r1, recipient: billing, purpose: billing, grant: {name: full}, clause: x}\n"
        )
    )


def test_sale_can_never_be_allowed() -> None:
    error = error_for(
        "  - {id: r1, recipient: billing_team, purpose: sale, grant: {name: full}, clause: x}\n"
    )
    assert "prohibited purpose 'sale'" in str(error)


def test_rental_is_prohibited_even_when_the_file_forgets_it() -> None:
    base = BASE.replace("  sale:", "  rental: {legal_basis: none}\n  sale:")
    error = error_for(
        "  - {id: r1, recipient: billing_team, purpose: rental, grant: {email: full}, clause: x}\n",
        base,
    )
    assert "prohibited purpose 'rental'" in str(error)


GRANTS = "  - {id: r1, recipient: billing_team, purpose: billing, grant: {name: full}, clause: x}\n"


@pytest.mark.parametrize("purpose", ["sale", "rental"])
@pytest.mark.parametrize(
    ("spec", "rules", "message"),
    [
        (
            "{legal_basis: voluntarily_provided}",
            "  - {id: r1, recipient: billing_team, purpose: PURPOSE, grant: {name: full}, "
            "clause: x}\n",
            "would allow prohibited purpose 'PURPOSE'",
        ),
        (
            "{legal_basis: voluntarily_provided, collects: [name]}",
            GRANTS,
            "purpose 'PURPOSE' may not collect anything",
        ),
        (
            "{legal_basis: voluntarily_provided}",
            GRANTS + "usage_data:\n"
            "  - {id: u1, recipient: billing_team, purpose: PURPOSE, form: raw, clause: x}\n",
            "usage rule 'u1': 'PURPOSE' is prohibited",
        ),
    ],
    ids=["grant", "collects", "usage_data"],
)
def test_sale_and_rental_stay_prohibited_whatever_legal_basis_the_file_claims(
    purpose: str, spec: str, rules: str, message: str
) -> None:
    """The fixture's ``sale`` has no legal basis, which alone refuses a grant: here the
    file claims a contract and leaves ``prohibited_purposes`` out, so only the promise
    that PII is never sold or rented stands in the way."""
    base = BASE.replace("  sale: {legal_basis: none}", f"  {purpose}: {spec}")
    error = error_for(rules.replace("PURPOSE", purpose), base)
    assert message.replace("PURPOSE", purpose) in str(error)


def test_advertisers_get_no_pii() -> None:
    error = error_for(
        "  - {id: r1, recipient: ads, purpose: billing, grant: {email: token}, clause: x}\n"
    )
    assert "advertisers receive aggregates only" in str(error)


def test_authorities_need_the_legal_reference_obligation() -> None:
    error = error_for(
        "  - {id: r1, recipient: police, purpose: legal_process, grant: {name: full}, clause: x}\n"
    )
    assert "require_legal_reference" in str(error)


def test_contractors_need_an_agreement_for_the_purpose() -> None:
    error = error_for(
        "  - {id: r1, recipient: agency, purpose: billing, grant: {name: full}, clause: x}\n"
    )
    assert "no agreement binds 'agency' to purpose 'billing'" in str(error)


def test_contradictory_rules_are_rejected() -> None:
    error = error_for(
        "  - {id: r1, recipient: billing_team, purpose: billing, grant: {name: full}, clause: x}\n"
        "  - {id: r2, recipient: billing_team, purpose: billing, grant: {name: masked}, "
        "clause: x}\n"
    )
    assert "rule 'r2' contradicts rule 'r1'" in str(error) and error.line == 16


def test_transform_must_suit_the_category() -> None:
    error = error_for(
        "  - {id: r1, recipient: billing_team, purpose: billing, "
        "grant: {email: year_only}, clause: x}\n"
    )
    assert "transform 'year_only' is not allowed for 'email'" in str(error)


def test_every_rule_cites_its_clause() -> None:
    error = error_for(
        "  - {id: r1, recipient: billing_team, purpose: billing, grant: {name: full}}\n"
    )
    assert "must cite the policy clause" in str(error)


def test_a_deployment_can_add_a_category_without_code() -> None:
    base = "categories:\n  upi_id: {validator: text, transforms: [full, masked]}\n" + BASE
    policy, registry = load_policy_text(
        base + "  - {id: r1, recipient: billing_team, "
        "purpose: billing, grant: {upi_id: masked}, clause: x}\n"
    )
    assert "upi_id" in registry and policy.rules[0].grants == {"upi_id": "masked"}


def test_yaml_syntax_errors_carry_the_line() -> None:
    error = error_for("  - {id: r1, recipient: [billing_team\n")
    assert error.line is not None and error.line >= 15


def test_unreadable_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(tmp_path / "missing.yaml")


def test_unknown_top_level_key() -> None:
    error = error_for("", "polices: {}\n" + BASE)
    assert error.line == 1 and "unknown top-level key 'polices'" in str(error)


def test_contractor_chains_must_not_loop() -> None:
    base = BASE.replace(
        "  agency: {kind: contractor}\n",
        "  agency: {kind: contractor}\n  sub_a: {kind: subcontractor, parent: sub_b}\n"
        "  sub_b: {kind: subcontractor, parent: sub_a}\n",
    )
    assert "loops" in str(error_for("", base))


def test_duplicate_keys_are_errors_not_silently_dropped() -> None:
    error = error_for(
        "",
        BASE.replace(
            "  billing: {legal_basis: voluntarily_provided}\n",
            "  billing: {legal_basis: voluntarily_provided}\n  billing: {legal_basis: consent}\n",
        ),
    )
    assert "duplicate key 'billing'" in str(error) and error.line == 4


@pytest.mark.parametrize(
    ("rules", "base_change", "message"),
    [
        (
            "",
            ("  billing: {legal_basis: voluntarily_provided}", "  billing: hello"),
            "must be a mapping",
        ),
        (
            "  - {id: r1, recipient: billing_team, purpose: billing, grant: {name: [full]},"
            " clause: x}\n",
            None,
            "a transform is one name",
        ),
        (
            "  - {id: r1, recipient: billing_team, purpose: billing, grant: {name: full},"
            " obligations: log, clause: x}\n",
            None,
            "'obligations' must be a list",
        ),
        (
            "",
            ("recipient: agency,", "recipients: [agency, billing_team],"),
            "binds one 'recipient'",
        ),
        (
            "  - {id: r1, recipient: 1, purpose: billing, grant: {name: full}, clause: x}\n",
            None,
            "'recipients' must name at least one recipient",
        ),
        (
            "  - {id: r1, recipient: billing_team, purpose: {billing: x}, grant: {name: full},"
            " clause: x}\n",
            None,
            "'purposes' must name at least one purpose",
        ),
    ],
)
def test_malformed_shapes_name_the_line(
    rules: str, base_change: tuple[str, str] | None, message: str
) -> None:
    base = BASE.replace(*base_change) if base_change else BASE
    error = error_for(rules, base)
    assert message in str(error) and error.line is not None


def test_a_purpose_without_legal_basis_cannot_be_granted() -> None:
    base = BASE.replace(
        "  sale: {legal_basis: none}",
        "  sale: {legal_basis: none}\n  profiling: {legal_basis: none}",
    )
    error = error_for(
        "  - {id: r1, recipient: billing_team, purpose: profiling, "
        "grant: {name: full}, clause: x}\n",
        base,
    )
    assert "no legal basis" in str(error)


def test_a_usage_rule_for_a_consent_based_purpose_must_require_that_consent() -> None:
    """Review finding: a usage rule could serve a purpose whose legal basis is consent
    from everyone's events."""
    nextraone = Path(__file__).parents[2] / "policies" / "nextraone.yaml"
    text = nextraone.read_text("utf-8").replace("    requires_consent: advertising  #", "    #")
    with pytest.raises(PolicyError, match="needs requires_consent: advertising"):
        load_policy_text(text)


@pytest.mark.parametrize(
    ("retired", "advice"),
    [
        ("contract", "voluntarily_provided, s.7(a)"),
        ("legitimate_use", "name the legitimate use of s.7"),
        ("legal_claim", "legal_claims, s.17(1)(a)"),
        ("legitimate_interest", "voluntarily_provided"),  # not a ground: the list is named
    ],
)
def test_a_basis_the_act_does_not_have_is_refused_with_the_grounds(
    retired: str, advice: str
) -> None:
    old = "billing: {legal_basis: voluntarily_provided}"
    message = str(error_for("", BASE.replace(old, f"billing: {{legal_basis: {retired}}}")))
    assert "the Act's grounds" in message and advice in message
    assert "offence_investigation" in message  # every ground is listed


def test_a_version_stored_before_the_acts_grounds_still_opens() -> None:
    """A vault's own history stays readable: the version it activated before the legal
    bases followed the Act loads with each retired value read as the Act's nearest
    ground, and the purposes a third party's tracker serves count as tracking (so a
    child is protected under it too) — while the same text as a new policy is refused."""
    from needtoknow.policy import load_stored_policy

    old = (Path(__file__).parent / "fixtures" / "nextraone-before-the-acts-grounds.yaml").read_text(
        "utf-8"
    )
    with pytest.raises(PolicyError, match="the Act has no contract ground"):
        load_policy_text(old, "old.yaml")
    stored, _ = load_stored_policy(old, "stored")
    assert stored.purposes["billing"].legal_basis == "voluntarily_provided"
    assert stored.purposes["protect_rights"].legal_basis == "legal_claims"
    assert "personalised_advertising" in stored.tracking_purposes
