"""Contribution bounding, in DuckDB: the step OpenDP cannot certify for us.

OpenDP's noise is calibrated to a sensitivity we declare — one subject changes at most
``K`` partitions (``max_partitions``) by at most ``C`` events each (``max_per_partition``;
for sums, ``C * high``). This SQL is what makes that declaration true:

1. **cells**: every (subject, partition) pair, its event count capped at ``C`` and its
   value sum taken as that capped count * the subject's mean value there (values are
   first clamped to the declared bounds), so it is at most ``C * high`` and a heavy
   user's sum and count stay consistent for means;
2. **bounded**: of each subject's cells, ``K`` chosen at random — by a keyed hash of
   (subject, partition, a fresh salt per report), so the choice depends on nothing but
   that subject's own cells and cannot be steered by anyone else's;
3. the per-partition totals of ``bounded`` are all that reach the noise step.

``tests/analytics/test_bounding.py`` proves the bounds on ``bounded`` for random and
adversarial subjects. What comes out of here is exact and must never leave the process
un-noised: only :mod:`needtoknow.analytics.reports` calls it.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass

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


def contributions_sql(spec: ReportSpec, salt: int) -> tuple[str, list[object]]:
    """The ``bounded`` relation (subject, key columns…, n, s) and its parameters."""
    low, high = spec.value_bounds or (0, 0)
    c = spec.max_per_partition
    dims = [f'CAST("{d}" AS VARCHAR) AS "{d}"' for d in spec.by]
    where = ["day BETWEEN ? AND ?", *(f'"{d}" IS NOT NULL' for d in spec.by)]
    params: list[object] = [spec.start, spec.end]
    for d, listed in spec.keys.items():
        if d != "day":  # the window already limits days
            where.append(f'list_contains(?::VARCHAR[], CAST("{d}" AS VARCHAR))')
            params.append(list(listed))
    if spec.kinds:
        where.append(f"kind IN ({', '.join('?' for _ in spec.kinds)})")
        params.extend(spec.kinds)
    value = "0"
    if spec.value_bounds is not None:
        where.append("value IS NOT NULL")
        value = f"LEAST(GREATEST(value, {low}), {high})"
    if spec.measure == "histogram":
        edges = spec.bins
        cases = " ".join(
            f"WHEN v >= {lo} AND v < {hi} THEN '[{lo},{hi})'"
            for lo, hi in itertools.pairwise(edges)
        )
        dims.append(f"CASE {cases} END AS {BIN}")
    columns = ", ".join(f'"{k}"' for k in key_columns(spec))
    sql = f"""
        WITH source AS (
            SELECT subject, {value} AS v, {", ".join(f'"{d}"' for d in spec.by) or "1 AS one"}
            FROM events WHERE {" AND ".join(where)}
        ),
        keyed AS (SELECT subject, v, {", ".join(dims)} FROM source),
        cells AS (
            SELECT subject, {columns},
                   LEAST(COUNT(*), {c})::BIGINT AS n,
                   ROUND(LEAST(COUNT(*), {c}) * AVG(v))::BIGINT AS s
            FROM keyed WHERE {" AND ".join(f'"{k}" IS NOT NULL' for k in key_columns(spec))}
            GROUP BY ALL
        )
        SELECT subject, {columns}, n, s FROM cells
        QUALIFY ROW_NUMBER() OVER (
            PARTITION BY subject ORDER BY hash(subject, {columns}, ?::BIGINT)
        ) <= {spec.max_partitions}
    """
    return sql, [*params, salt]


def bound(db: duckdb.DuckDBPyConnection, spec: ReportSpec, salt: int | None = None) -> Bounded:
    """Run the bounding over the view ``events`` on ``db``; zero-filled over the public
    key set when there is one, else only the partitions that occur."""
    salt = secrets.randbits(62) if salt is None else salt
    inner, params = contributions_sql(spec, salt)
    columns = key_columns(spec)
    names = ", ".join(f'"{k}"' for k in columns)
    totals = f"SELECT {names}, SUM(n)::BIGINT AS n, SUM(s)::BIGINT AS s FROM ({inner}) GROUP BY ALL"
    keys = public_keys(spec)
    if keys is None:
        rows = db.execute(totals, params).fetchall()
        return Bounded(
            [tuple(r[: len(columns)]) for r in rows], [r[-2] for r in rows], [r[-1] for r in rows]
        )
    found = {
        tuple(r[: len(columns)]): (r[-2], r[-1]) for r in db.execute(totals, params).fetchall()
    }
    zero = (0, 0)
    cells = [found.get(k, zero) for k in keys]
    return Bounded(keys, [c[0] for c in cells], [c[1] for c in cells])
