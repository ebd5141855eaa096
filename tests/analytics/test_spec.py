"""Report specs: everything that affects the guarantee is checked before data is read,
and each mistake is named by its field."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needtoknow.analytics.spec import MAX_KEY_FILE, MAX_KEYS, load_spec, parse_spec
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
        ({**HISTOGRAM, "bins": [0, 10**400]}, "bins", "range"),  # found by fuzzing
        ({"keys": {"page": ["/a", {"b": 1}]}}, "keys.page", "list"),  # found by fuzzing
        ({"keys": {"page": [None]}}, "keys.page", "list"),
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
    summed = {
        **GOOD,
        "measure": "sum",
        "privacy": {"epsilon": 1, "delta": 1e-7},
        "bounds": {"max_partitions": 1, "max_per_partition": 1, "value": [0, 9]},
    }
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


KEYED = (
    "name: k\nmeasure: count\nby: [page]\nwindow: {from: 2026-11-01, to: 2026-11-02}\n"
    "privacy: {epsilon: 1}\nbounds: {max_partitions: 1, max_per_partition: 1}\n"
    "keys: {page: {file: FILE}}\n"
)


def keyed_spec(folder: Path, name: str) -> Path:
    """A spec in ``folder`` whose page keys come from the file ``name``."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "spec.yaml"
    spec.write_text(KEYED.replace("FILE", json.dumps(name)))
    return spec


# How each attempt names its file (made under the test's root), and the rule it breaks.
OUT_OF_BOUNDS: dict[str, tuple[Callable[[Path], str], str]] = {
    "absolute": (lambda root: str(root / "vault" / "keys.json"), "outside_spec_folder"),
    "dotdot": (lambda root: "../vault/keys.json", "outside_spec_folder"),
    "dotdot_inside": (lambda root: "lists/../../vault/keys.json", "outside_spec_folder"),
    "symlink_out": (
        lambda root: link(root / "specs" / "pages.txt", root / "vault" / "keys.json"),
        "outside_spec_folder",
    ),
    "symlinked_folder_out": (
        lambda root: link(root / "specs" / "lists", root / "vault") + "/keys.json",
        "outside_spec_folder",
    ),
    "empty": (lambda root: "", "outside_spec_folder"),
    "oversized": (
        lambda root: write(root / "specs" / "big.txt", b"/p\n" * (MAX_KEY_FILE // 3 + 1)),
        "file_too_large",
    ),
    "binary": (lambda root: write(root / "specs" / "b.txt", b"/a\n\x89PNG\r\n\x1a\n"), "not_text"),
    "nul": (lambda root: write(root / "specs" / "nul.txt", b"/a\n/b\x00\n"), "not_text"),
    "control": (lambda root: write(root / "specs" / "tab.txt", b"/a\t/b\n"), "not_text"),
    "not_utf8": (lambda root: write(root / "specs" / "latin1.txt", b"/caf\xe9\n"), "not_text"),
    "fifo": (lambda root: fifo(root / "specs" / "pipe.txt"), "not_a_file"),
}


@pytest.mark.parametrize("attempt", OUT_OF_BOUNDS)
def test_report_spec_cannot_read_any_file(tmp_path: Path, attempt: str) -> None:
    """Issue 15 (high): ``keys: {page: {file: ../vault/keys.json}}`` put the key file in
    an advertiser's report rows. A key list must be a text file inside the spec's own
    folder; the error names the field and the rule, and carries nothing of the file."""
    secret = tmp_path / "vault" / "keys.json"
    secret.parent.mkdir()
    secret.write_text('{"kek": "c2VjcmV0LWtleS1tYXRlcmlhbA=="}\n')
    make, rule = OUT_OF_BOUNDS[attempt]
    spec = keyed_spec(tmp_path / "specs", "x")
    spec.write_text(KEYED.replace("FILE", json.dumps(make(tmp_path))))
    with pytest.raises(ValidationError) as error:
        load_spec(spec)
    assert (error.value.field, error.value.rule) == ("keys.page", rule)
    assert "c2VjcmV0" not in str(error.value)


def test_report_spec_key_files_state_their_limits() -> None:
    with pytest.raises(ValidationError) as error:
        parse_spec({**GOOD, "keys": {"page": {"file": "pages.txt"}}}, None)
    assert error.value.rule == "file_not_allowed" and "inline" in str(error.value)
    with pytest.raises(ValidationError, match=f"at most {MAX_KEYS} keys"):
        parse_spec({**GOOD, "keys": {"page": [str(n) for n in range(MAX_KEYS + 1)]}})


def test_report_spec_loader_fuzzing_findings(tmp_path: Path) -> None:
    """Issue 15 (fuzzing) found these escaping the loader as TypeError or
    UnicodeDecodeError: YAML keys that are not strings, a file that is not UTF-8."""
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: x\n1: 2\nnull: 3\n")
    with pytest.raises(ValidationError, match="unknown_field"):
        load_spec(spec)
    spec.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ValidationError, match="not_text"):
        load_spec(spec)
    with pytest.raises(ValidationError, match="printable"):
        parse_spec({**GOOD, "name": "pages\ud800"})


def test_report_spec_key_file_may_be_a_link_within_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "specs"
    write(folder / "lists" / "pages.txt", "/a\r\n/b\n\n  /c  \n/ä\n".encode())
    link(folder / "pages.txt", folder / "lists" / "pages.txt")
    assert load_spec(keyed_spec(folder, "pages.txt")).keys["page"] == ("/a", "/b", "/c", "/ä")
    assert load_spec(keyed_spec(folder, "lists/pages.txt")).keys["page"][-1] == "/ä"
    # The spec's folder reached through a link is still the spec's folder.
    link(tmp_path / "alias", folder)
    assert len(load_spec(tmp_path / "alias" / "spec.yaml").keys["page"]) == 4


def link(at: Path, target: Path) -> str:
    at.parent.mkdir(parents=True, exist_ok=True)
    at.symlink_to(target)
    return at.name


def write(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path.name


def fifo(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path.name


# Fuzzing the loader: any YAML at all — or bytes that are not YAML, or not UTF-8 — gets
# a ValidationError naming a field, or a spec; nothing else escapes.
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**30),
    st.floats(),
    st.text(max_size=12),
    st.dates(),
    st.datetimes(),
    st.binary(max_size=8),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.one_of(st.text(max_size=8), st.integers(), st.booleans()), inner, max_size=4
        )
    ),
    max_leaves=16,
)
# A good spec with some fields replaced by anything, some added, some removed.
_MUTATED = st.builds(
    lambda changes, dropped: {**{k: v for k, v in GOOD.items() if k not in dropped}, **changes},
    st.dictionaries(
        st.sampled_from([*GOOD, "kinds", "bins", "min_count", "description", "bounds", 7]),
        _VALUES,
        max_size=3,
    ),
    st.sets(st.sampled_from(list(GOOD))),
)


def _dumped(data: Any) -> bytes:
    return yaml.safe_dump(data, allow_unicode=True).encode()


_YAML = st.one_of(
    _MUTATED.map(_dumped),
    st.builds(lambda d, m: {**d, "bounds": m}, _MUTATED, _VALUES).map(_dumped),
    st.builds(
        lambda d, m: {
            **d,
            "measure": m,
            "bounds": {"max_partitions": 1, "max_per_partition": 1, "value": [0, 9]},
        },
        _MUTATED,
        st.sampled_from(["sum", "mean", "histogram"]),
    ).map(_dumped),
    st.builds(
        lambda d, bins, value: {
            **d,
            "measure": "histogram",
            "bins": bins,
            "bounds": {"max_partitions": 1, "max_per_partition": 1, "value": value},
        },
        _MUTATED,
        _VALUES,
        _VALUES,
    ).map(_dumped),
    st.builds(lambda d, keys: {**d, "keys": {"page": keys}}, _MUTATED, _VALUES).map(_dumped),
    _VALUES.map(_dumped),
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    st.builds(
        lambda good, junk, at: good[:at] + junk + good[at:],
        st.just(_dumped(GOOD)),
        st.binary(min_size=1, max_size=8),
        st.integers(0, len(_dumped(GOOD))),
    ),
)


@given(text=_YAML)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_report_spec_loader_raises_only_validation_errors(text: bytes) -> None:
    """Issue 15 (fuzzing): the loader is the guard in front of the budget; whatever it
    is given, it answers with a spec or a ValidationError — never a crash, never text
    of the file it was given beyond what YAML's own error shows of a position."""
    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "spec.yaml"
        spec.write_bytes(text)
        try:
            loaded = load_spec(spec)
        except ValidationError as error:
            assert isinstance(error.field, str) and error.rule
        else:
            assert loaded.epsilon > 0 and loaded.max_partitions >= 1
