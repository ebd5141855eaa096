"""An incident's scope over a large ledger: one API key, one day.

Builds a ledger of N read entries (default 10,000,000) spread over ``--days`` days, read
by ``--keys`` API keys for ``--recipients`` recipients, sealed (so the receipts index is
written as ``ntk serve`` writes it, at each seal), and then asks, for one key and one
day, who received what:

- the peer: a plain indexed SQL count of the same entries — a table of (actor, time)
  with an index on both, ``SELECT count(*) … WHERE actor = ? AND at >= ? AND at < ?``,
  in the same SQLite file system, same run: what the database cannot beat;
- the peer's answer: ``SELECT DISTINCT customer_id, categories`` over the same index
  (what a team would write to get the customers, not just their number);
- ours: ``Ledger.received`` (the receipts index range, grouped in the database), and the
  whole ``Incidents.scope`` (that, plus writing the incident's scope version and every
  affected customer's row, and its ledger entry).

Run: ``.venv/bin/python benchmarks/bench_scope.py [--entries 10000000] [--days 10]``
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.progress import Progress

from needtoknow.config import Settings, init_vault
from needtoknow.incidents import Incidents
from needtoknow.ledger import log
from needtoknow.ledger.entry import Entry, microseconds
from needtoknow.vault import Vault

START = datetime(2026, 11, 1, tzinfo=UTC)
CATEGORY_SETS = (
    ("email", "name", "telephone"),
    ("address", "email", "name"),
    ("bank_account", "card_number", "name"),
)
BATCH = 50_000


def entry_at(i: int, args: argparse.Namespace, step: timedelta) -> Entry:
    return Entry(
        kind="read",
        time=START + step * i,
        actor=f"api:k{i % args.keys:03d}",
        customer_id=str(uuid.UUID(int=i % args.customers)),
        recipient=f"team_{i % args.recipients:02d}",
        purpose="billing",
        legal_basis="voluntarily_provided",
        decision="allow",
        categories=CATEGORY_SETS[i % len(CATEGORY_SETS)],
        request_id=f"req-{i}",
    )


def load(vault: Vault, peer: sqlite3.Connection, args: argparse.Namespace) -> None:
    """Append the entries (in the ledger's own transactions, as the server would) and
    the same (actor, time, customer, categories) rows to the peer's table."""
    step = timedelta(days=args.days) / args.entries
    sql = log.statements(vault.db.dialect)
    with Progress(transient=True) as progress:
        task = progress.add_task("appending ledger entries", total=args.entries)
        for low in range(0, args.entries, BATCH):
            entries = [entry_at(i, args, step) for i in range(low, min(low + BATCH, args.entries))]
            with vault.db.begin() as conn:
                cursor = conn.connection.cursor()
                log.append_with(cursor, sql, [e.canonical() for e in entries])
                cursor.close()
            peer.executemany(
                "INSERT INTO t VALUES (?, ?, ?, ?)",
                [
                    (e.actor, microseconds(e.time), e.customer_id, ",".join(e.categories))
                    for e in entries
                ],
            )
            peer.commit()
            progress.advance(task, len(entries))


def median_ms(run: Callable[[], object], repeats: int) -> tuple[float, object]:
    timings, answer = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        answer = run()
        timings.append((time.perf_counter() - start) * 1e3)
    return statistics.median(timings), answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--recipients", type=int, default=5)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data", type=Path, default=None, help="keep the files here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ntk-bench-scope-") as work:
        root = args.data or Path(work)
        root.mkdir(parents=True, exist_ok=True)
        settings = Settings(home=root / "home", database_url=f"sqlite:///{root}/v.db")
        vault = init_vault(settings)
        peer = sqlite3.connect(root / "peer.db")
        peer.execute("PRAGMA journal_mode=WAL")
        peer.execute("CREATE TABLE t (actor TEXT, at INTEGER, customer_id TEXT, categories TEXT)")
        started = time.perf_counter()
        load(vault, peer, args)
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        peer.execute("CREATE INDEX t_actor_at ON t (actor, at)")
        peer.commit()
        index_s = time.perf_counter() - started
        started = time.perf_counter()
        vault.ledger.sign_head()
        seal_s = time.perf_counter() - started

        key, day = "k003", START + timedelta(days=args.days // 2)
        since, until = day, day + timedelta(days=1)
        window = (f"api:{key}", microseconds(since), microseconds(until))
        count_ms, count = median_ms(
            lambda: peer.execute(
                "SELECT count(*) FROM t WHERE actor = ? AND at >= ? AND at < ?", window
            ).fetchone()[0],
            args.repeats,
        )
        distinct_ms, distinct = median_ms(
            lambda: peer.execute(
                "SELECT DISTINCT customer_id, categories FROM t "
                "WHERE actor = ? AND at >= ? AND at < ?",
                window,
            ).fetchall(),
            args.repeats,
        )
        received_ms, received = median_ms(
            lambda: vault.ledger.received(f"actor:api:{key}", since, until), args.repeats
        )
        register = Incidents(vault)

        def scope() -> object:
            opened = register.open("data_leak", until, "A key leaked")
            return register.scope(opened.id, key=key, since=since, until=until)

        scope_ms, scoped = median_ms(scope, args.repeats)
        assert isinstance(received, dict) and isinstance(distinct, list)
        assert len(received) == len({row[0] for row in distinct}) == scoped.found  # type: ignore[attr-defined]
        sizes = {p.name: p.stat().st_size for p in root.glob("*.db")}
        vault.close()
        peer.close()

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.python_implementation()} {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}"
    )
    print(
        f"ledger: {args.entries:,} read entries over {args.days} days, {args.keys} keys; "
        f"appended in {load_s:.0f} s, sealed (nodes, customer and receipts indexes) in "
        f"{seal_s:.0f} s; peer index built in {index_s:.0f} s"
    )
    print("files: " + ", ".join(f"{name} {size / 1e9:.2f} GB" for name, size in sizes.items()))
    print(f"one key, one day: {count} entries, {len(received)} customers")
    print(f"peer  indexed count(*)            {count_ms:8.2f} ms")
    print(f"peer  indexed SELECT DISTINCT     {distinct_ms:8.2f} ms")
    ratio = received_ms / count_ms
    print(
        f"ours  Ledger.received              {received_ms:8.2f} ms  "
        f"{ratio:.2f}x the count (goal ≤ 3x: {'met' if ratio <= 3 else 'NOT met'}), "
        f"{received_ms / distinct_ms:.2f}x the DISTINCT"
    )
    print(
        f"ours  Incidents.scope (whole)      {scope_ms:8.2f} ms  "
        f"{scope_ms / count_ms:.2f}x the count, {scope_ms / distinct_ms:.2f}x the DISTINCT"
    )


if __name__ == "__main__":
    main()
