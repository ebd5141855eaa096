"""The retention planner on the demo policy: what each category's fate is, and when."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from needtoknow.errors import PolicyError
from needtoknow.lifecycle.retention import Account, LegalHold, after, plan, summary
from needtoknow.policy import load_policy_text
from needtoknow.policy.model import Retention

TEXT = (Path(__file__).parents[2] / "policies" / "nextraone.yaml").read_text("utf-8")
POLICY = load_policy_text(TEXT)[0]
CLOSED = datetime(2027, 1, 31, tzinfo=UTC)
ALL = frozenset(
    {"name", "email", "telephone", "address", "digital_identity", "card_number", "date_of_birth"}
)


def account(services: frozenset[str] = frozenset(), closed: datetime | None = CLOSED) -> Account:
    return Account("c-1", ALL, closed, closed or CLOSED, services)


def fates(
    acct: Account, now: datetime, holds: tuple[LegalHold, ...] = (), erasing: bool = False
) -> Mapping[str, list[str]]:
    return summary(plan(acct, POLICY, holds, now, erasing))


def test_an_open_account_keeps_everything() -> None:
    far = CLOSED + timedelta(days=365 * 30)
    assert fates(account(closed=None), far)["keep"] == sorted(ALL)


def test_the_longest_purpose_and_the_one_year_minimum_decide() -> None:
    # digital_identity: service_delivery (90 days) only — the DPDP Rules' year still keeps it
    assert "digital_identity" in fates(account(), CLOSED + timedelta(days=200))["keep"]
    year = fates(account(), after(CLOSED, Retention(1, "year")) + timedelta(seconds=1))
    assert year["keep"] == [] and year["hold"] == []
    assert year["erase"] == sorted(ALL)


def test_a_vps_customers_subscriber_record_is_held_five_years_and_invoices_eight() -> None:
    vps = account(frozenset({"vps"}))
    two = plan(vps, POLICY, (), CLOSED + timedelta(days=730))
    held = {f.category: f for f in two if f.action == "hold"}
    assert set(held) == {"name", "address", "telephone", "email", "digital_identity"}
    assert held["email"].until == date(2032, 1, 31) and held["email"].readable_for == (
        "investigation",
        "legal_process",
    )
    assert held["name"].until == date(2035, 1, 31)  # the tax hold outlasts CERT-In's
    assert {"card_number", "date_of_birth"} <= set(summary(two)["erase"])
    six = fates(vps, datetime(2033, 2, 1, tzinfo=UTC))
    assert six["hold"] == ["address", "name"]  # invoices only
    assert fates(vps, datetime(2035, 2, 1, tzinfo=UTC))["erase"] == sorted(ALL)


def test_a_customer_without_the_service_is_not_held() -> None:
    assert fates(account(frozenset({"email"})), CLOSED + timedelta(days=730))["hold"] == [
        "address",
        "name",
    ]  # the tax hold covers every service; CERT-In's only VPS


def test_an_erasure_request_ends_the_purposes_but_not_the_holds() -> None:
    now = CLOSED + timedelta(days=1)
    assert fates(account(), now, erasing=True)["erase"] == sorted(ALL)
    vps = fates(account(frozenset({"vps"})), now, erasing=True)
    assert vps["erase"] == ["card_number", "date_of_birth"]
    assert fates(account(), now)["keep"] == sorted(ALL)  # without the request: kept


def test_a_legal_hold_keeps_its_categories_until_its_day() -> None:
    hold = LegalHold(
        "h-1", "c-1", frozenset({"email"}), "Court order", ("legal_process",), date(2028, 6, 30)
    )
    now = CLOSED + timedelta(days=400)
    assert fates(account(), now, (hold,))["hold"] == ["email"]
    assert fates(account(), datetime(2028, 7, 1, tzinfo=UTC), (hold,))["hold"] == []
    other = LegalHold(
        "h-2", "c-2", frozenset({"email"}), "Other", ("legal_process",), date(2030, 1, 1)
    )
    assert fates(account(), now, (other,))["hold"] == []  # another customer's hold


def test_a_purpose_without_a_retention_keeps_its_data() -> None:
    unstated = load_policy_text(TEXT.replace("retention: 90 days", ""))[0]
    later = plan(account(), unstated, (), CLOSED + timedelta(days=4000))
    kept = {f.category: f.until for f in later if f.action == "keep"}
    assert kept["digital_identity"] is None


def test_months_and_years_follow_the_calendar() -> None:
    assert after(CLOSED, Retention(1, "month")).date() == date(2027, 2, 28)
    leap = datetime(2028, 2, 29, tzinfo=UTC)
    assert after(leap, Retention(1, "year")).date() == date(2029, 2, 28)
    assert after(CLOSED, Retention(90, "day")).date() == date(2027, 5, 1)


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("services: [vps]", "services: [mainframe]", "unknown service 'mainframe'"),
        (
            "readable_for: [legal_process]\n",
            "readable_for: [billing]\n",
            "held data is read only for a legal obligation or claim, not 'billing'",
        ),
        ("    kept: 8 years\n", "", "'kept' says how long"),
        ("categories: [name, address]", "categories: [name, palm_print]", "unknown category"),
        ("  tax_invoices:\n", "  tax_invoices:\n    shred_after: never\n", "unknown key"),
    ],
)
def test_a_hold_the_loader_refuses_says_why(old: str, new: str, problem: str) -> None:
    assert old in TEXT
    with pytest.raises(PolicyError, match=problem):
        load_policy_text(TEXT.replace(old, new))


@pytest.mark.parametrize(
    ("closed", "kept_until"),
    [
        # a month from 31 January is 28 days: the 30 days end later
        (datetime(2027, 1, 31, tzinfo=UTC), datetime(2027, 3, 2, tzinfo=UTC)),
        # a month from 1 March is 31 days: the month ends later
        (datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC)),
    ],
)
def test_periods_of_different_units_are_compared_on_the_calendar(
    closed: datetime, kept_until: datetime
) -> None:
    """A period is skipped only when another outlasts it on any calendar (180 days by a
    year); a month and 30 days are each the longer on some dates, so both are counted."""
    text = TEXT.replace("retention: 90 days", "retention: 30 days").replace(
        "retention: 180 days", "retention: 1 month"
    )
    policy = load_policy_text(text.replace("retention: 1 year  #", "retention: 1 day  #"))[0]
    assert len(policy.periods("telephone") or ()) == 2  # 30 days and a month; 1 day is outlasted
    acct = Account("c-1", frozenset({"telephone"}), closed, closed - timedelta(days=400))
    (before,) = plan(acct, policy, (), kept_until - timedelta(seconds=1))
    (at,) = plan(acct, policy, (), kept_until)
    assert (before.action, before.until, at.action) == ("keep", kept_until.date(), "erase")
