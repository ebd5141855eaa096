"""The ledger's cost on the read path, verification speed, and proof generation.

1. ``Vault.get`` with its ledger entry against the same read without one (decide, fetch,
   decrypt, transform — what ``get`` did before the ledger), same vault, same run.
2. ``Ledger.verify`` over N entries (default 1,000,000), as MB/s of entry bytes, against
   this machine's raw SHA-256 speed (hashlib over one large buffer: the physical limit).
3. Inclusion-proof generation for random entries of that ledger.

Run: ``.venv/bin/python benchmarks/bench_ledger.py [--entries 1000000] [--gets 20000]``
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from rich.progress import Progress

from needtoknow.config import Settings, init_vault
from needtoknow.demo.customers import customers
from needtoknow.ledger import log
from needtoknow.ledger.entry import Entry
from needtoknow.types import Context
from needtoknow.vault import Vault, access


def bench_get(vault: Vault, ids: list[str], gets: int) -> tuple[float, float]:
    """Microseconds per get: (with ledger, without)."""
    rng = random.Random(3)
    sample = [rng.choice(ids) for _ in range(gets)]

    def without(cid: str) -> object:
        context = Context(now=vault.clock())
        decision = vault.engine.decide("billing_team", "billing", None, context)
        found = vault.reader.fetch(cid)
        assert found is not None
        return access._open(vault, cid, decision, found.key, found.fields)

    def with_ledger(cid: str) -> object:
        return vault.get(cid, recipient="billing_team", purpose="billing").values

    results = {}
    for name, action in (("without", without), ("with", with_ledger)) * 2:  # warm, then time
        gc.collect()
        start = time.perf_counter()
        for cid in sample:
            action(cid)
        results[name] = (time.perf_counter() - start) / len(sample) * 1e6
    return results["with"], results["without"]


def bench_get_many(vault: Vault, ids: list[str], gets: int, batch: int) -> float:
    """Microseconds per customer for ``get_many`` in batches of ``batch``: the median of
    three rounds, since one fsync stalled by a checkpoint moves a single round a lot."""
    rng = random.Random(4)
    sample = [rng.choice(ids) for _ in range(gets)]
    rounds = []
    for _ in range(3):
        gc.collect()
        start = time.perf_counter()
        for lo in range(0, len(sample), batch):
            vault.get_many(sample[lo : lo + batch], recipient="billing_team", purpose="billing")
        rounds.append((time.perf_counter() - start) / len(sample) * 1e6)
    return statistics.median(rounds)


def load_entries(vault: Vault, count: int) -> int:
    """Append ``count`` realistic read entries in batches; returns total entry bytes."""
    now = datetime(2026, 11, 26, tzinfo=UTC)
    total, batch = 0, 10_000
    categories = ("address", "bank_account", "card_number", "email", "name", "telephone")
    with Progress(transient=True) as progress:
        task = progress.add_task("loading ledger entries", total=count)
        for start in range(0, count, batch):
            batch_entries = [
                Entry(
                    kind="read",
                    time=now,
                    actor="service:billing",
                    customer_id=str(uuid.UUID(int=i)),
                    recipient="billing_team",
                    purpose="billing",
                    legal_basis="voluntarily_provided",
                    decision="allow",
                    categories=categories,
                    transforms={"card_number": "last4", "bank_account": "last4"},
                    policy_version=vault.policy.version,
                    request_id=f"req-{i}",
                )
                for i in range(start, min(start + batch, count))
            ]
            vault.ledger.record_many(batch_entries)
            total += sum(len(entry.canonical()) for entry in batch_entries)
            progress.advance(task, min(batch, count - start))
    return total


def seal_costs(root: Path, backlog: int, batches: list[int]) -> list[tuple[int, float, float]]:
    """(batch, µs an entry, ms a batch) of sealing a ``backlog`` of read entries into one
    head, on a fresh vault per batch size: what a batch holds the write lock for."""
    costs = []
    for batch in batches:
        vault = init_vault(
            Settings(home=root / f"seal-{batch}", database_url=f"sqlite:///{root}/seal-{batch}.db")
        )
        vault.ledger.sign_head()
        load_entries(vault, backlog)
        start = time.perf_counter()
        vault.ledger.sign_head(batch)
        seconds = time.perf_counter() - start
        vault.close()
        costs.append((batch, seconds / backlog * 1e6, seconds / -(-backlog // batch) * 1e3))
    return costs


def commit_floor_us(path: Path, sync: str, commits: int = 5000) -> float:
    """Microseconds for the cheapest durable write: one 400-byte row committed through
    plain sqlite3 in WAL mode at the same synchronous setting (no ledger code at all)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={sync.upper()}")
    conn.execute("CREATE TABLE t (idx INTEGER PRIMARY KEY, entry BLOB NOT NULL)")
    row = os.urandom(400)
    start = time.perf_counter()
    for i in range(commits):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (?, ?)", (i, row))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed / commits * 1e6


def raw_sha256_mb_s() -> float:
    buffer = os.urandom(64 * 1024 * 1024)
    start = time.perf_counter()
    hashlib.sha256(buffer).digest()
    return len(buffer) / (time.perf_counter() - start) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--gets", type=int, default=20_000)
    parser.add_argument("--proofs", type=int, default=200)
    parser.add_argument(
        "--ledger-sync",
        choices=("full", "normal"),
        default="full",
        help="durability of read entries on SQLite (NTK_LEDGER_SYNC)",
    )
    parser.add_argument(
        "--seal-batches",
        default="250,500,1000,5000",
        help="batch sizes to seal a backlog of --seal-backlog entries with (comma-separated)",
    )
    parser.add_argument("--seal-backlog", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ntk-bench-ledger-") as work:
        root = Path(work)
        settings = Settings(
            home=root / "home", database_url=f"sqlite:///{root}/v.db", ledger_sync=args.ledger_sync
        )
        vault = init_vault(settings)
        ids = [vault.add(record).customer_id for record in customers(2000)]
        with_us, without_us = bench_get(vault, ids, args.gets)
        many_us = bench_get_many(vault, ids, args.gets, batch=100)
        floor_us = commit_floor_us(root / "floor.db", args.ledger_sync)

        entry_bytes = load_entries(vault, args.entries)
        start = time.perf_counter()
        head = vault.ledger.sign_head()
        sign_s = time.perf_counter() - start
        start = time.perf_counter()
        report = vault.ledger.verify()
        verify_s = time.perf_counter() - start
        assert report.ok, report.problems
        # What a nightly --since-head run reads: the 1% appended since the last head.
        added = load_entries(vault, args.entries // 100)
        since_head = vault.ledger.sign_head()
        start = time.perf_counter()
        later = vault.ledger.verify(since=head)
        since_s = time.perf_counter() - start
        assert later.ok and later.entries == since_head.tree_size, later.problems

        rng = random.Random(5)
        timings = []
        for _ in range(args.proofs):
            index = rng.randrange(head.tree_size)
            start = time.perf_counter()
            proof = vault.ledger.prove(index, head)
            timings.append((time.perf_counter() - start) * 1e3)
            proof.check(vault.keys.signing_public_key())
        raw = raw_sha256_mb_s()
        vault.close()
        batches = [int(size) for size in args.seal_batches.split(",")]
        seals = seal_costs(root, args.seal_backlog, batches)

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )
    ratio = with_us / without_us
    print(f"read entries committed with synchronous={args.ledger_sync.upper()}")
    print(
        f"get with ledger entry: {with_us:.1f} µs, without: {without_us:.1f} µs, "
        f"ratio {ratio:.2f}x (goal ≤ 1.5x: {'met' if ratio <= 1.5 else 'NOT met'})"
    )
    floor = (without_us + floor_us) / without_us
    print(
        f"  floor: a bare sqlite3 commit of one row takes {floor_us:.1f} µs, so no per-read "
        f"commit can beat {floor:.2f}x"
    )
    many = many_us / without_us
    print(
        f"get_many, 100 customers per commit: {many_us:.1f} µs per customer, "
        f"ratio {many:.2f}x (goal ≤ 1.5x: {'met' if many <= 1.5 else 'NOT met'})"
    )
    mb = entry_bytes / 1e6
    print(
        f"ledger: {head.tree_size} entries, {mb:.0f} MB of entries; signing the head "
        f"(sealing all interior nodes) took {sign_s:.1f} s"
    )
    print(
        f"verify: {verify_s:.2f} s (goal < 10 s: {'met' if verify_s < 10 else 'NOT met'}), "
        f"{mb / verify_s:.0f} MB/s of entries vs raw SHA-256 {raw:.0f} MB/s "
        f"({mb / verify_s / raw * 100:.1f}% of the limit)"
    )
    share = (since_head.tree_size - head.tree_size) / since_head.tree_size
    print(
        f"verify --since-head over the {since_head.tree_size - head.tree_size} entries "
        f"appended after it ({share:.1%}, {added / 1e6:.1f} MB): {since_s:.3f} s, "
        f"{since_s / verify_s:.3f}x the full verify (goal: proportional to the new "
        f"entries, ~{share:.3f}x)"
    )
    for batch, per_entry, per_batch in seals:
        print(
            f"sealing {args.seal_backlog} entries {batch} a transaction: {per_entry:.1f} µs "
            f"an entry, {per_batch:.1f} ms a batch (log.SEAL_BATCH is {log.SEAL_BATCH})"
        )
    median = statistics.median(timings)
    worst = max(timings)
    print(
        f"inclusion proof for one of {head.tree_size} entries: median {median:.2f} ms, "
        f"max {worst:.2f} ms (goal < 5 ms: {'met' if worst < 5 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
