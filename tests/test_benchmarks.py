"""The benchmarks still run (tiny sizes; no timing is asserted — numbers live in
docs/benchmarks.md, measured by running the scripts in full).

Each test reads the figures a benchmark prints — its ratios, rates and scores — and
fails when one does not parse as a finite number: a contender that failed prints an
error where its figures belong, and the row's mere presence would pass."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"
NUMBER = r"([0-9][0-9,]*(?:\.[0-9]+)?)"
pytestmark = pytest.mark.slow


def run(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    assert "Error" not in result.stdout, result.stdout
    return result.stdout


def figures(out: str, pattern: str, count: int | None = None) -> list[float]:
    """Every number ``pattern``'s groups capture (``{n}`` stands for a number), each
    finite; at least one match, or exactly ``count``."""
    found = re.findall(pattern.replace("{n}", NUMBER), out, re.MULTILINE)
    assert found, f"no {pattern!r} in:\n{out}"
    if count is not None:
        assert len(found) == count, f"{len(found)} of {pattern!r}, not {count}:\n{out}"
    values = [
        float(text.replace(",", ""))
        for match in found
        for text in (match if isinstance(match, tuple) else (match,))
    ]
    assert all(math.isfinite(v) for v in values), values
    return values


def test_bench_policy_checks_both_engines_agree_then_reports_a_ratio() -> None:
    out = run("bench_policy.py", "--repeats", "1")
    assert "both engines agree on every one" in out
    assert figures(out, r"worse mix: {n}x \(goal ≥ 50x", count=1)[0] > 0


def test_bench_vault_reports_put_and_get_ratios() -> None:
    out = run("bench_vault.py", "--customers", "200", "--gets", "500")
    rows = figures(out, r"^(?:put|get) +{n} +{n} +{n}x$", count=2)
    assert all(v > 0 for v in rows), rows
    figures(out, r"get within 3x of plain select: .*\({n}x\)", count=1)


def test_bench_ledger_reports_every_goal() -> None:
    out = run(
        "bench_ledger.py",
        *("--entries", "3000", "--gets", "300", "--proofs", "20"),
        *("--seal-batches", "100,500", "--seal-backlog", "1000"),
    )
    figures(out, r"ratio {n}x \(goal ≤ 1\.5x", count=2)  # get, get_many
    figures(
        out, r"^sealing 1000 entries {n} a transaction: {n} µs an entry, {n} ms a batch", count=2
    )
    figures(out, r"^verify: {n} s", count=1)
    figures(out, r"^verify --since-head over the {n} entries .*: {n} s, {n}x the full", count=1)
    figures(out, r"inclusion proof .*: median {n} ms, max {n} ms", count=1)


def test_bench_http_serves_both_apps_and_balances_the_ledger() -> None:
    out = run(
        "bench_http.py", "--seconds", "1", "--rounds", "2", "--clients", "4", "--customers", "30"
    )
    rates = figures(out, r"(?:bare FastAPI|needtoknow): +{n} req/s, p50 +{n} ms, p99 +{n} ms")
    assert len(rates) == 6 and all(v > 0 for v in rates), rates
    rounds = figures(
        out, r"^round \d: bare +{n} req/s p99 +{n} ms +{n} µs \| ours +{n} req/s p99 +{n} ms"
    )
    assert len(rounds) == 10 and all(v > 0 for v in rounds), rounds
    figures(out, r"^p99 ratio {n}x \(median of 2 rounds\)", count=1)
    figures(out, r"^throughput {n}% of bare \(median of 2 rounds\)", count=1)
    new, served = figures(out, r"verify ok; {n} new entries for {n} customer requests served")
    assert new == served > 0 and "(equal)" in out


def test_bench_asgi_calls_both_apps_and_balances_the_ledger() -> None:
    out = run("bench_asgi.py", "--requests", "200", "--customers", "30", "--concurrency", "8")
    costs = figures(out, r"(?:bare FastAPI|needtoknow): CPU per request +{n} µs, wall +{n} µs")
    assert len(costs) == 4 and all(v > 0 for v in costs), costs
    figures(out, r"^ours costs {n}x the peer's CPU per request", count=1)
    new, requests = figures(out, r"verify ok; {n} new entries for {n} requests")
    assert new == requests > 0 and "(equal)" in out


def test_bench_detect_compares_with_presidio_and_the_raw_pass() -> None:
    out = run("bench_detect.py", "--documents", "300", "--presidio", "30")
    figures(out, r"throughput: {n}x Presidio \(goal ≥ 50x\)", count=1)
    assert "raw single pass" in out
    assert all(0 <= f1 <= 1 for f1 in figures(out, r"^  \w+ +F1 {n}"))


def test_bench_analytics_runs_every_contender(tmp_path: Path) -> None:
    out = run(
        "bench_analytics.py", "--events", "20000", "--subjects", "2000", "--data", str(tmp_path)
    )
    for contender in ("duckdb-bounded", "ours", "opendp-polars", "pipelinedp-local"):
        # a row for each query, every column after the name a number
        row = rf"^{contender} +" + " +".join(["-?{n}"] * 12)
        figures(out, row, count=2)
    ours = [line.split() for line in out.splitlines() if line.startswith("ours ")]
    assert int(ours[0][5]) > 0, out  # Q1 releases its public keys (nothing filtered away)
    figures(out, r"ours / duckdb-bounded: {n}x time \(goal ≤ 3x\)", count=2)
    figures(out, r"opendp-polars / ours: {n}x time \(goal ≥ 10x\)", count=2)


def test_bench_lifecycle_compares_a_retention_run_with_a_plain_delete() -> None:
    out = run("bench_lifecycle.py", "--customers", "2000")
    # SQLite and PostgreSQL
    figures(out, r"ratio {n}x — retention run within 3x of a plain DELETE", count=2)


def test_bench_import_reports_the_ratio_and_the_memory() -> None:
    out = run("bench_import.py", "--customers", "300", "--rows", "2000")
    figures(out, r"{n}/s vs one Vault\.add per transaction {n}/s: {n}x", count=3)
    figures(out, r"peak RSS {n} MiB after 10%, {n} MiB at the end \({n}x\)", count=1)


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
    figures(out, r"^peer  indexed count\(\*\) +{n} ms", count=1)
    figures(out, r"Ledger\.received +{n} ms +{n}x the count \(goal ≤ 3x", count=1)


def test_bench_cli_times_the_commands_against_the_imports() -> None:
    out = run("bench_cli.py", "--runs", "2")
    figures(out, r"^ntk (?:--help|customer get) +{n} +{n}  ≤ \dx", count=2)


def test_bench_detect_stream_reports_throughput_memory_and_the_peers() -> None:
    out = run("bench_detect_stream.py", "--gigabytes", "0.02")
    assert all(v > 0 for v in figures(out, r"GB: +{n} s \({n} MB/s\)", count=2))
    figures(out, r"--workers 2: +{n} s \({n} MB/s\), {n}x one process", count=1)
    figures(out, r"peer, GNU grep .*: {n} s \({n} MB/s\); ntk scan takes {n}x", count=1)
    figures(out, r"^peak RSS large/small: {n}x", count=1)


def test_bench_detect_scores_both_on_the_independent_corpus() -> None:
    out = run("bench_detect.py", "--independent", "--presidio", "30")
    assert "corpus: independent_corpus.py" in out
    figures(out, r"throughput: {n}x Presidio \(goal ≥ 50x\)", count=1)


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


def test_bench_scale_loads_then_serves_and_serves_a_kept_vault_again(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    args = ("--customers", "300", "--seconds", "1", "--port", "8769", "--keep", str(kept))
    first, again = run("bench_scale.py", *args), run("bench_scale.py", *args)
    for out in (first, again):
        figures(out, r"^load: {n} customers/s", count=1)
        figures(out, r"^database: {n} GB, {n} bytes per customer", count=1)
        for kind in ("read", "lookup", "correction"):
            rate, p50, p99, _, rss = figures(
                out,
                rf"^{kind} +{{n}} req/s, p50 +{{n}} ms, p99 +{{n}} ms, .*; {{n}} ledger "
                r"entries/s; server RSS {n} MiB",
                count=1,
            )
            assert rate > 0 and p50 <= p99 and rss > 50
        assert "non-2xx 0, errors 0" in out
    # served again without loading: the load's figures are the kept ones
    loads = [re.search(r"^load: .*$", out, re.MULTILINE) for out in (first, again)]
    assert loads[0] and loads[1] and loads[0][0] == loads[1][0]
    assert (kept / "loaded.json").stat().st_mode & 0o077 == 0
    refused = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "bench_scale.py"),
            "--customers",
            "301",
            "--keep",
            str(kept),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode != 0 and "holds 300 customers on sqlite" in refused.stderr
