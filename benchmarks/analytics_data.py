"""Synthetic usage events for ``bench_analytics``: one Parquet file, as the store holds them.

The rows look like what ``EventStore`` keeps after ingestion (its schema: the
subject is already a 16-hex-digit pseudonym, free text already scrubbed; its row
groups of ``store.BATCH`` rows), with the
vocabulary of ``needtoknow.analytics.demo`` (500 pages, 2,000 search terms, 30 days
from 2026-11-01, Indian state codes). ``demo.events`` yields one dict at a time, far
too slow for 10M rows, so this draws whole columns with numpy instead, ~1M rows per
chunk, so memory stays flat (~360 MB peak, checked over 10 chunks) whatever the count.

Skew is what makes contribution bounding matter: subject activity is log-normal
(sigma 1.8: at 10M events the median subject has ~10 events, the busiest ~30,000,
the top 1% of subjects make ~30% of events); pages, terms, links and ads are Zipf-like
with the demo's own rank rule (``floor(Pareto(1.1))``, the tail lumped on the last item).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from needtoknow.analytics.demo import ADS, LINKS, PAGES, PLANS, REGIONS, TERMS
from needtoknow.analytics.store import BATCH

# The 9 columns the store held when this benchmark was written (``store.SCHEMA`` has
# since gained ``value``, which no query here reads), spelled out so the data stay put.
SCHEMA = pa.schema(
    [("kind", pa.string()), ("day", pa.date32()), ("subject", pa.string())]
    + [(name, pa.string()) for name in ("page", "link", "ad", "search", "plan", "region")]
    # Every subject consented to advertising when its events came in: the demo policy's
    # advertiser reports count only consenting customers' events (requires_consent), and
    # the peers count every event, so all consent and the comparison stays like for like.
    + [("consented", pa.list_(pa.string()))]
)

START = date(2026, 11, 1)
DAYS = 30
KINDS = ("page_view", "link_click", "ad_click", "search", "plan_subscribed")
KIND_WEIGHTS = np.array([60, 15, 8, 15, 2]) / 100
CHUNK = 1_000_000
ACTIVITY_SIGMA = 1.8  # log-normal spread of events per subject
ZIPF_SHAPE = 1.1  # as demo._zipf


def generate(path: Path, events: int, subjects: int = 200_000, seed: int = 2026) -> None:
    """Write ``events`` synthetic events to the Parquet file ``path`` (whole or not at all:
    a temporary file renamed at the end, so an interrupted run leaves no half cache)."""
    rng = np.random.default_rng(seed)
    pseudonyms = [f"{x:016x}" for x in rng.integers(0, 2**64, subjects, dtype=np.uint64).tolist()]
    activity = rng.lognormal(0.0, ACTIVITY_SIGMA, subjects)
    owners = (pa.array(pseudonyms), activity / activity.sum())
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".partial")
    with pq.ParquetWriter(temporary, SCHEMA) as writer:
        for start in range(0, events, CHUNK):
            writer.write_table(_chunk(rng, *owners, min(CHUNK, events - start)), BATCH)
    temporary.replace(path)


def _chunk(
    rng: np.random.Generator, pseudonyms: pa.Array, weights: np.ndarray, rows: int
) -> pa.Table:
    """``rows`` events; each is a subject's with probability ``weights``."""
    kind = rng.choice(len(KINDS), rows, p=KIND_WEIGHTS)
    subject = rng.choice(len(weights), rows, p=weights)
    day = np.datetime64(START, "D").astype(np.int32) + rng.integers(0, DAYS, rows, dtype=np.int32)
    columns = {
        "kind": _strings(kind, pa.array(KINDS)),
        "day": pa.array(day, pa.int32()).cast(pa.date32()),
        "subject": _strings(subject, pseudonyms),
        "page": _strings(_zipf(rng, len(PAGES), rows), pa.array(PAGES)),
        "link": _strings(_zipf(rng, len(LINKS), rows), pa.array(LINKS), kind != 1),
        "ad": _strings(_zipf(rng, len(ADS), rows), pa.array(ADS), kind != 2),
        "search": _strings(_zipf(rng, len(TERMS), rows), pa.array(TERMS), kind != 3),
        "plan": _strings(rng.integers(0, len(PLANS), rows), pa.array(list(PLANS)), kind != 4),
        "region": _strings(rng.integers(0, len(REGIONS), rows), pa.array(REGIONS)),
        "consented": pa.array([["advertising"]] * rows, pa.list_(pa.string())),
    }
    return pa.table([columns[name] for name in SCHEMA.names], schema=SCHEMA)


def _zipf(rng: np.random.Generator, items: int, rows: int) -> np.ndarray:
    """0-based ranks as ``demo._zipf`` draws them: ``min(items, floor(Pareto(1.1))) - 1``."""
    ranks = np.floor(1.0 + rng.pareto(ZIPF_SHAPE, rows)).astype(np.int64)
    return np.minimum(ranks, items) - 1


def _strings(index: np.ndarray, values: pa.Array, null: np.ndarray | None = None) -> pa.Array:
    """``values[index]`` as a plain string column (null where ``null``), built through a
    dictionary array so that no Python string is made per row."""
    indices = pa.array(index.astype(np.int32), mask=null)
    return pa.DictionaryArray.from_arrays(indices, values).cast(pa.string())
