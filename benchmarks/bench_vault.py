"""Vault put/get against plain SQLite storing the same record as JSON.

needtoknow: ``Vault.add`` (validate, normalise, per-customer DEK, per-field AES-GCM, blind
indexes, one transaction) and ``Vault.get`` for ``billing_team``/``billing`` (policy
decision, DEK unwrap, decrypt of the six allowed fields, transforms).
Peer: the stdlib ``sqlite3`` module, one table ``(id TEXT PRIMARY KEY, doc TEXT)``,
``INSERT`` of ``json.dumps(record)`` and ``SELECT`` + ``json.loads`` — no policy, no
crypto. Both use the same durability settings (WAL, synchronous=FULL, one commit per
customer) so the ratio measures needtoknow's work, not a journal mode.

Run: ``.venv/bin/python benchmarks/bench_vault.py [--customers 100000] [--gets 20000]``
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.progress import track

from needtoknow.config import Settings, init_vault
from needtoknow.demo.customers import customers


def timed(label: str, items: list[Any], action: Callable[[Any], object], bar: bool) -> float:
    """Operations per second for ``action`` over ``items``.

    The progress bar is for the slow loops only: its per-item cost would distort a loop
    whose operations take microseconds.
    """
    loop = track(items, description=label, transient=True) if bar else items
    start = time.perf_counter()
    for item in loop:
        action(item)
    return len(items) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--gets", type=int, default=20_000)
    args = parser.parse_args()
    records = list(customers(args.customers))
    rng = random.Random(7)

    with tempfile.TemporaryDirectory(prefix="ntk-bench-") as work:
        root = Path(work)
        vault = init_vault(Settings(home=root / "home", database_url=f"sqlite:///{root}/v.db"))
        ids: list[str] = []
        ours_put = timed(
            "needtoknow put", records, lambda r: ids.append(vault.add(r).customer_id), bar=True
        )

        peer = sqlite3.connect(root / "peer.db", isolation_level=None)
        peer.execute("PRAGMA journal_mode=WAL")
        peer.execute("PRAGMA synchronous=FULL")
        peer.execute("CREATE TABLE customers (id TEXT PRIMARY KEY, doc TEXT NOT NULL)")

        def peer_put(pair: tuple[str, dict[str, Any]]) -> None:
            peer.execute("BEGIN")
            peer.execute("INSERT INTO customers VALUES (?, ?)", (pair[0], json.dumps(pair[1])))
            peer.execute("COMMIT")

        peer_put_rate = timed(
            "sqlite3 put", list(zip(ids, records, strict=True)), peer_put, bar=True
        )

        sample = [rng.choice(ids) for _ in range(args.gets)]
        fields = vault.get(sample[0], recipient="billing_team", purpose="billing").values

        def ours_get(cid: str) -> object:
            return vault.get(cid, recipient="billing_team", purpose="billing").values

        def peer_get(cid: str) -> object:
            row = peer.execute("SELECT doc FROM customers WHERE id = ?", (cid,)).fetchone()
            return json.loads(row[0])

        for warm in sample[:1000]:
            ours_get(warm), peer_get(warm)
        ours_get_rate = timed("needtoknow get", sample, ours_get, bar=False)
        peer_get_rate = timed("sqlite3 get", sample, peer_get, bar=False)
        size_ours = sum(p.stat().st_size for p in root.glob("v.db*"))
        size_peer = sum(p.stat().st_size for p in root.glob("peer.db*"))

    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    print(
        f"{args.customers} customers, {args.gets} random gets "
        f"(billing_team/billing: {len(fields)} fields decrypted and transformed)"
    )
    print(
        f"{'operation':12s} {'needtoknow ops/s':>17s} {'sqlite3+json ops/s':>19s} {'slowdown':>9s}"
    )
    for name, ours, theirs in (
        ("put", ours_put, peer_put_rate),
        ("get", ours_get_rate, peer_get_rate),
    ):
        print(f"{name:12s} {ours:17,.0f} {theirs:19,.0f} {theirs / ours:8.2f}x")
    print(
        f"database size: needtoknow {size_ours / 1e6:.1f} MB, sqlite3+json {size_peer / 1e6:.1f} MB"
    )
    slowdown = peer_get_rate / ours_get_rate
    print(
        f"get within 3x of plain select: {'met' if slowdown <= 3 else 'NOT met'} ({slowdown:.2f}x)"
    )


if __name__ == "__main__":
    main()
