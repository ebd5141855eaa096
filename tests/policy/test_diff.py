"""Semantic policy diffs: every widening is material, narrowing is not."""

from __future__ import annotations

from pathlib import Path

from needtoknow.policy import load_policy_text
from needtoknow.policy.diff import diff, is_material

TEXT = (Path(__file__).parents[2] / "policies" / "nextraone.yaml").read_text("utf-8")
OLD = load_policy_text(TEXT)[0]
SUPPORT = (
    "grant: {name: full, email: full, telephone: full, address: city_only, digital_identity: full}"
)


def changed(old: str, new: str, count: int = 1) -> list[dict[str, object]]:
    assert TEXT.count(old) >= count, old
    policy = load_policy_text(TEXT.replace(old, new, count))[0]
    return [c.to_json() for c in diff(OLD, policy)]


def test_the_same_policy_changes_nothing() -> None:
    assert diff(OLD, load_policy_text(TEXT)[0]) == []


def test_a_transform_that_reveals_more_is_material() -> None:
    changes = changed(SUPPORT, SUPPORT.replace("address: city_only", "address: full"))
    assert changes == [
        {
            "kind": "transform_widened",
            "widens": True,
            "recipient": "support_team",
            "purpose": "service_delivery",
            "category": "address",
            "before": "city_only",
            "after": "full",
        }
    ]


def test_taking_a_category_away_is_not_material() -> None:
    new = SUPPORT.replace("telephone: full, ", "")
    changes = changed(SUPPORT, new)
    assert [c["kind"] for c in changes] == ["grant_removed"]
    assert not is_material(diff(OLD, load_policy_text(TEXT.replace(SUPPORT, new))[0]))


def test_transforms_that_reveal_different_things_count_as_widening() -> None:
    changes = changed("card_number: last4", "card_number: token")
    assert {(c["kind"], c["widens"]) for c in changes} == {("transform_widened", True)}


def test_new_recipients_purposes_bases_and_dropped_duties_are_material() -> None:
    assert (
        changed(
            "  product_team: {kind: internal_team,",
            "  growth_team: {kind: internal_team}\n  product_team: {kind: internal_team,",
        )[0]["kind"]
        == "recipient_added"
    )
    basis = changed(
        "credit_scoring: {legal_basis: consent",
        "credit_scoring: {legal_basis: voluntarily_provided",
    )
    assert basis[0] == {
        "kind": "legal_basis_changed",
        "widens": True,
        "purpose": "credit_scoring",
        "before": "consent",
        "after": "voluntarily_provided",
    }
    duty = changed("obligations: [log, require_case_id]", "obligations: [log]")
    assert {c["kind"] for c in duty} == {"obligation_dropped"} and duty[0]["widens"]


def test_a_larger_privacy_budget_is_material_a_smaller_one_is_not() -> None:
    larger = changed("budget: {epsilon: 4.0", "budget: {epsilon: 8.0")
    assert {c["widens"] for c in larger} == {True} and len(larger) == 2  # two advertisers
    smaller = changed("budget: {epsilon: 4.0", "budget: {epsilon: 2.0")
    assert {c["widens"] for c in smaller} == {False}


def test_keeping_data_longer_is_material_and_shorter_is_not() -> None:
    kept = "retention: 1 year"

    def retained(after: str) -> list[tuple[object, ...]]:
        changes = changed(kept, after)
        return [(c["kind"], c["widens"], c["before"], c["after"]) for c in changes]

    assert retained("retention: 2 years") == [("retention_extended", True, "1 year", "2 years")]
    assert retained("retention: 11 months") == [
        ("retention_shortened", False, "1 year", "11 months")
    ]
    assert retained("retention: 12 months") == []  # the same period, written differently
    assert retained("") == [("retention_extended", True, "1 year", "unstated")]
    assert retained("retention: 366 days")[0][:2] == ("retention_extended", True)
    assert retained("retention: 365 days")[0][:2] == ("retention_shortened", False)  # < 365.25
    unstated = TEXT.replace(kept, "")  # no limit stated: stating one narrows
    stated = [c.to_json() for c in diff(load_policy_text(unstated)[0], OLD)]
    assert [(c["kind"], c["widens"], c["after"]) for c in stated] == [
        ("retention_shortened", False, "1 year")
    ]
