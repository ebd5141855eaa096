"""Report specs: everything that affects the guarantee is checked before data is read,
and each mistake is named by its field."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from needtoknow.analytics.spec import load_spec, parse_spec
from needtoknow.errors import ValidationError

EXAMPLES = Path(__file__).parents[2] / "examples" / "reports"
HISTOGRAM: dict[str, Any] = {
    "measure": "histogram",
    "bounds": {"max_partitions": 1, "max_per_partition": 1, "value": [0, 10]},
}
GOOD: dict[str, Any] = {
    "name": "r",
    "measure": "count",
    "by": ["page", "day"],
    "window": {"from": "2026-11-30", "to": "2026-12-02"},
    "privacy": {"epsilon": 1.0},
    "bounds": {"max_partitions": 2, "max_per_partition": 3},
    "keys": {"page": ["/a", "/b"]},
}


def test_the_shipped_examples_load() -> None:
    specs = {path.stem: load_spec(path) for path in EXAMPLES.glob("*.yaml")}
    assert len(specs) >= 5
    assert len(specs["page-views-by-day"].keys["page"]) == 500  # from pages.txt
    assert specs["top-search-terms"].private_dimensions == ("search",)
    assert {s.measure for s in specs.values()} >= {"count", "subjects", "mean", "histogram"}


def test_public_keys_come_from_the_spec_the_calendar_and_the_kinds() -> None:
    spec = parse_spec(GOOD)
    assert spec.keys["day"] == ("2026-11-30", "2026-12-01", "2026-12-02")
    assert spec.months == ("2026-11", "2026-12")
    assert spec.private_dimensions == ()
    by_kind = parse_spec({**GOOD, "by": ["kind"], "keys": {}, "kinds": ["search", "ad_click"]})
    assert by_kind.keys["kind"] == ("search", "ad_click")
    assert parse_spec({**GOOD, "by": ["region"], "keys": {}}).keys["region"][0] == "AN"
    assert parse_spec(GOOD).digest() != parse_spec({**GOOD, "privacy": {"epsilon": 0.9}}).digest()


@pytest.mark.parametrize(
    ("change", "where", "rule"),
    [
        ({"measure": "median"}, "measure", "one_of"),
        ({"by": ["customer_id"]}, "by", "one_of"),
        ({"colour": "blue"}, "colour", "unknown_field"),
        ({"privacy": {"epsilon": 0}}, "privacy.epsilon", "range"),
        ({"privacy": {"epsilon": True}}, "privacy.epsilon", "range"),
        ({"privacy": {"epsilon": 1, "delta": 0.1}}, "privacy.delta", "range"),
        (
            {"bounds": {"max_partitions": 0, "max_per_partition": 1}},
            "bounds.max_partitions",
            "range",
        ),
        (
            {"window": {"from": datetime(2026, 11, 1, 10), "to": "2026-11-02"}},
            "window.from",
            "iso_date",
        ),  # a YAML timestamp
        ({"keys": {"page": ["/a"], "day": ["2026-11-30"]}}, "keys.day", "from_window"),
        (
            {"by": ["kind"], "kinds": ["search"], "keys": {"kind": ["ad_click"]}},
            "keys.kind",
            "not_in_kinds",
        ),
        ({"privacy": {"epsilon": 1, "delta": 1e-300}}, "privacy.delta", "range"),
        ({**HISTOGRAM, "bins": [0, 10]}, "bins", "cover_bounds"),
        (
            {
                "measure": "sum",
                "bounds": {"max_partitions": 100, "max_per_partition": 100, "value": [0, 10**9]},
            },
            "bounds",
            "too_wide",
        ),
        ({"window": {"from": "2026-12-01", "to": "2026-11-01"}}, "window", "range"),
        ({"window": {"from": "yesterday", "to": "2026-11-01"}}, "window.from", "iso_date"),
        ({"keys": {}}, "privacy.delta", "required"),  # page keys now private
        ({"keys": {"plan": ["pro"]}}, "keys.plan", "not_grouped"),
        ({"keys": {"page": []}}, "keys.page", "list"),
        ({"measure": "sum"}, "bounds.value", "required"),
        ({**HISTOGRAM, "bins": [5, 1]}, "bins", "increasing"),
        ({"bins": [0, 1]}, "bins", "histogram_only"),
        ({"min_count": -1}, "min_count", "range"),
    ],
)
def test_mistakes_are_named_by_field_and_rule(
    change: dict[str, Any], where: str, rule: str
) -> None:
    with pytest.raises(ValidationError) as error:
        parse_spec({**GOOD, **change})
    assert (error.value.field, error.value.rule) == (where, rule)


def test_sums_need_public_keys_and_counts_for_suppression() -> None:
    summed = {**GOOD, "measure": "sum", "privacy": {"epsilon": 1, "delta": 1e-7},
              "bounds": {"max_partitions": 1, "max_per_partition": 1, "value": [0, 9]}}  # fmt: skip
    with pytest.raises(ValidationError, match="public_required"):
        parse_spec({**summed, "keys": {}})
    with pytest.raises(ValidationError, match="needs_count"):
        parse_spec({**summed, "min_count": 5})


def test_too_many_public_partitions_are_refused() -> None:
    huge = {**GOOD, "keys": {"page": [str(n) for n in range(400_000)]}}
    with pytest.raises(ValidationError, match="too_many"):
        parse_spec(huge)


def test_unreadable_or_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="unreadable"):
        load_spec(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("name: [unclosed\n")
    with pytest.raises(ValidationError, match="yaml"):
        load_spec(tmp_path / "bad.yaml")
    (tmp_path / "keys.yaml").write_text(
        "name: k\nmeasure: count\nby: [page]\nwindow: {from: 2026-11-01, to: 2026-11-02}\n"
        "privacy: {epsilon: 1}\nbounds: {max_partitions: 1, max_per_partition: 1}\n"
        "keys: {page: {file: nowhere.txt}}\n"
    )
    with pytest.raises(ValidationError, match="unreadable"):
        load_spec(tmp_path / "keys.yaml")
