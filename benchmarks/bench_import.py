"""A bulk import against one ``Vault.add`` per transaction, and its memory over a
million rows.

- needtoknow: ``import_rows`` over a JSON Lines file of synthetic customers (Faker
  en_IN, valid check digits: ``needtoknow.demo.customers``), batches of 500 — each row
  validated and normalised, a data key and AES-GCM per field, blind indexes, one
  transaction and one ledger commit per batch.
- the same with 1 and 2 worker processes validating and sealing batches while the
  main process reads and writes (``ntk customer import``'s default on a file of 1 MiB
  or more: the CPU count, up to 4).
- Peer: ``Vault.add`` for each of the same records, one transaction (and fsync) each:
  what importing meant before. Same vault settings (SQLite, WAL, synchronous=FULL).

Goal: the import at least 5x the peer's throughput. Then a --rows import (default
1,000,000) generated on the fly reports the peak resident memory after 10% of the rows
and at the end: constant memory means the two are about the same.

Run: ``.venv/bin/python benchmarks/bench_import.py [--customers 20000] [--rows 1000000]
[--workers 0 1 2]``
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import resource
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from rich.progress import Progress

from needtoknow.config import Settings, init_vault, open_vault
from needtoknow.demo.customers import customers
from needtoknow.imports.rows import Row, read_rows
from needtoknow.imports.run import import_rows


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def throughput(count: int, root: Path, workers: list[int]) -> tuple[dict[int, float], float]:
    """Rows per second of the import with each number of worker processes (0: all in
    this one), and of the peer."""
    records = list(customers(count))
    source = root / "customers.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in records), "utf-8")
    peer_vault = init_vault(Settings(home=root / "peer", database_url=f"sqlite:///{root}/p.db"))
    started = time.perf_counter()
    for record in records[: count // 4]:
        peer_vault.add(record)
    peer = (count // 4) / (time.perf_counter() - started)
    peer_vault.close()
    rates = {}
    for n in workers:
        settings = Settings(home=root / f"ours{n}", database_url=f"sqlite:///{root}/o{n}.db")
        vault = init_vault(settings)
        opener = functools.partial(open_vault, settings)
        started = time.perf_counter()  # worker start-up (a process, the vault opened) counts
        with source.open(encoding="utf-8") as stream:
            rows = read_rows(stream, "jsonl", vault.registry)
            report = import_rows(vault, rows, batch=500, opener=opener, workers=n)
        rates[n] = report.added / (time.perf_counter() - started)
        vault.close()
        assert report.added == count and report.refused == 0, report.to_json()
    return rates, peer


def memory(rows: int, root: Path) -> tuple[float, float, float]:
    vault = init_vault(Settings(home=root / "big", database_url=f"sqlite:///{root}/big.db"))

    def generated() -> Iterator[Row]:
        for number, record in enumerate(customers(rows), 1):
            yield Row(number, record, f"crm-{number}")

    done, early = [0], [0.0]
    started = time.perf_counter()
    with Progress(transient=True) as bar:
        task = bar.add_task("importing", total=rows)

        def progress(n: int) -> None:
            done[0] += n
            bar.advance(task, n)
            if not early[0] and done[0] >= rows // 10:
                early[0] = peak_mib()

        report = import_rows(vault, generated(), batch=500, progress=progress)
    elapsed = time.perf_counter() - started
    vault.close()
    assert report.added == rows
    return early[0], peak_mib(), rows / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"CPython {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory(prefix="ntk-bench-") as work:
        rates, peer = throughput(args.customers, Path(work), args.workers)
        for n, ours in rates.items():
            ratio = ours / peer
            print(
                f"import with {n} worker processes {ours:,.0f}/s vs one Vault.add per "
                f"transaction {peer:,.0f}/s: {ratio:.1f}x — at least 5x: "
                f"{'met' if ratio >= 5 else 'NOT met'}"
            )
    if args.rows:
        with tempfile.TemporaryDirectory(prefix="ntk-bench-") as work:
            early, late, rate = memory(args.rows, Path(work))
            print(
                f"{args.rows:,} rows imported at {rate:,.0f}/s; peak RSS {early:.0f} MiB "
                f"after 10%, {late:.0f} MiB at the end ({late / early:.2f}x)"
            )


if __name__ == "__main__":
    main()
