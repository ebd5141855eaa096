"""The same reports on Spark: the bounding on the cluster gives the embedded store's
totals, keeps every subject to its bounds, and feeds the same charge-noise-ledger path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from needtoknow.analytics import EventStore
from needtoknow.analytics.reports import Reports
from needtoknow.analytics.spec import ReportSpec, parse_spec
from needtoknow.vault import Vault

PAGES = ["/a", "/b", "/c"]


def spec(measure: str, k: int = 3, c: int = 2, **extra: Any) -> ReportSpec:
    data: dict[str, Any] = {
        "name": measure,
        "measure": measure,
        "by": ["page", "day"],
        "window": {"from": "2026-11-01", "to": "2026-11-03"},
        "kinds": ["page_view"],
        "keys": {"page": PAGES},
        "privacy": {"epsilon": 1.0},
        "bounds": {"max_partitions": k, "max_per_partition": c, "value": [0, 100]},
    }
    if measure == "histogram":
        data["bins"] = [0, 50, 101]
    return parse_spec({**data, **extra})


def events(heavy: bool) -> list[dict[str, Any]]:
    rows = [
        {
            "kind": "page_view",
            "day": f"2026-11-0{1 + n % 3}",
            "customer_id": f"c{n}",
            "page": PAGES[n % 3],
            "value": n % 150,
        }
        for n in range(200)
        for _ in range(1 + n % 2)
    ]
    if heavy:  # one subject in every partition, many times
        rows += [
            {
                "kind": "page_view",
                "day": f"2026-11-0{d}",
                "customer_id": "heavy",
                "page": page,
                "value": 99,
            }
            for d in (1, 2, 3)
            for page in PAGES
        ] * 20
    return rows


@pytest.fixture
def store(sqlite_vault: Vault, tmp_path: Path) -> EventStore:
    return EventStore(tmp_path / "events", sqlite_vault.keys)


def frame(spark: Any, store: EventStore) -> Any:
    return spark.read.parquet(*[str(f) for f in store.files()])


@pytest.mark.parametrize("measure", ["count", "sum", "histogram", "subjects"])
def test_spark_totals_equal_the_embedded_stores(
    spark: Any, store: EventStore, measure: str
) -> None:
    from needtoknow.analytics.spark import SparkEvents

    store.ingest(events(heavy=False))  # nobody over the bounds: no choice to differ on
    report = spec(measure)
    assert SparkEvents(frame(spark, store)).bound(report, 7) == store.bound(report, 7)


def test_spark_keeps_a_heavy_subject_to_its_bounds(spark: Any, store: EventStore) -> None:
    from needtoknow.analytics.spark import SparkEvents

    store.ingest(events(heavy=False))
    light = SparkEvents(frame(spark, store)).bound(spec("count", k=2, c=2), 11)
    store.ingest(events(heavy=True)[len(events(heavy=False)) :])  # only the heavy one's
    heavy = SparkEvents(frame(spark, store)).bound(spec("count", k=2, c=2), 11)
    added = [h - light_n for h, light_n in zip(heavy.counts, light.counts, strict=True)]
    assert sum(added) <= 2 * 2 and sum(1 for a in added if a) <= 2 and max(added) <= 2


def test_a_report_runs_on_spark_through_the_same_path(
    spark: Any, store: EventStore, sqlite_vault: Vault, tmp_path: Path
) -> None:
    from needtoknow.analytics.spark import SparkEvents

    store.ingest(events(heavy=True))
    reports = Reports(sqlite_vault.scope, SparkEvents(frame(spark, store)))
    release = reports.run(spec("count", privacy={"epsilon": 0.5}), "ad_network")
    assert len(release.rows) == 9 and release.epsilon == 0.5
    assert reports.budgets.spent("ad_network") == {"2026-11": (0.5, 0.0)}
    exported = reports.export("product_team", "service_improvement", tmp_path / "raw")
    assert exported == pq.read_table(tmp_path / "raw").num_rows == len(events(heavy=True))
