"""Contribution bounding, in DuckDB: the step OpenDP cannot certify for us.

OpenDP's noise is calibrated to a sensitivity we declare — one subject changes at most
``K`` partitions (``max_partitions``) by at most ``C`` events each (``max_per_partition``;
for sums, ``C * high``). This SQL is what makes that declaration true:

1. **cells**: every (subject, partition) pair, its event count capped at ``C`` and its
   value sum taken as that capped count * the subject's mean value there (values are
   first clamped to the declared bounds), so it is at most ``C * high`` and a heavy
   user's sum and count stay consistent for means;
2. **bounded**: of each subject's cells, ``K`` chosen at random — those with the
   smallest keyed hash of (subject, partition, a fresh salt per report), so the choice
   depends on nothing but that subject's own cells and cannot be steered by anyone
   else's;
3. the per-partition totals of ``bounded`` are all that reach the noise step.

``tests/analytics/test_bounding.py`` proves the bounds on ``bounded`` for random and
adversarial subjects. What comes out of here is exact and must never leave the process
un-noised: only :mod:`needtoknow.analytics.reports` calls it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from needtoknow.analytics.spec import ReportSpec

BIN = "bin"  # the histogram's extra key column


@dataclass(frozen=True)
class Bounded:
    """Exact per-partition totals of the bounded contributions."""

    keys: list[tuple[str, ...]]
    counts: list[int]
    sums: list[int]


def key_columns(spec: ReportSpec) -> tuple[str, ...]:
    return (*spec.by, BIN) if spec.measure == "histogram" else spec.by


def public_keys(spec: ReportSpec) -> list[tuple[str, ...]] | None:
    """Every partition the report releases, when all of its keys are public."""
    if spec.private_dimensions:
        return None
    lists = [spec.keys[d] for d in spec.by]
    if spec.measure == "histogram":
        lists.append(spec.bin_labels)
    return list(itertools.product(*lists))


def partition_columns(spec: ReportSpec) -> tuple[str, ...]:
    """How :func:`contributions_sql` names a partition: ``pid``, its index in
    :func:`public_keys`, when the keys are public; else the key columns, as text."""
    return ("pid",) if public_keys(spec) is not None else key_columns(spec)


def contributions_sql(spec: ReportSpec, salt: int) -> tuple[str, list[object]]:
    """The bounded contributions (subject, partition columns…, n, s), one row per kept
    (subject, partition), and the query's parameters. ``subject`` is a 64-bit hash of
    the pseudonym: two subjects that collide are bounded together, which only lowers
    what each of them contributes."""
    low, high = spec.value_bounds or (0, 0)
    where = ["day BETWEEN ? AND ?"]
    params: list[object] = [spec.start, spec.end]
    if spec.kinds:
        where.append(f"kind IN ({', '.join('?' for _ in spec.kinds)})")
        params.extend(spec.kinds)
    if spec.consent is not None:
        where.append("list_contains(consented, ?)")
        params.append(spec.consent)
    value = "0"
    if spec.value_bounds is not None:
        where.append("value IS NOT NULL")
        value = f"LEAST(GREATEST(value, {low}), {high})"
    bins = list(itertools.pairwise(spec.bins))
    if public_keys(spec) is not None:
        return _public_sql(spec, salt, where, params, value, bins)
    dims = [f'"{d}"' for d in spec.by]
    where += [f"{d} IS NOT NULL" for d in dims]
    for d, listed in spec.keys.items():
        if d != "day":  # the window already limits days
            where.append(f'"{d}" IN (SELECT unnest(?::VARCHAR[]))')  # a hash semi-join
            params.append(list(listed))
    if bins:
        cases = " ".join(f"WHEN v >= {lo} AND v < {hi} THEN '[{lo},{hi})'" for lo, hi in bins)
        dims.append(f"CASE {cases} END AS {BIN}")
    columns = ", ".join(f'"{k}"' for k in key_columns(spec))
    text = ", ".join(f'CAST("{k}" AS VARCHAR) AS "{k}"' for k in key_columns(spec))
    sql = f"""
        WITH source AS (
            SELECT hash(subject) AS subject, {value} AS v, {", ".join(f'"{d}"' for d in spec.by)}
            FROM events WHERE {" AND ".join(where)}
        ),
        keyed AS (SELECT subject, v, {", ".join(dims)} FROM source),
        {_cells(spec, columns, f"{BIN} IS NOT NULL" if bins else "TRUE")},
        ordered AS (SELECT *, hash(subject, {columns}, ?::BIGINT) AS u FROM cells),
        {_kept(spec.max_partitions)}
        SELECT subject, {text}, n, s FROM kept
    """
    return sql, [*params, salt]


def _public_sql(
    spec: ReportSpec,
    salt: int,
    where: list[str],
    params: list[object],
    value: str,
    bins: list[tuple[int, int]],
) -> tuple[str, list[object]]:
    """Public keys: each event's partition as one integer (its index in
    :func:`public_keys`, mixed radix over the key lists) from hash joins with the key
    lists, so the heavy grouping is over integers. Each subject keeps the ``K`` cells
    with the smallest ``hash(subject, pid, salt)`` — made unique by putting ``pid`` in
    its low 20 bits (MAX_KEYS < 2^20), so :func:`_kept` never meets a tie."""
    sizes = [len(spec.keys[d]) for d in spec.by] + ([len(bins)] if bins else [])
    strides = [1] * len(sizes)
    for i in range(len(sizes) - 2, -1, -1):
        strides[i] = strides[i + 1] * sizes[i + 1]
    joins, terms = [], []
    select_params: list[object] = []
    join_params: list[object] = []
    for i, d in enumerate(spec.by):
        if d == "day":
            terms.append(f"(e.day - ?::DATE) * {strides[i]}")
            select_params.append(spec.start)
            continue
        joins.append(
            "JOIN (SELECT unnest(?::VARCHAR[]) AS key, generate_subscripts(?::VARCHAR[], 1) - 1"
            f' AS idx) AS k{i} ON CAST(e."{d}" AS VARCHAR) = k{i}.key'
        )
        join_params += [list(spec.keys[d])] * 2
        terms.append(f"k{i}.idx * {strides[i]}")
    pid = "base"
    if bins:
        cases = " ".join(f"WHEN v >= {lo} AND v < {hi} THEN {j}" for j, (lo, hi) in enumerate(bins))
        pid = f"base + CASE {cases} END"
    sql = f"""
        WITH source AS (
            SELECT hash(e.subject) AS subject, {value} AS v,
                   ({" + ".join(terms) or "0"})::BIGINT AS base
            FROM events e {" ".join(joins)} WHERE {" AND ".join(where)}
        ),
        keyed AS (SELECT subject, v, {pid} AS pid FROM source),
        {_cells(spec, "pid", "pid IS NOT NULL")},
        ordered AS (
            SELECT *, ((hash(subject, pid, ?::BIGINT) >> 20) << 20) | pid::UBIGINT AS u
            FROM cells
        ),
        {_kept(spec.max_partitions)}
        SELECT subject, pid, n, s FROM kept
    """
    params = [*select_params, *join_params, *params]
    return sql, [*params, salt]


def _cells(spec: ReportSpec, columns: str, keep: str) -> str:
    """Every (subject, partition): events capped at C; the value sum as that capped
    count times the subject's mean value there (≤ C * high, consistent with n), or 0
    when the report reads no value (no average taken over every event for nothing)."""
    c = spec.max_per_partition
    s = f"ROUND(LEAST(COUNT(*), {c}) * AVG(v))" if spec.value_bounds is not None else "0"
    return f"""cells AS (
            SELECT subject, {columns}, LEAST(COUNT(*), {c})::BIGINT AS n, {s}::BIGINT AS s
            FROM keyed WHERE {keep} GROUP BY ALL
        )"""


def _kept(k: int) -> str:
    """Of each subject's cells in ``ordered`` (each with a 64-bit draw ``u``), the
    ``K`` with the smallest draws — a per-subject cut-off (one hash aggregation and a
    join) instead of a window sort, ~20% faster over 450,000 cells (docs/benchmarks.md,
    session 21). Should the K-th and (K+1)-th smallest draws of a subject be equal,
    only the cells below the cut are kept: fewer than ``K``, never more."""
    return f"""cuts AS (
            SELECT subject, list_sort(min(u, {k + 1})) AS low FROM ordered GROUP BY subject
        ),
        bounds AS (
            SELECT subject, low[least(len(low), {k})] AS cut,
                   len(low) > {k} AND low[{k + 1}] = low[{k}] AS tied
            FROM cuts
        ),
        kept AS (
            SELECT ordered.* FROM ordered JOIN bounds USING (subject)
            WHERE u < cut OR (u = cut AND NOT tied)
        )"""


def bound(db: duckdb.DuckDBPyConnection, spec: ReportSpec, salt: int) -> Bounded:
    """Run the bounding over the view ``events`` on ``db``."""
    inner, params = contributions_sql(spec, salt)
    names = ", ".join(f'"{k}"' for k in partition_columns(spec))
    totals = f"SELECT {names}, SUM(n)::BIGINT, SUM(s)::BIGINT FROM ({inner}) GROUP BY ALL"
    rows = db.execute(totals, params).fetchall()
    keys = public_keys(spec)
    if keys is not None:
        rows = [(*keys[pid], n, s) for pid, n, s in rows]
    return assemble(spec, rows)


def assemble(spec: ReportSpec, rows: Iterable[Sequence[Any]]) -> Bounded:
    """Totals (key columns as text…, n, s) → Bounded: zero-filled over the public key
    set when there is one (partitions outside it dropped), else those that occur."""
    width = len(key_columns(spec))
    found = {tuple(r[:width]): (int(r[-2]), int(r[-1])) for r in rows}
    keys = public_keys(spec)
    if keys is None:
        keys = list(found)
    cells = [found.get(k, (0, 0)) for k in keys]
    return Bounded(keys, [c[0] for c in cells], [c[1] for c in cells])
