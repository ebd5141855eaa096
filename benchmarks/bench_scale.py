"""The vault at scale: N synthetic customers loaded with the bulk import, then served.

1. **Load**: ``import_rows`` over generated customers (Faker en_IN, valid check digits:
   ``needtoknow.demo.customers``), batches of 500 — each row validated, sealed (a data
   key, AES-GCM per field), blind-indexed and ledgered, as ``ntk customer import`` does.
   Reported: rows per second (generation included), and the database's bytes per
   customer by table: sealed records, blind indexes, ledger (entries, nodes, indexes).
2. **Serve**: ``ntk serve --workers W`` on the loaded vault; ``wrk`` (one thread, 50
   connections) drives reads of random customers, then lookups by e-mail, then
   corrections, each for ``--seconds``: p50 and p99 of each, and the ledger entries they
   added per second (what a day at that rate adds to the ledger).

The peer for read latency is the same vault at another size: run it at 1M and at 4M
(goal: p99 of reads at 4M within 1.2x of 1M). Results and the cost model they project
to the seed's 17 million customers are in docs/scale.md.

Run: ``.venv/bin/python benchmarks/bench_scale.py --customers 1000000 [--database
postgresql] [--keep DIR]`` (PostgreSQL: a new database from NTK_TEST_POSTGRES_URL).
With ``--keep``, the loaded vault (and its PostgreSQL database) stays; run again with the
same ``--keep`` to serve it again without loading (the load figures are kept with it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bench_http
import sqlalchemy as sa
from rich.progress import Progress

from needtoknow.config import Settings, init_vault, open_vault
from needtoknow.demo.customers import customers
from needtoknow.imports.rows import Row
from needtoknow.imports.run import import_rows
from needtoknow.storage.schema import customers as customer_table
from needtoknow.storage.schema import ledger_state

HERE = Path(__file__).parent
NTK = str(Path(sys.executable).with_name("ntk"))
EMAILS = 2000  # customers whose e-mails the lookups draw from (kept during the load)
LOOKUP = """
local emails, key = {}, os.getenv("BENCH_KEY")
for line in io.lines(os.getenv("BENCH_EMAILS")) do emails[#emails + 1] = line end
request = function()
  local body = string.format(
    '{"category":"email","value":"%s","purpose":"service_delivery"}',
    emails[math.random(#emails)])
  return wrk.format("POST", "/v1/customers/lookup",
    { ["X-API-Key"] = key, ["Content-Type"] = "application/json" }, body)
end
"""
READ = """
local ids, key = {}, os.getenv("BENCH_KEY")
for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
request = function()
  return wrk.format("GET", "/v1/customers/" .. ids[math.random(#ids)] .. "?purpose=billing",
    { ["X-API-Key"] = key })
end
"""
CORRECT = """
local ids, key = {}, os.getenv("BENCH_KEY")
for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
request = function()
  local body = string.format('{"fields":{"telephone":"+9198%08d"}}', math.random(0, 99999999))
  return wrk.format("PATCH", "/v1/customers/" .. ids[math.random(#ids)],
    { ["X-API-Key"] = key, ["Content-Type"] = "application/json" }, body)
end
"""
REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"non_2xx":%d,"errors":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def database_url(kind: str, root: Path) -> tuple[str, str | None]:
    """The vault's URL, and the PostgreSQL database to drop afterwards (if any)."""
    if kind == "sqlite":
        return f"sqlite:///{root}/home/vault.db", None
    admin = os.environ.get("NTK_TEST_POSTGRES_URL")
    if not admin:
        sys.exit("--database postgresql needs NTK_TEST_POSTGRES_URL (scripts/test-services.sh)")
    name = f"ntk_scale_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return sa.engine.make_url(admin).set(database=name).render_as_string(hide_password=False), name


def load(settings: Settings, count: int, emails: list[str]) -> float:
    """Import ``count`` customers; keeps a sample of their e-mails. Rows per second."""
    vault = init_vault(settings)
    keep = set(random.Random(1).sample(range(count), min(EMAILS, count)))

    def rows() -> Iterator[Row]:
        for number, record in enumerate(customers(count)):
            if number in keep:
                emails.append(record["email"])
            yield Row(number + 1, record, None)

    started = time.perf_counter()
    with Progress(transient=True) as bar:
        task = bar.add_task("loading customers", total=count)
        report = import_rows(vault, rows(), batch=500, progress=lambda n: bar.advance(task, n))
    seconds = time.perf_counter() - started
    vault.ledger.sign_head()  # seal: the ledger's indexes and nodes are part of its size
    vault.close()
    assert report.added == count, report.to_json()
    return count / seconds


def sizes(settings: Settings) -> dict[str, int]:
    """Bytes on disk by table (with its indexes)."""
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(
                "SELECT coalesce(m.tbl_name, s.name), sum(s.pgsize) FROM dbstat s "
                "LEFT JOIN sqlite_master m ON m.name = s.name GROUP BY 1"
            )
        else:
            rows = conn.exec_driver_sql(
                "SELECT relname, pg_total_relation_size(relid) "
                "FROM pg_catalog.pg_statio_user_tables"
            )
        found = {str(name): int(str(size)) for name, size in rows}
    engine.dispose()
    return found


def sample_ids(settings: Settings, count: int) -> list[str]:
    """Random customers for the reads and corrections: enough that their rows do not all
    stay in SQLite's page cache (2 MB a connection), so a read pays the B-tree's depth."""
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as conn:
        query = sa.select(customer_table.c.id).order_by(sa.func.random()).limit(count)
        result = [str(row[0]) for row in conn.execute(query)]
    engine.dispose()
    return result


def ledger_size(settings: Settings) -> int:
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as conn:
        size = int(conn.execute(sa.select(ledger_state.c.size)).scalar_one())
    engine.dispose()
    return size


def drive(
    url: str, script: str, seconds: float, clients: int, env: dict[str, str]
) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script + REPORT)
    try:
        result = subprocess.run(
            [
                *("wrk", "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s"),
                *("--timeout", "30s", "-s", lua.name, url),
            ],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(lua.name)
    measured: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return measured


def serve(settings: Settings, workers: int, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``ntk serve`` on the loaded vault (bench_http's way of starting and waiting)."""
    local = settings.database_url.startswith("sqlite")
    env = {
        "NTK_HOME": str(settings.home),
        "NTK_DATABASE_URL": "" if local else settings.database_url,
        "NTK_API_RATE": "1000000/second",
    }
    command = [NTK, "serve", "--port", str(port), "--workers", str(workers)]
    return bench_http.serve(command, env, port, log)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=20_000, help="customers read and corrected")
    parser.add_argument("--port", type=int, default=8761)
    parser.add_argument(
        "--keep",
        type=Path,
        help="Load into this directory and keep it; a directory kept before is served again.",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench_scale needs wrk (scripts/test-services.sh installs it)")
    root = args.keep or Path(tempfile.mkdtemp(prefix="ntk-bench-scale-"))
    loaded = root / "loaded.json"
    dropped = None
    if loaded.exists():  # a vault kept by an earlier run: serve it again
        figures = json.loads(loaded.read_text())
        if figures["customers"] != args.customers or figures["database"] != args.database:
            sys.exit(f"{root} holds {figures['customers']:,} customers on {figures['database']}")
        url = figures["url"]
    else:
        url, dropped = database_url(args.database, root)
    settings = Settings(home=root / "home", database_url=url)
    emails: list[str] = []
    try:
        if not loaded.exists():
            rate = load(settings, args.customers, emails)
            (root / "emails.txt").write_text("\n".join(emails) + "\n")
            figures = {
                "customers": args.customers,
                "database": args.database,
                "url": url,
                "rate": rate,
                "tables": sizes(settings),
                "entries": ledger_size(settings),
            }
            loaded.touch(mode=0o600)  # the PostgreSQL URL in it carries a password
            loaded.write_text(json.dumps(figures))
        ids = root / "ids.txt"
        sample = min(args.sample, args.customers)
        if not ids.exists() or len(ids.read_text().split()) != sample:
            ids.write_text("\n".join(sample_ids(settings, sample)) + "\n")
        vault = open_vault(settings)
        keys = vault.api_keys
        reader = keys.create("billing_team", ("customers:read",)).token
        finder = keys.create("support_team", ("customers:read",)).token
        writer = keys.create("support_team", ("customers:write",)).token
        vault.close()
        process = serve(settings, args.workers, args.port, root / "serve.log")
        base = f"http://127.0.0.1:{args.port}"
        env = {"BENCH_IDS": str(root / "ids.txt"), "BENCH_EMAILS": str(root / "emails.txt")}
        runs: dict[str, dict[str, Any]] = {}
        try:
            for name, script, key in (
                ("read", READ, reader),
                ("lookup", LOOKUP, finder),
                ("correction", CORRECT, writer),
            ):
                drive(base, script, 2, args.clients, {**env, "BENCH_KEY": key})  # warm up
                before = ledger_size(settings)
                runs[name] = drive(
                    base, script, args.seconds, args.clients, {**env, "BENCH_KEY": key}
                )
                runs[name]["entries"] = ledger_size(settings) - before
                runs[name]["rss"] = bench_http.rss_bytes(process.pid)
        finally:
            bench_http.stop(process)
    finally:
        if dropped is not None and args.keep is None:
            admin = os.environ["NTK_TEST_POSTGRES_URL"]
            engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{dropped}" WITH (FORCE)'))
            engine.dispose()
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)

    rate, tables, entries = figures["rate"], figures["tables"], figures["entries"]
    n = args.customers
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, CPython "
        f"{platform.python_version()}; {args.database}; {n:,} customers; "
        f"ntk serve --workers {args.workers}; {args.clients} connections, {args.seconds:.0f} s "
        f"each; reads and corrections of {sample:,} random customers; server RSS summed "
        "over its processes (pages they share counted in each)"
    )
    print(f"load: {rate:,.0f} customers/s ({n / rate / 60:.1f} min), ledger {entries:,} entries")
    total = sum(tables.values())
    print(f"database: {total / 1e9:.2f} GB, {total / n:,.0f} bytes per customer")
    for name, size in sorted(tables.items(), key=lambda item: -item[1])[:8]:
        print(f"  {name:<24} {size / 1e6:10.1f} MB  {size / n:8.0f} B/customer")
    for name, run in runs.items():
        rate_s = run["requests"] / (run["duration_us"] / 1e6)
        print(
            f"{name:<11} {rate_s:8.0f} req/s, p50 {run['p50_us'] / 1e3:7.2f} ms, p99 "
            f"{run['p99_us'] / 1e3:7.2f} ms, non-2xx {run['non_2xx']}, errors {run['errors']}; "
            f"{run['entries'] / (run['duration_us'] / 1e6):,.0f} ledger entries/s; "
            f"server RSS {run['rss'] / 2**20:,.0f} MiB"
        )


if __name__ == "__main__":
    main()
