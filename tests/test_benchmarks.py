"""The benchmarks still run (tiny sizes; no timing is asserted — numbers live in
docs/benchmarks.md, measured by running the scripts in full)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"
pytestmark = pytest.mark.slow


def run(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_bench_policy_checks_both_engines_agree_then_reports_a_ratio() -> None:
    out = run("bench_policy.py", "--repeats", "1")
    assert "both engines agree on every one" in out
    assert "goal ≥ 50x" in out


def test_bench_vault_reports_put_and_get_ratios() -> None:
    out = run("bench_vault.py", "--customers", "200", "--gets", "500")
    assert "put" in out and "get within 3x of plain select" in out


def test_bench_ledger_reports_every_goal() -> None:
    out = run("bench_ledger.py", "--entries", "3000", "--gets", "300", "--proofs", "20")
    for goal in ("get with ledger entry", "get_many", "verify:", "inclusion proof"):
        assert goal in out


def test_bench_http_serves_both_apps_and_balances_the_ledger() -> None:
    out = run("bench_http.py", "--seconds", "1", "--clients", "4", "--customers", "30")
    assert "bare FastAPI" in out and "p99 ratio" in out
    assert "(equal)" in out and "verify ok" in out


def test_bench_detect_compares_with_presidio_and_the_raw_pass() -> None:
    out = run("bench_detect.py", "--documents", "300", "--presidio", "30")
    assert "x Presidio (goal ≥ 50x)" in out and "raw single pass" in out


def test_bench_analytics_runs_every_contender(tmp_path: Path) -> None:
    out = run(
        "bench_analytics.py", "--events", "20000", "--subjects", "2000", "--data", str(tmp_path)
    )
    for contender in ("duckdb-bounded", "ours", "opendp-polars", "pipelinedp-local"):
        assert out.count(f"\n{contender} ") == 2, out  # a row for each query
    assert "Error" not in out, out  # a contender that failed prints its error in its row
    ours = [line.split() for line in out.splitlines() if line.startswith("ours ")]
    assert int(ours[0][5]) > 0, out  # Q1 releases its public keys (nothing filtered away)
    assert "ours / duckdb-bounded" in out and "goal ≥ 10x" in out


def test_bench_lifecycle_compares_a_retention_run_with_a_plain_delete() -> None:
    out = run("bench_lifecycle.py", "--customers", "2000")
    assert out.count("retention run within 3x of a plain DELETE") == 2  # SQLite, PostgreSQL


def test_bench_import_reports_the_ratio_and_the_memory() -> None:
    out = run("bench_import.py", "--customers", "300", "--rows", "2000")
    assert "vs one Vault.add per transaction" in out and "peak RSS" in out


def test_bench_scope_compares_a_scope_with_an_indexed_count() -> None:
    out = run(
        "bench_scope.py",
        "--entries",
        "20000",
        "--days",
        "2",
        "--customers",
        "3000",
        "--repeats",
        "1",
    )
    assert "peer  indexed count(*)" in out and "Ledger.received" in out
    assert "x the count (goal ≤ 3x" in out


def test_bench_detect_scores_both_on_the_independent_corpus() -> None:
    out = run("bench_detect.py", "--independent", "--presidio", "30")
    assert "corpus: independent_corpus.py" in out and "x Presidio (goal ≥ 50x)" in out


def test_the_independent_corpus_holds_negatives(tmp_path: Path) -> None:
    out = tmp_path / "i.jsonl"
    run("independent_corpus.py", str(out), "--per-kind", "5")
    documents = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert any(d["spans"] == [] for d in documents) and any(d["spans"] for d in documents)


def test_presidios_test_vectors_are_a_corpus_ntk_eval_reads(tmp_path: Path) -> None:
    from needtoknow.detect.labelled import read

    out = tmp_path / "p.jsonl"
    run("presidio_vectors.py", str(out))
    corpus = read(out, "ntk", {})
    assert len(corpus.documents) > 200 and not corpus.unmapped
    assert any(not doc.gold for doc in corpus.documents)  # its negatives kept
