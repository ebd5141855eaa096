"""The privacy accounting itself: what we charge for a sequence of releases equals what
OpenDP's own accountant reports for the same sequence.

Each release is rebuilt as OpenDP's Polars pipeline over the same events — the same
contribution bounds (``truncate_per_group(C)``, ``truncate_num_groups(K)``), the same
noise scale and threshold our mechanisms chose — and submitted to an OpenDP Context
whose privacy filter holds the advertiser's budget. OpenDP derives the sensitivity from
the bounds by itself, so a mistake in ours (or in how we compose) shows up here.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import opendp.prelude as dp
import polars as pl
import pytest

from needtoknow.analytics import EventStore
from needtoknow.analytics.reports import Reports, plan
from needtoknow.analytics.spec import ReportSpec, parse_spec
from needtoknow.errors import BudgetExceeded
from needtoknow.vault import Vault

DP: Any = dp  # the parts of OpenDP's Python API without type hints
PAGES = ["/a", "/b", "/c"]
WINDOW = {"from": "2026-11-01", "to": "2026-11-30"}


def events() -> list[dict[str, Any]]:
    return [
        {
            "kind": kind,
            "day": f"2026-11-{1 + n % 5:02d}",
            "customer_id": f"c{n % 97}",
            "page": PAGES[n % 3],
            "search": f"term {n % 7}" if kind == "search" else None,
            "value": n % 120,
        }
        for n in range(3000)
        for kind in ("page_view", "search")
        if n % 2 or kind == "page_view"
    ]


BASE: dict[str, Any] = {"window": WINDOW, "kinds": ["page_view"], "keys": {"page": PAGES}}


def pages(epsilon: float) -> ReportSpec:
    return parse_spec(
        {
            **BASE,
            "name": "pages",
            "measure": "count",
            "by": ["page"],
            "privacy": {"epsilon": epsilon},
            "bounds": {"max_partitions": 2, "max_per_partition": 3},
        }
    )


def specs() -> list[ReportSpec]:
    base = BASE
    return [
        pages(1.0),
        parse_spec(
            {
                "name": "terms",
                "measure": "subjects",
                "by": ["search"],
                "window": WINDOW,
                "kinds": ["search"],
                "privacy": {"epsilon": 0.7, "delta": 2e-7},
                "bounds": {"max_partitions": 3, "max_per_partition": 1},
            }
        ),
        parse_spec(
            {
                **base,
                "name": "page-days",
                "measure": "count",
                "by": ["page", "day"],
                "privacy": {"epsilon": 0.3},
                "bounds": {"max_partitions": 4, "max_per_partition": 2},
            }
        ),
        parse_spec(
            {
                **base,
                "name": "dwell",
                "measure": "sum",
                "by": ["page"],
                "privacy": {"epsilon": 1.5},
                "bounds": {"max_partitions": 2, "max_per_partition": 2, "value": [0, 100]},
            }
        ),
    ]


def opendp_measurement(ctx: Any, spec: ReportSpec) -> Any:
    """``spec`` as OpenDP's own Polars pipeline, at the scale (and threshold) we chose."""
    (mechanism,) = plan(spec).mechanisms.values()
    by = list(spec.by)
    query = (
        ctx.query(epsilon=spec.epsilon, delta=spec.delta)
        .filter(pl.col("kind") == spec.kinds[0])  # OpenDP 0.16 has no is_in
        .truncate_per_group(spec.max_per_partition, by=by)
        .truncate_num_groups(spec.max_partitions, by=by, keep="first")
        .group_by(*by)
    )
    scale = mechanism.scale
    if spec.measure == "sum":
        assert spec.value_bounds is not None
        value: Any = pl.col("value").fill_null(0)  # .dp is OpenDP's Polars plugin, untyped
        query = query.agg(value.dp.sum(spec.value_bounds))
        scale /= spec.value_bounds[1]  # OpenDP weighs a sum's noise by its per-row bound
    else:
        query = query.agg(DP.len(signed=True))
    if not spec.private_dimensions:
        rows = list(itertools.product(*(spec.keys[d] for d in by)))
        query = query.with_keys(pl.DataFrame(rows, schema=by, orient="row"))
    accountant = ctx.accountant
    return dp.m.make_private_lazyframe(
        accountant.input_domain,
        accountant.input_metric,
        accountant.output_measure,
        lazyframe=query.polars_plan,
        global_scale=scale,
        threshold=mechanism.threshold,
    )


def test_charges_add_up_to_what_opendps_accountant_reports(
    sqlite_vault: Vault, tmp_path: Path
) -> None:
    store = EventStore(tmp_path / "events", sqlite_vault.keys)
    store.ingest(events())
    reports = Reports(sqlite_vault.scope, store)
    rule = sqlite_vault.engine.decide_usage("ad_network", "advertising", "aggregate")
    columns = ["subject", "kind", "day", "page", "search", "value"]  # OpenDP: no list columns
    frame = (
        pl.scan_parquet([str(f) for f in store.files()])
        .select(columns)
        .with_columns(pl.col("day").cast(pl.String))
    )
    ctx: Any = dp.Context.compositor(
        data=frame,
        privacy_unit=dp.unit_of(contributions=1, identifier="subject"),
        privacy_loss=dp.loss_of(epsilon=rule.epsilon, delta=rule.delta),
        margins=[DP.polars.Margin(max_length=100_000)],  # a public bound OpenDP's sum needs
    )
    for spec in specs():
        release = reports.run(spec, "ad_network")
        measurement = opendp_measurement(ctx, spec)
        assert measurement.map(ctx.d_in) == pytest.approx((release.epsilon, release.delta))
        ctx(measurement)
    ours = (
        sum(c["epsilon"] for c in reports.budgets.charges("ad_network")),
        sum(c["delta"] for c in reports.budgets.charges("ad_network")),
    )
    assert ours == pytest.approx(ctx.current_privacy_loss(), rel=1e-12, abs=1e-18)
    assert reports.budgets.spent("ad_network")["2026-11"] == pytest.approx(ours)
    # Both refuse the next release that does not fit.
    over = pages(rule.epsilon - ours[0] + 0.01)
    with pytest.raises(BudgetExceeded):
        reports.run(over, "ad_network")
    with pytest.raises(dp.OpenDPException):
        ctx(opendp_measurement(ctx, over))
