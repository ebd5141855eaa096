"""Aggregate reports: released only under the policy, charged before release, refused
past the budget with what is left, every step in the ledger — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import opendp.accuracy
import orjson
import pyarrow.parquet as pq
import pytest

from needtoknow.analytics import EventStore, noise
from needtoknow.analytics.reports import Reports, plan
from needtoknow.analytics.spec import ReportSpec, parse_spec
from needtoknow.errors import BudgetExceeded, PolicyDenied
from needtoknow.vault import Vault

PAGES = [f"/hosting/{n}" for n in range(4)]
ADVERTISING = frozenset({"advertising"})


def events() -> list[dict[str, Any]]:
    """400 customers: page views spread over four pages; one heavy user; searches where
    a popular term is shared by many and a rare one by two customers."""
    rows: list[dict[str, Any]] = []
    for n in range(400):
        for page in PAGES[: 1 + n % 4]:
            rows.append(
                {
                    "kind": "page_view",
                    "day": "2026-11-03",
                    "customer_id": f"c{n}",
                    "page": page,
                    "value": 30 + n % 60,
                }
            )
        rows.append(
            {"kind": "search", "day": "2026-11-04", "customer_id": f"c{n}", "search": "cheap vps"}
        )
    rows += [
        {
            "kind": "search",
            "day": "2026-11-04",
            "customer_id": f"c{n}",
            "search": "rare private term",
        }
        for n in range(2)
    ]
    rows += [
        {
            "kind": "page_view",
            "day": "2026-11-03",
            "customer_id": "heavy",
            "page": PAGES[0],
            "value": 10**6,
        }
    ] * 5000
    return rows


def count_spec(epsilon: float = 1.0, **extra: Any) -> ReportSpec:
    return parse_spec(
        {
            "name": "pages",
            "measure": "count",
            "by": ["page"],
            "window": {"from": "2026-11-01", "to": "2026-11-30"},
            "kinds": ["page_view"],
            "privacy": {"epsilon": epsilon},
            "bounds": {"max_partitions": 4, "max_per_partition": 1},
            "keys": {"page": PAGES},
            **extra,
        }
    )


def terms_spec() -> ReportSpec:
    return parse_spec(
        {
            "name": "terms",
            "measure": "subjects",
            "by": ["search"],
            "window": {"from": "2026-11-01", "to": "2026-11-30"},
            "privacy": {"epsilon": 1.0, "delta": 1e-7},
            "bounds": {"max_partitions": 1, "max_per_partition": 1},
        }
    )


@pytest.fixture
def reports(vault: Vault, tmp_path: Path) -> Reports:
    # Advertising rests on consent: only consenting customers' events are counted.
    store = EventStore(tmp_path / "events", vault.keys, consented=lambda _: ADVERTISING)
    store.ingest(events())
    return Reports(vault.scope, store)


def ledger_reports(vault: Vault) -> list[dict[str, Any]]:
    with vault.db.connect() as conn:
        rows = conn.exec_driver_sql("SELECT entry FROM ledger_entries ORDER BY idx").fetchall()
    entries = [orjson.loads(bytes(row[0])) for row in rows]
    return [e for e in entries if e["kind"] == "report"]


def test_a_report_is_noisy_counts_charged_then_released(reports: Reports, vault: Vault) -> None:
    release = reports.run(count_spec(), "ad_network")
    counts = {row["page"]: row["count"] for row in release.rows}
    assert list(counts) == PAGES  # every public key, in order, even if empty
    # True bounded counts: 400, 300, 200, 100 customers (+1 heavy user, bounded to 1).
    scale = release.noise["count"]["scale"]
    assert scale == 4.0  # K=4 partitions x C=1 / ε=1
    for got, want in zip(counts.values(), (401, 300, 200, 100), strict=True):
        assert abs(got - want) < 20 * scale  # fails only with probability e^-20
    assert (release.epsilon, release.delta) == (1.0, 0.0)
    assert release.remaining == {"2026-11": (3.0, 1e-6)}
    assert reports.budgets.spent("ad_network") == {"2026-11": (1.0, 0.0)}
    actions = [e["detail"]["action"] for e in ledger_reports(vault)]
    assert actions == ["charge", "release"]
    charge, released = ledger_reports(vault)
    assert released["detail"]["charge"] == release.ledger_index - 1
    assert released["detail"]["rows_sha256"] and charge["policy_version"] == vault.policy.version
    assert vault.ledger.verify().problems == []


def test_each_noisy_columns_interval_is_worked_out_once_not_per_row(
    reports: Reports, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenDP's scale-to-accuracy takes ~80 µs: asked once per row, a 15,000-row report
    spent 1.2 s on it (session 21). A mean report has two noisy columns."""
    calls: list[float] = []
    accuracy = opendp.accuracy.discrete_laplacian_scale_to_accuracy

    def counted(scale: float, alpha: float) -> float:
        calls.append(scale)
        return float(accuracy(scale, alpha))

    monkeypatch.setattr(noise, "discrete_laplacian_scale_to_accuracy", counted)
    bounds = {"max_partitions": 4, "max_per_partition": 1, "value": [0, 100]}
    spec = count_spec(measure="mean", bounds=bounds)
    release = reports.run(spec, "ad_network")
    assert len(release.rows) == len(PAGES) and all("sum_high" in r for r in release.rows)
    assert len(calls) == 2


def test_a_report_past_the_budget_is_refused_with_what_is_left(
    reports: Reports, vault: Vault
) -> None:
    reports.run(count_spec(epsilon=2.5), "ad_network")
    with pytest.raises(BudgetExceeded) as refused:
        reports.run(count_spec(epsilon=2.0), "ad_network")
    assert refused.value.remaining == pytest.approx((1.5, 1e-6))
    assert "remaining ε=1.5" in str(refused.value)
    assert reports.budgets.spent("ad_network") == {"2026-11": (2.5, 0.0)}  # nothing spent
    reports.run(count_spec(epsilon=1.5), "ad_network")  # exactly what is left
    with pytest.raises(BudgetExceeded):
        reports.run(count_spec(epsilon=1e-6), "ad_network")
    # Budgets are per recipient: the other advertiser still has all of its own.
    assert reports.run(count_spec(epsilon=4.0), "search_ads_partner").epsilon == 4.0
    actions = [e["detail"]["action"] for e in ledger_reports(vault)]
    assert actions == [
        "charge",
        "release",
        "refuse",
        "charge",
        "release",
        "refuse",
        "charge",
        "release",
    ]


def test_each_month_of_data_has_its_own_budget(reports: Reports) -> None:
    spanning = count_spec(epsilon=3.0, window={"from": "2026-11-20", "to": "2026-12-10"})
    assert spanning.months == ("2026-11", "2026-12")
    release = reports.run(spanning, "ad_network")
    assert release.remaining == {"2026-11": (1.0, 1e-6), "2026-12": (1.0, 1e-6)}
    december = count_spec(epsilon=1.0, window={"from": "2026-12-01", "to": "2026-12-31"})
    reports.run(december, "ad_network")
    with pytest.raises(BudgetExceeded) as refused:
        reports.run(spanning, "ad_network")
    assert refused.value.period == "2026-11"


def test_private_keys_are_released_only_above_the_threshold(reports: Reports) -> None:
    release = reports.run(terms_spec(), "ad_network")
    terms = {row["search"]: row["count"] for row in release.rows}
    threshold = release.noise["count"]["threshold"]
    assert "rare private term" not in terms  # two customers: far under the threshold
    assert "cheap vps" in terms and all(v >= threshold for v in terms.values())
    assert release.delta > 0 and release.delta <= 1e-7


def test_suppression_drops_small_noisy_counts(reports: Reports) -> None:
    release = reports.run(count_spec(min_count=250), "ad_network")
    assert {row["page"] for row in release.rows} <= {PAGES[0], PAGES[1]}


def test_sums_and_means_are_clamped_to_the_declared_bounds(reports: Reports) -> None:
    spec = parse_spec(
        {
            "name": "dwell",
            "measure": "mean",
            "by": ["page"],
            "window": {"from": "2026-11-01", "to": "2026-11-30"},
            "kinds": ["page_view"],
            "privacy": {"epsilon": 2.0},
            "bounds": {"max_partitions": 4, "max_per_partition": 1, "value": [0, 100]},
            "keys": {"page": PAGES},
        }
    )
    release = reports.run(spec, "ad_network")
    assert release.columns == ("page", "count", "sum", "mean")
    first = release.rows[0]
    # The heavy user's 10^6-second views count as 100 (the bound), once: the mean stays
    # near the others' ~59.5 instead of jumping to thousands.
    assert 40 < first["mean"] < 80
    assert len(plan(spec).mechanisms) == 2 and plan(spec).cost == pytest.approx((2.0, 0.0))


def test_advertisers_never_get_raw_events(reports: Reports, vault: Vault, tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"
    with pytest.raises(PolicyDenied, match="only as aggregate"):
        reports.export("ad_network", "advertising", target)
    assert not target.exists()
    with pytest.raises(PolicyDenied, match="no usage_data rule"):
        reports.run(count_spec(), "billing_team", "billing")
    # The internal team the policy gives raw usage data to gets pseudonymous events.
    exported = reports.export("product_team", "service_improvement", target)
    table = pq.read_table(target)
    assert exported == table.num_rows == len(events())
    assert "customer_id" not in table.column_names
    subjects = set(table.column("subject").to_pylist())
    assert all(len(s) == 16 and int(s, 16) >= 0 for s in subjects)
    assert not subjects & {row["customer_id"] for row in events()}
    actions = [(e["recipient"], e["detail"]["action"]) for e in ledger_reports(vault)]
    assert actions == [("ad_network", "deny"), ("billing_team", "deny"), ("product_team", "export")]


def test_two_reports_racing_for_the_last_of_a_budget_cannot_both_spend_it(
    reports: Reports,
) -> None:
    reports.run(count_spec(epsilon=3.0), "ad_network")
    outcomes: list[str] = []

    def attempt() -> None:
        try:
            reports.run(count_spec(epsilon=0.75), "ad_network")
            outcomes.append("released")
        except BudgetExceeded:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "refused", "refused", "released"]
    assert reports.budgets.spent("ad_network")["2026-11"][0] == pytest.approx(3.75)


def test_partitions_whose_keys_hold_separators_stay_apart() -> None:
    from needtoknow.analytics import noise

    mechanism = noise.thresholded(1, 1, 1.0, 1e-7)
    first, second = ("/a\x1fb", "c"), ("/a", "b\x1fc")
    released = noise.release_map(mechanism, {first: 100_000, second: 50_000})
    assert set(released) == {first, second}
    assert abs(released[first] - 100_000) < 100 and abs(released[second] - 50_000) < 100


def test_control_characters_are_refused_at_ingest(tmp_path: Path, vault: Vault) -> None:
    store = EventStore(tmp_path / "events", vault.keys)
    report = store.ingest(
        [{"kind": "search", "day": "2026-11-04", "customer_id": "c", "search": "a\x1fb"}]
    )
    assert dict(report.reasons) == {"control_character": 1}


def test_a_histograms_bins_keep_their_order_with_private_keys(reports: Reports) -> None:
    spec = parse_spec(
        {
            "name": "dwell-by-term",
            "measure": "histogram",
            "by": ["page"],
            "window": {"from": "2026-11-01", "to": "2026-11-30"},
            "kinds": ["page_view"],
            "privacy": {"epsilon": 1.0, "delta": 1e-7},
            "bounds": {"max_partitions": 1, "max_per_partition": 1, "value": [0, 100]},
            "bins": [0, 40, 60, 101],
        }
    )
    release = reports.run(spec, "ad_network")
    first_page = [row["bin"] for row in release.rows if row["page"] == PAGES[0]]
    assert first_page == sorted(first_page, key=["[0,40)", "[40,60)", "[60,101)"].index)
    assert len(first_page) >= 2
