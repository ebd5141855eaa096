"""``ntk report`` end to end: the shipped example specs run against demo events, the
budget runs out with the remaining budget in the error, and the outputs (JSON, CSV, PNG
and HTML charts) carry only the released rows."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import cv2
import numpy as np
import pytest

NTK = str(Path(sys.executable).with_name("ntk"))
EXAMPLES = Path(__file__).parents[2] / "examples" / "reports"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("reports")
    env = {**os.environ, "NTK_HOME": str(home), "NTK_DATABASE_URL": ""}
    subprocess.run([NTK, "init"], env=env, check=True, capture_output=True)
    subprocess.run(
        [NTK, "events", "demo", "--events", "30000", "--subjects", "3000"],
        env=env,
        check=True,
        capture_output=True,
    )
    return env


def ntk(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NTK, *args], env=env, capture_output=True, text=True)


def test_every_example_runs_until_the_budget_is_spent(env: dict[str, str]) -> None:
    spent = 0.0
    for spec in sorted(EXAMPLES.glob("*.yaml")):
        result = ntk(env, "report", "run", str(spec), "--advertiser", "ad_network", "--json")
        assert result.returncode == 0, result.stderr
        release = json.loads(result.stdout)
        assert release["rows"] and release["columns"][-1] in release["rows"][0]
        spent += release["spent"]["epsilon"]
        assert release["remaining"]["2026-11"]["epsilon"] == pytest.approx(4.0 - spent)
    refused = ntk(
        env,
        "report",
        "run",
        str(EXAMPLES / "page-views-by-day.yaml"),
        "--advertiser",
        "ad_network",
        "--json",
    )
    assert refused.returncode == 11 and refused.stdout == ""
    error = json.loads(refused.stderr)
    assert error["error"] == "BudgetExceeded"
    assert error["remaining"]["epsilon"] == pytest.approx(4.0 - spent)
    budget = json.loads(ntk(env, "report", "budget", "ad_network", "--json").stdout)
    assert len(budget["charges"]) == len(list(EXAMPLES.glob("*.yaml")))
    assert budget["months"]["2026-11"]["left"]["epsilon"] == pytest.approx(4.0 - spent)


def test_csv_and_charts_show_the_released_rows(env: dict[str, str], tmp_path: Path) -> None:
    spec = str(EXAMPLES / "dwell-histogram.yaml")
    png, page, svg = tmp_path / "chart.png", tmp_path / "chart.html", tmp_path / "chart.svg"
    run = ("report", "run", spec, "--advertiser", "search_ads_partner")
    result = ntk(env, *run, "--csv", "--chart", str(png))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["bin"] for r in rows] == [
        "[0,10)",
        "[10,30)",
        "[30,60)",
        "[60,120)",
        "[120,300)",
        "[300,601)",
    ]
    for row in rows:  # each total with its 95% interval around it
        assert int(row["count_low"]) <= int(row["count"]) <= int(row["count_high"])
    image = cv2.imread(str(png))
    assert image is not None
    bar = np.all(np.abs(image.astype(int) - (180, 112, 40)) <= 2, axis=2)  # #2870b4, BGR
    lines = [y for y in range(image.shape[0]) if bar[y].any()]
    # bars are apart by more than the interval's line, which may cross one whole
    bands = 1 + sum(1 for a, b in itertools.pairwise(lines) if b > a + 4)
    counts = [int(r["count"]) for r in rows]
    visible = sum(c >= max(counts) / 100 for c in counts)  # a noisy 0 draws no bar
    assert visible <= bands <= len(rows)  # one bar per bin
    result = ntk(env, *run, "--json", "--chart", str(page))
    released = json.loads(result.stdout)["rows"]

    class Loads(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            named = dict(attrs)
            if tag in ("link", "img", "iframe") or (tag == "script" and named.get("src")):
                raise AssertionError(f"chart page loads <{tag} {named}>")

    text = page.read_text("utf-8")
    Loads().feed(text)  # Vega's scripts inline: the page works offline
    assert all(json.dumps(row["bin"]) in text for row in released)
    shown = ntk(env, "report", "show", str(json.loads(result.stdout)["ledger_index"]))
    assert shown.returncode == 0, shown.stderr
    ntk(env, "report", "show", str(json.loads(result.stdout)["ledger_index"]), "--chart", str(svg))
    drawing = svg.read_text("utf-8")
    assert "ε = " in drawing and "[10,30)" in drawing


def test_a_bad_chart_name_or_spec_is_a_clear_error(env: dict[str, str], tmp_path: Path) -> None:
    spec = str(EXAMPLES / "plans-by-region.yaml")
    result = ntk(
        env,
        "report",
        "run",
        spec,
        "--advertiser",
        "search_ads_partner",
        "--chart",
        str(tmp_path / "chart.gif"),
    )
    assert result.returncode == 5 and "chart" in result.stderr
    budget = json.loads(ntk(env, "report", "budget", "search_ads_partner", "--json").stdout)
    assert "plans-by-region" not in {c["report"] for c in budget["charges"]}  # nothing spent
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nmeasure: median\n")
    result = ntk(env, "report", "run", str(broken), "--advertiser", "ad_network", "--json")
    assert result.returncode == 5
    assert json.loads(result.stderr)["field"] == "measure"


def test_raw_events_are_refused_to_an_advertiser(env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "raw.parquet"
    result = ntk(
        env,
        "events",
        "export",
        str(target),
        "--recipient",
        "ad_network",
        "--purpose",
        "advertising",
        "--json",
    )
    assert result.returncode == 3 and not target.exists()
    assert "aggregate" in json.loads(result.stderr)["reasons"]["usage_events"]


def test_report_spec_cannot_read_any_file_and_nothing_is_charged(
    env: dict[str, str], tmp_path: Path
) -> None:
    """Issue 15 (high): a spec naming the vault's key file as its key list is refused
    before any budget is touched, and the key material appears nowhere."""
    key_file = Path(env["NTK_HOME"]) / "keys.json"
    spec = tmp_path / "specs" / "steal.yaml"
    spec.parent.mkdir()
    before = json.loads(ntk(env, "report", "budget", "search_ads_partner", "--json").stdout)
    for named in (str(key_file), os.path.relpath(key_file, spec.parent)):
        spec.write_text(
            "name: steal\nmeasure: count\nby: [page]\nwindow: {from: 2026-11-01, to: 2026-11-30}\n"
            f"privacy: {{epsilon: 0.1}}\nbounds: {{max_partitions: 1, max_per_partition: 1}}\n"
            f"keys: {{page: {{file: {json.dumps(named)}}}}}\n"
        )
        result = ntk(
            env, "report", "run", str(spec), "--advertiser", "search_ads_partner", "--json"
        )
        assert result.returncode == 5 and result.stdout == ""
        error = json.loads(result.stderr)
        assert (error["field"], error["rule"]) == ("keys.page", "outside_spec_folder")
        assert key_file.read_text()[:40] not in result.stderr
    after = json.loads(ntk(env, "report", "budget", "search_ads_partner", "--json").stdout)
    assert after["charges"] == before["charges"]
