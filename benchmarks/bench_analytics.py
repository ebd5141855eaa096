"""Differentially private histograms over usage events: ours against DuckDB, OpenDP's Polars
Context and PipelineDP, on the same data, with the same bounds, ε and δ, in the same run.

Two queries over one Parquet file of synthetic events (``analytics_data``; cached in --data):

- Q1, known keys: events per (page, day). The 500 pages x 30 days are public, so every key
  is released (absent ones as noisy zeros). Each subject adds to ≤ K=4 cells, ≤ C=2 each.
- Q2, unknown keys: distinct subjects per search term (search events). The terms are
  private, so a term is released only if its noisy count clears a threshold chosen for δ.
  Each subject counts toward ≤ K=3 terms (C=1).

Each contender runs in a fresh Python process, so its wall time and peak RSS are its own.
The peak includes the interpreter and the libraries it imports (shown as "base"):
``opendp.prelude`` alone is ~230 MB (its core modules ~60 MB). Contenders:

- duckdb-plain: GROUP BY, no bounding, no noise: the speed limit, and the TRUE counts;
- duckdb-bounded: the same with contribution bounding in SQL (cap C per cell, then K
  random cells per subject), no noise: the limit for our engine, and the BOUNDED counts;
- ours: ``needtoknow.analytics.reports.Reports.run`` — policy, budget charge, ledger,
  bounding in DuckDB (``analytics/bounding.py``), OpenDP's discrete Laplace (Q1) or
  thresholded discrete Laplace (Q2);
- opendp-polars: OpenDP 0.16's Context over ``pl.scan_parquet``, written the documented way;
- pipelinedp-local: PipelineDP on its LocalBackend (pure Python: skipped above
  --pipelinedp-max-events).

Error is against the true counts, on the partitions that have any (Q2: those released),
and split into bias (bounded - true: what bounding drops) and noise (released - bounded).
The bounded counts are each contender's own (opendp-polars: its truncation redone in plain
Polars, off the clock), except PipelineDP's, which stay inside it: its bias and noise are
against duckdb-bounded's, a different random draw of the same bounds.

Run: ``.venv/bin/python benchmarks/bench_analytics.py [--events 10000000] [--only ours]``
"""

from __future__ import annotations

import argparse
import importlib
import os
import pickle
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

Key = tuple[str, ...]


@dataclass(frozen=True)
class Query:
    name: str
    title: str
    by: tuple[str, ...]
    k: int  # partitions one subject may add to
    c: int  # events one subject may add to a partition
    public: bool  # key set known in advance (no partition selection)
    subjects: bool = False  # count distinct subjects, not events
    kind: str | None = None  # only events of this kind

    @property
    def where(self) -> str:
        return f"kind = '{self.kind}'" if self.kind else "TRUE"


QUERIES = {
    "Q1": Query("Q1", "events per (page, day)", ("page", "day"), k=4, c=2, public=True),
    "Q2": Query(
        "Q2",
        "subjects per search term",
        ("search",),
        k=3,
        c=1,
        public=False,
        subjects=True,
        kind="search",
    ),
}


@dataclass(frozen=True)
class Job:
    """What a worker is told; pickled to a file, as Q1's 15,000 keys are too long for argv."""

    contender: str
    query: str
    path: Path
    epsilon: float
    delta: float
    keys: list[Key]  # the public key set; [] when the keys are private


@dataclass
class Release:
    """What a worker hands back: {key: released count}, and bounded counts if it has them."""

    released: dict[Key, float]
    bounded: dict[Key, int] | None = None
    notes: list[str] = field(default_factory=list)
    after: Callable[[Release], None] | None = None  # more to report, done off the clock
    seconds: float = 0.0  # the contender's own work, its libraries already imported
    base_mb: float = 0.0  # peak RSS once the libraries are imported
    peak_mb: float = 0.0  # peak RSS of the whole worker
    after_seconds: float = 0.0  # spent in ``after``
    setup_seconds: float = 0.0  # one-off setup inside the run, left off ``seconds``
    process_seconds: float = 0.0  # the worker, start to exit, less ``after`` (set by the parent)


# ---- contenders: each runs in its own worker process ----


def source(path: Path) -> str:
    return "read_parquet('" + str(path).replace("'", "''") + "')"


def duckdb_counts(sql: str) -> dict[Key, int]:
    """Run ``sql`` (key columns, then a count) and key the counts by the key columns as text."""
    import duckdb

    with duckdb.connect() as db:
        rows = db.execute(sql).fetchall()
    return {tuple(str(value) for value in row[:-1]): int(row[-1]) for row in rows}


def plain_sql(src: str, query: Query) -> str:
    by = ", ".join(query.by)
    count = "COUNT(DISTINCT subject)" if query.subjects else "COUNT(*)"
    return f"SELECT {by}, {count} FROM {src} WHERE {query.where} GROUP BY {by}"


def bounded_sql(src: str, query: Query) -> str:
    """Per-partition counts after bounding each subject's contribution by itself alone:
    at most C events per (subject, partition), then K of the subject's partitions chosen
    at random (with C=1 the count is of distinct subjects). The draw ``u`` is made after
    grouping, in a CTE of its own: DuckDB rejects ``ORDER BY random()`` in a window, and
    ``SELECT DISTINCT subject, term, random()`` (research note §5b) keeps duplicate
    (subject, term) rows, which lets one subject add up to K to one term (d_in says 1).

    Written independently of ``analytics/bounding.py`` (random draw, not a salted hash):
    the limit our engine is held to, not a copy of it.
    """
    by = ", ".join(query.by)
    return f"""
        WITH cells AS (
            SELECT subject, {by}, LEAST(COUNT(*), {query.c}) AS n
            FROM {src} WHERE {query.where} GROUP BY subject, {by}),
        drawn AS (SELECT *, random() AS u FROM cells),
        ranked AS (
            SELECT {by}, n, ROW_NUMBER() OVER (PARTITION BY subject ORDER BY u) AS r FROM drawn)
        SELECT {by}, SUM(n)::BIGINT FROM ranked WHERE r <= {query.k} GROUP BY {by}"""


def run_plain(path: Path, query: Query, args: Job) -> Release:
    counts = duckdb_counts(plain_sql(source(path), query))
    return Release(dict(counts), counts)  # unbounded: its bounded counts are the true ones


def run_bounded(path: Path, query: Query, args: Job) -> Release:
    bounded = duckdb_counts(bounded_sql(source(path), query))
    return Release(dict(bounded), bounded)


def spec_for(query: Query, args: Job) -> Any:
    """The query as a report spec of ours: the same bounds, ε and δ, the data's month."""
    from needtoknow.analytics.spec import parse_spec

    data: dict[str, Any] = {
        "name": query.name,
        "measure": "subjects" if query.subjects else "count",
        "by": list(query.by),
        "window": {"from": "2026-11-01", "to": "2026-11-30"},
        "privacy": {"epsilon": args.epsilon, "delta": 0.0 if query.public else args.delta},
        "bounds": {"max_partitions": query.k, "max_per_partition": query.c},
    }
    if query.kind:
        data["kinds"] = [query.kind]
    if query.public:
        # The days are the window's (a spec may not list them); the other keys are listed.
        data["keys"] = {
            d: sorted({key[i] for key in args.keys}) for i, d in enumerate(query.by) if d != "day"
        }
    return parse_spec(data)


def run_ours(path: Path, query: Query, args: Job) -> Release:
    """The report engine itself, ``Reports.run``: the policy's decision, the budget charge
    and both ledger entries (in a fresh SQLite vault, made before the clock starts, as a
    deployment has one), bounding in DuckDB, OpenDP's discrete Laplace (Q1) or
    thresholded discrete Laplace (Q2). Off the clock, the exact bounded counts are redone
    with the release's bounding salt, for the bias/noise split."""
    from needtoknow.analytics import EventStore
    from needtoknow.analytics.bounding import bound
    from needtoknow.analytics.reports import Reports
    from needtoknow.config import Settings, init_vault

    started = time.perf_counter()
    home = Path(tempfile.mkdtemp(prefix="ntk-bench-"))
    vault = init_vault(Settings(home=home, database_url=f"sqlite:///{home}/vault.db"))
    (home / "events").mkdir()
    (home / "events" / "events-bench.parquet").symlink_to(path.resolve())
    store = EventStore(home / "events", vault.keys)
    spec = spec_for(query, args)
    setup = time.perf_counter() - started
    release = Reports(vault.scope, store).run(spec, "ad_network")
    released = {
        tuple(str(row[c]) for c in release.columns[:-1]): float(row["count"])
        for row in release.rows
    }
    noise = release.noise["count"]
    notes = [
        f"scale {noise['scale']:.3g}"
        + (f", threshold {noise['threshold']}" if "threshold" in noise else "")
    ]
    result = Release(released, None, notes, setup_seconds=setup)

    def exact(result: Release) -> None:
        with store.connect() as db:
            bounded = bound(db, spec, release.bounding_salt)
        result.bounded = {key: n for key, n in zip(bounded.keys, bounded.counts, strict=True) if n}

    result.after = exact
    return result


def run_opendp_polars(path: Path, query: Query, args: Job) -> Release:
    """OpenDP's own pipeline, the documented way. Its pitfalls, as of 0.16 (research §6):
    ``truncate_num_groups(K, keep="first")`` keeps K-1 groups per subject but is charged
    for K (dense rank < K), and keeps the alphabetically first ones, the same for every
    subject; ``keep="sample"`` (the default) fails at collect, after the budget is spent."""
    import opendp.prelude as dp
    import polars as pl
    from opendp.extras.polars import LazyFrameQuery, dp_len

    dp.enable_features("contrib")
    delta = {} if query.public else {"delta": args.delta}  # δ: for the threshold
    context = dp.Context.compositor(
        # the columns it uses: OpenDP's Polars domain has no list type (``consented``)
        data=pl.scan_parquet(path).select("subject", "kind", *query.by),
        privacy_unit=dp.unit_of(contributions=1, identifier="subject"),
        privacy_loss=dp.loss_of(epsilon=args.epsilon, **delta),
        split_evenly_over=1,
    )
    lazy = context.query()
    assert isinstance(lazy, LazyFrameQuery)  # as it is for Polars data
    if query.kind:
        lazy = lazy.filter(pl.col("kind") == query.kind)
    by = list(query.by)
    lazy = (
        lazy.truncate_per_group(query.c, by=by)
        .truncate_num_groups(query.k, by=by, keep="first")
        .group_by(*by)
        .agg(dp_len(signed=True))
    )
    if query.public:
        keys = pl.DataFrame(args.keys, schema=by, orient="row")
        lazy = lazy.with_keys(keys.with_columns(pl.col("day").str.to_date()))
    once: Any = lazy.release()  # the budget is spent here; OnceFrame.collect() is untyped
    frame = once.collect()
    released = {tuple(str(v) for v in row[:-1]): float(row[-1]) for row in frame.iter_rows()}

    def after(release: Release) -> None:  # summarize() redoes OpenDP's parameter search
        summary = lazy.summarize()
        threshold = summary["threshold"][0] if "threshold" in summary.columns else None
        scale = f"scale {summary['scale'][0]:.3g}"
        release.notes.append(scale + (f", threshold {threshold}" if threshold else ""))
        release.bounded = opendp_truncation(path, query)

    return Release(released, after=after)


def opendp_truncation(path: Path, query: Query) -> dict[Key, int]:
    """The counts OpenDP adds its noise to, redone in plain Polars with the filters its
    truncations compile to (research note §6b), so its error splits into bias and noise."""
    import polars as pl

    by = list(query.by)
    events = pl.scan_parquet(path)
    if query.kind:
        events = events.filter(pl.col("kind") == query.kind)
    counts = (
        events.filter(pl.int_range(pl.len()).over("subject", *by) < query.c)
        .filter(pl.struct(*by).rank("dense").over("subject") < query.k)
        .group_by(*by)
        .len()
        .collect()
    )
    return {tuple(str(v) for v in row[:-1]): int(row[-1]) for row in counts.iter_rows()}


def run_pipelinedp(path: Path, query: Query, args: Job) -> Release:
    """PipelineDP's DPEngine on plain Python tuples. It samples K partitions per subject
    and C rows per partition at random, as ours does. Private keys: PRIVACY_ID_COUNT
    with post-aggregation thresholding, i.e. the noisy count is also the selection (one
    mechanism, all of ε, like OpenDP's Laplace threshold)."""
    import pipeline_dp  # type: ignore[import-untyped,unused-ignore]
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["subject", "kind", *query.by])
    if query.kind:
        table = table.filter(pc.equal(table["kind"], query.kind))
    columns = [table["subject"], *(table[c].cast(pa.string()) for c in query.by)]
    rows = list(zip(*(column.to_pylist() for column in columns), strict=True))
    del table, columns
    metric = pipeline_dp.Metrics.PRIVACY_ID_COUNT if query.subjects else pipeline_dp.Metrics.COUNT
    accountant = pipeline_dp.NaiveBudgetAccountant(
        total_epsilon=args.epsilon, total_delta=0.0 if query.public else args.delta
    )
    engine = pipeline_dp.DPEngine(accountant, pipeline_dp.LocalBackend())
    params = pipeline_dp.AggregateParams(
        metrics=[metric],
        noise_kind=pipeline_dp.NoiseKind.LAPLACE,
        max_partitions_contributed=query.k,
        max_contributions_per_partition=query.c,
        post_aggregation_thresholding=not query.public,
    )
    extractors = pipeline_dp.DataExtractors(
        privacy_id_extractor=lambda row: row[0],
        partition_extractor=lambda row: row[1:],
        value_extractor=lambda row: 0,
    )
    result = engine.aggregate(
        rows, params, extractors, public_partitions=args.keys if query.public else None
    )
    accountant.compute_budgets()  # LocalBackend is lazy: nothing has run until iterated
    name = "privacy_id_count" if query.subjects else "count"
    return Release({key: float(getattr(values, name)) for key, values in result})


Contender = Callable[[Path, Query, Job], Release]
CONTENDERS: dict[str, tuple[Contender, tuple[str, ...]]] = {  # function, modules it imports
    "duckdb-plain": (run_plain, ("duckdb",)),
    "duckdb-bounded": (run_bounded, ("duckdb",)),
    "ours": (run_ours, ("needtoknow.analytics.reports",)),
    "opendp-polars": (run_opendp_polars, ("opendp.prelude", "polars")),
    "pipelinedp-local": (run_pipelinedp, ("pipeline_dp", "pyarrow.parquet")),
}
REFERENCES = ("duckdb-plain", "duckdb-bounded")  # always run: the true and bounded counts


def peak_mb() -> float:
    """This process's peak RSS. Not ``getrusage``'s ru_maxrss: Linux carries that over
    ``exec`` from the (v)forked parent, so every worker would start at the parent's peak."""
    status = Path("/proc/self/status").read_text().split()
    return int(status[status.index("VmHWM:") + 1]) / 1024  # kB


def work(job_file: Path) -> None:
    """The worker: import the contender's libraries, then time its run of one query."""
    job: Job = pickle.loads(job_file.read_bytes())
    run, modules = CONTENDERS[job.contender]
    for module in modules:
        importlib.import_module(module)
    base = peak_mb()
    started = time.perf_counter()
    release = run(job.path, QUERIES[job.query], job)
    release.seconds = time.perf_counter() - started - release.setup_seconds
    release.base_mb, release.peak_mb = base, peak_mb()
    if release.after is not None:
        started = time.perf_counter()
        release.after(release)
        release.after = None  # a closure: not picklable
        release.after_seconds = time.perf_counter() - started
    job_file.with_suffix(".out").write_bytes(pickle.dumps(release))


# ---- the parent: spawn workers, score, print ----


def spawn(job: Job, scratch: Path) -> Release | str:
    """Run ``job`` in a fresh interpreter; its Release, or why it failed."""
    job_file = scratch / f"{job.contender}-{job.query}.job"
    job_file.write_bytes(pickle.dumps(job))
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--worker", str(job_file)], capture_output=True, text=True
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        return lines[-1]
    release: Release = pickle.loads(job_file.with_suffix(".out").read_bytes())
    release.process_seconds = time.perf_counter() - started - release.after_seconds
    warnings = {line.strip() for line in done.stderr.splitlines() if "Warning" in line}
    release.notes += sorted(warnings)
    return release


def median(runs: list[Release | str]) -> Release | str:
    """The run of median work time (sub-second timings vary by ±50% from run to run),
    or the first failure."""
    failed = [run for run in runs if isinstance(run, str)]
    done = sorted((run for run in runs if isinstance(run, Release)), key=lambda r: r.seconds)
    return failed[0] if failed else done[len(done) // 2]


@dataclass(frozen=True)
class Score:
    released: int
    true_keys: int
    kept: int
    mae: float  # mean |released - true|
    mre: float  # mean |released - true| / true
    bias: float  # mean (bounded - true)
    noise: float  # mean (released - bounded)
    noise_abs: float  # mean |released - bounded|


def score(release: Release, truth: dict[Key, int], bounded: dict[Key, int], public: bool) -> Score:
    """Errors on the partitions with a true count: all of them for public keys (a missing
    one counts as 0), the released ones for private keys (the rest are "missing")."""
    reference = release.bounded if release.bounded is not None else bounded
    true_keys = [key for key, n in truth.items() if n > 0]
    kept = [key for key in true_keys if key in release.released]
    keys = true_keys if public else kept
    got = [release.released.get(key, 0.0) for key in keys]
    true = [truth[key] for key in keys]
    bound = [reference.get(key, 0) for key in keys]

    def mean(values: list[float]) -> float:
        return statistics.fmean(values) if values else float("nan")

    return Score(
        released=len(release.released),
        true_keys=len(true_keys),
        kept=len(kept),
        mae=mean([abs(g - t) for g, t in zip(got, true, strict=True)]),
        mre=mean([abs(g - t) / t for g, t in zip(got, true, strict=True)]),
        bias=mean([b - t for b, t in zip(bound, true, strict=True)]),
        noise=mean([g - b for g, b in zip(got, bound, strict=True)]),
        noise_abs=mean([abs(g - b) for g, b in zip(got, bound, strict=True)]),
    )


HEADER = (
    f"{'contender':<17}{'work s':>8}{'proc s':>8}{'base MB':>8}{'peak MB':>8}{'released':>9}"
    f"{'true':>7}{'kept':>7}{'MAE':>9}{'MRE':>8}{'bias':>8}{'noise±':>8}{'|noise|':>8}"
)


def row(name: str, release: Release, s: Score) -> str:
    return (
        f"{name:<17}{release.seconds:8.2f}{release.process_seconds:8.2f}{release.base_mb:8.0f}"
        f"{release.peak_mb:8.0f}{s.released:9d}{s.true_keys:7d}{s.kept:7d}{s.mae:9.2f}"
        f"{s.mre:8.3f}{s.bias:8.2f}{s.noise:8.2f}{s.noise_abs:8.2f}"
    )


def ratios(runs: dict[str, Release | str], scores: dict[str, Score]) -> None:
    ours = runs.get("ours")
    if not isinstance(ours, Release):
        return
    versus = [
        f"{name} {run.seconds / ours.seconds:.2f}x time, {run.peak_mb / ours.peak_mb:.2f}x memory"
        for name, run in runs.items()
        if name != "ours" and isinstance(run, Release)
    ]
    print(f"  vs ours: {'; '.join(versus)}")
    limit = runs.get("duckdb-bounded")
    if isinstance(limit, Release):
        print(f"  ours / duckdb-bounded: {ours.seconds / limit.seconds:.2f}x time (goal ≤ 3x)")
    them = runs.get("opendp-polars")
    if isinstance(them, Release):
        print(
            f"  opendp-polars / ours: {them.seconds / ours.seconds:.2f}x time (goal ≥ 10x); "
            f"ours / opendp-polars: {ours.peak_mb / them.peak_mb:.2f}x memory (goal ≤ 0.25x); "
            f"MAE {scores['ours'].mae:.2f} vs {scores['opendp-polars'].mae:.2f} (goal: no worse)"
        )


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "?")
    meminfo = Path("/proc/meminfo").read_text().split()
    ram = int(meminfo[meminfo.index("MemTotal:") + 1]) / 2**20
    libraries = ", ".join(
        f"{name} {version(name)}" for name in ("duckdb", "opendp", "polars", "pipeline-dp")
    )
    return (
        f"machine: {cpu}, {os.cpu_count()} cores, {ram:.0f} GiB RAM, "
        f"CPython {platform.python_version()}; {libraries}"
    )


NOTES = (
    "ours: the whole report path (policy, budget charge and ledger in SQLite, DuckDB "
    "bounding, OpenDP noise); negative noisy counts are released as 0 (post-processing)",
    "opendp-polars: truncate_num_groups(K, keep='first') keeps K-1 partitions per subject "
    "(dense rank < K) but is charged for K, and keeps the alphabetically first ones; "
    "keep='sample' fails at collect (after spending the budget): more bias, same noise",
    "pipelinedp-local: Laplace on floats (the others: OpenDP's discrete Laplace on integers)",
    "pipelinedp-local's bias and noise are against duckdb-bounded's counts (another random "
    "draw of the same bounds); the others' against their own bounded counts",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--subjects", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2026, help="of the synthetic data")
    parser.add_argument("--epsilon", type=float, default=1.0)
    parser.add_argument("--delta", type=float, default=1e-7, help="for Q2's partition selection")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "ntk-bench")
    parser.add_argument("--only", choices=CONTENDERS, help="one contender (and the references)")
    parser.add_argument("--pipelinedp-max-events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=1, help="runs each; the median is shown")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        work(args.worker)
        return
    # Here, not at the top: these import needtoknow (~110 MB), which workers must not pay for.
    import analytics_data

    from needtoknow.analytics.demo import PAGES

    path = args.data / f"events-v3-{args.events}-{args.subjects}-{args.seed}.parquet"
    if not path.exists():
        started = time.perf_counter()
        analytics_data.generate(path, args.events, args.subjects, args.seed)
        print(f"generated {path} in {time.perf_counter() - started:.1f} s")
    days = [analytics_data.START + timedelta(days=n) for n in range(analytics_data.DAYS)]
    public: list[Key] = [(page, day.isoformat()) for page in PAGES for day in days]
    names = [n for n in CONTENDERS if args.only in (None, n) or n in REFERENCES]
    print(machine())
    print(
        f"{args.events:,} events, {args.subjects:,} subjects (seed {args.seed}) in {path} "
        f"({path.stat().st_size / 1e6:.0f} MB); "
        f"ε={args.epsilon}, δ={args.delta}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        for query in QUERIES.values():
            keys = public if query.public else []
            runs: dict[str, Release | str] = {}
            for name in names:
                if name == "pipelinedp-local" and args.events > args.pipelinedp_max_events:
                    runs[name] = f"skipped: more than {args.pipelinedp_max_events:,} events"
                    continue
                job = Job(name, query.name, path, args.epsilon, args.delta, keys)
                runs[name] = median([spawn(job, Path(scratch)) for _ in range(args.rounds)])
            report(query, runs)
    print("notes:")
    for note in NOTES:
        print(f"  - {note}")


def report(query: Query, runs: dict[str, Release | str]) -> None:
    truth, bounded = runs["duckdb-plain"], runs["duckdb-bounded"]
    assert isinstance(truth, Release) and isinstance(bounded, Release), (truth, bounded)
    true_counts = {key: int(n) for key, n in truth.released.items()}
    bounds = bounded.bounded or {}
    keys = "public keys" if query.public else "private keys (threshold)"
    print(f"\n{query.name}: {query.title}, {keys}; K={query.k}, C={query.c}")
    print(HEADER)
    scores: dict[str, Score] = {}
    for name, run in runs.items():
        if isinstance(run, str):
            print(f"{name:<17}{run}")
            continue
        scores[name] = score(run, true_counts, bounds, query.public)
        print(row(name, run, scores[name]) + (f"  ({'; '.join(run.notes)})" if run.notes else ""))
    ratios(runs, scores)


if __name__ == "__main__":
    main()
