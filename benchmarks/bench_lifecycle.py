"""A retention run against a plain ``DELETE`` of the same rows, on SQLite and PostgreSQL.

N customers (default 1,000,000): 60% open, 30% closed last month (kept: their purposes
still serve), 10% closed three years ago (expired: every category past its purposes and
the DPDP Rules' year, no hold). Each holds two sealed categories and one blind-index
digest; the rows are written in bulk with random key and ciphertext bytes (a whole
customer's erasure decrypts nothing, so the bytes need not open).

- needtoknow: ``Vault.erasures.run()`` — reads every closed account, plans every
  category against the demo policy and the legal holds, tombstones the expired
  customers, deletes their digests, ledgers one entry per erased customer and one for
  the run, records the scrubs and scrubs SQLite's files; checked afterwards to have
  erased exactly the expired rows.
- Peer (the limit): on an identical copy of the data, one transaction of
  ``DELETE FROM blind_indexes …`` and ``DELETE FROM customers WHERE closed_at < cutoff``
  — no plan, no ledger, no tombstone.

Goal: the run within 3x of the DELETE. Run: ``.venv/bin/python
benchmarks/bench_lifecycle.py [--customers 1000000] [--backends sqlite,postgresql]``
(PostgreSQL needs ``NTK_TEST_POSTGRES_URL``: ``source`` scripts/test-services.sh's output).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from rich.progress import Progress

from needtoknow.config import Settings, init_vault, open_vault
from needtoknow.storage.schema import blind_indexes, customers, ledger_entries
from needtoknow.storage.store import pack_fields

NOW = datetime.now(UTC)
CUTOFF = NOW - timedelta(days=365 * 2)


def populate(engine: sa.Engine, count: int) -> int:
    """Write ``count`` customers in bulk; returns how many have expired."""
    expired = 0
    batch = 20_000
    with Progress(transient=True) as bar:
        task = bar.add_task("writing customers", total=count)
        for start in range(0, count, batch):
            rows, digests = [], []
            for i in range(start, min(start + batch, count)):
                kind = i % 10
                closed = None if kind < 6 else NOW - timedelta(days=30 if kind < 9 else 1100)
                expired += kind == 9
                cid = str(uuid.UUID(int=i + 1))
                moment = closed or NOW - timedelta(days=400)
                rows.append(
                    {
                        "id": cid,
                        "dek_version": 1,
                        "kek_version": 1,
                        "wrapped_dek": os.urandom(60),
                        "sealed_fields": pack_fields(
                            {"name": os.urandom(40), "email": os.urandom(48)}
                        ),
                        "created_at": moment,
                        "updated_at": moment,
                        "closed_at": closed,
                        "closed_reason": "non_payment" if closed else None,
                    }
                )
                digests.append({"category": "email", "digest": os.urandom(32), "customer_id": cid})
            with engine.begin() as conn:
                conn.execute(customers.insert(), rows)
                conn.execute(blind_indexes.insert(), digests)
            bar.advance(task, len(rows))
    return expired


def plain_delete(engine: sa.Engine) -> tuple[float, int]:
    """Seconds to delete the expired customers and their digests in one transaction."""
    started = time.perf_counter()
    with engine.begin() as conn:
        expired = sa.select(customers.c.id).where(customers.c.closed_at < CUTOFF)
        conn.execute(blind_indexes.delete().where(blind_indexes.c.customer_id.in_(expired)))
        deleted = conn.execute(customers.delete().where(customers.c.closed_at < CUTOFF)).rowcount
    return time.perf_counter() - started, int(deleted)


@contextmanager
def sqlite_pair(home: Path) -> Iterator[tuple[Settings, str]]:
    """The run's vault (SQLite) and a copy of its database file for the DELETE."""
    settings = Settings(home=home / "vault", database_url=f"sqlite:///{home / 'vault.db'}")
    yield settings, f"sqlite:///{home / 'copy.db'}"


@contextmanager
def postgres_pair(home: Path) -> Iterator[tuple[Settings, str]]:
    admin_url = os.environ.get("NTK_TEST_POSTGRES_URL")
    if not admin_url:
        raise SystemExit("PostgreSQL: set NTK_TEST_POSTGRES_URL (source scripts/test-services.sh)")
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    names = [f"ntk_bench_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    url = sa.engine.make_url(admin_url)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{names[0]}"'))
    try:
        settings = Settings(
            home=home / "vault",
            database_url=url.set(database=names[0]).render_as_string(hide_password=False),
        )
        yield settings, url.set(database=names[1]).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def copy_database(backend: str, settings: Settings, copy_url: str) -> None:
    if backend == "sqlite":
        source = settings.database_url.removeprefix("sqlite:///")
        with sa.create_engine(settings.database_url).connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copyfile(source, copy_url.removeprefix("sqlite:///"))
        return
    url = sa.engine.make_url(copy_url)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    original = sa.engine.make_url(settings.database_url).database
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{url.database}" TEMPLATE "{original}"'))
    admin.dispose()


def bench(backend: str, count: int) -> None:
    pair = sqlite_pair if backend == "sqlite" else postgres_pair
    with tempfile.TemporaryDirectory() as home, pair(Path(home)) as (settings, copy_url):
        vault = init_vault(settings, clock=lambda: NOW)
        started = time.perf_counter()
        expired = populate(vault.db, count)
        vault.close()
        vault.db.dispose()
        copy_database(backend, settings, copy_url)
        setup = time.perf_counter() - started

        vault = open_vault(settings, clock=lambda: NOW)
        with Progress(transient=True) as bar:
            task = bar.add_task("retention run", total=vault.erasures.closed_count())
            started = time.perf_counter()
            report = vault.erasures.run(progress=lambda n: bar.advance(task, n))
            ran = time.perf_counter() - started
        with vault.db.connect() as conn:
            tombstones = conn.execute(
                sa.select(sa.func.count()).where(customers.c.wrapped_dek.is_(None))
            ).scalar_one()
            early = conn.execute(
                sa.select(sa.func.count()).where(
                    customers.c.wrapped_dek.is_(None), customers.c.closed_at >= CUTOFF
                )
            ).scalar_one()
            entries = conn.execute(sa.select(sa.func.count()).select_from(ledger_entries)).scalar()
        vault.close()
        assert tombstones == expired and early == 0, (tombstones, expired, early)
        assert report.examined == expired and entries and entries > expired

        peer = sa.create_engine(copy_url)
        deleted_in, deleted = plain_delete(peer)
        peer.dispose()
        assert deleted == expired, (deleted, expired)

    ratio = ran / deleted_in
    print(
        f"{backend:<11} {count:>10,} customers ({expired:,} expired; setup {setup:.0f} s): "
        f"retention run {ran:.2f} s = {expired / ran:,.0f} erased/s, "
        f"{report.examined / ran:,.0f} examined/s; plain DELETE {deleted_in:.2f} s = "
        f"{expired / deleted_in:,.0f}/s; ratio {ratio:.2f}x — "
        f"retention run within 3x of a plain DELETE: {'met' if ratio <= 3 else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"CPython {platform.python_version()}"
    )
    for backend in args.backends.split(","):
        bench(backend.strip(), args.customers)


if __name__ == "__main__":
    main()
