"""Every statement the per-customer paths run finds its rows by a key, at any size.

A statement that walks a table growing with the customers costs nothing on a test vault
and everything at 1 M customers (a correction fell to 6 a second: docs/scale.md). SQLite
without statistics plans the same on a small file as on a large one, so the plans are
checked here, on every statement SQLite actually runs (traced, fast paths included).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

import pytest

from needtoknow.config import Settings, init_vault, open_vault
from needtoknow.demo.customers import customers
from needtoknow.imports.rows import Row
from needtoknow.imports.run import import_rows
from needtoknow.storage.schema import metadata

# Tables whose rows grow with customers or with the ledger: every table keyed by a
# customer or an entry, and the customers themselves. pending_scrubs is a queue that
# empties (an erasure's scrub waiting on a reader) and is read whole by design.
GROWING = {
    table.name for table in metadata.sorted_tables if "customer_id" in table.c or "idx" in table.c
} - {"pending_scrubs"} | {"customers"}
STEP = re.compile(
    r"^(SCAN|SEARCH) (\S+)(?: USING (AUTOMATIC )?(?:PARTIAL )?(?:COVERING )?"
    r"(?:INDEX(?: \w+)?|(?:INTEGER )?PRIMARY KEY) \((.*)\))?"
)
# A statement about one customer finds its rows by the customer's id (equality) or by
# ledger indexes (a window of entries is bounded by its two ends).
TABLES = {table.name for table in metadata.sorted_tables} | {"alembic_version", "sqlite_schema"}
KEYS = re.compile(r"\b(?:id|customer_id|rowid)=\?|\bidx[=<>]")  # an entry's idx is its rowid


@pytest.fixture
def traced(tmp_path: Path, sqlite_statements: list[str]) -> tuple[Path, list[str]]:
    """A path for a fresh vault, and the SQL of every statement it runs."""
    return tmp_path / "vault.db", sqlite_statements


def bad_steps(database: Path, statements: list[str], customer_ids: list[str]) -> list[str]:
    """Steps that walk a growing table: a SCAN, an index SQLite builds for the statement
    (AUTOMATIC), or a SEARCH of a statement about one customer that binds no key."""
    found = []
    with sqlite3.connect(database) as db:
        for sql in dict.fromkeys(statements):
            if not re.match(r"\s*(SELECT|UPDATE|DELETE|INSERT|REPLACE|WITH)", sql, re.I):
                continue
            about_one = any(customer_id in sql for customer_id in customer_ids)
            for *_, step in db.execute("EXPLAIN QUERY PLAN " + sql):
                match = STEP.match(step)
                if match is None:
                    continue
                walks = match[1] == "SCAN" or match[3] is not None
                unkeyed = about_one and not KEYS.search(match[4] or "")
                if match[2] not in GROWING:
                    if match[2] not in TABLES:  # an alias SQLite prints instead of a table
                        found.append(f"unknown table in {step}  <-  {sql[:200]}")
                    continue
                if walks or unkeyed:
                    found.append(f"{step}  <-  {sql[:200]}")
    return found


def test_per_customer_paths_find_rows_by_key(traced: tuple[Path, list[str]]) -> None:
    database, statements = traced
    settings = Settings(home=database.parent / "home", database_url=f"sqlite:///{database}")
    vault = init_vault(settings)
    rows = (Row(n + 1, record, None) for n, record in enumerate(customers(50)))
    import_rows(vault, rows, batch=20)
    one, two, three = vault.customer_ids(limit=3)  # the demo's listing, not a customer's path
    vault.close()
    statements.clear()

    vault = open_vault(settings).acting("support_team")
    email = vault.get(one, recipient="support_team", purpose="service_delivery").values["email"]
    vault.get_many([one, two, three], recipient="support_team", purpose="service_delivery")
    asyncio.run(vault.get_async(two, recipient="support_team", purpose="service_delivery"))
    vault.find("email", email, recipient="support_team", purpose="service_delivery")
    vault.correct(two, {"telephone": "+919812345678"})  # one category, as bench_scale does
    vault.correct(two, {"telephone": "+919812345679", "email": "new.address@example.com"})
    vault.consents.grant(two, "statistical_analysis", "web", "form 1")
    vault.consents.withdraw(two, "statistical_analysis")
    vault.history(two)
    vault.erase(three)
    vault.close()

    assert statements, "nothing was traced"
    assert bad_steps(database, statements, [one, two, three]) == []


def test_the_check_sees_a_walk(tmp_path: Path) -> None:
    """The rule above catches the plan that made corrections collapse at 1 M."""
    database = tmp_path / "plain.db"
    with sqlite3.connect(database) as db:
        db.execute(
            "CREATE TABLE blind_indexes (category TEXT, digest BLOB, customer_id TEXT, "
            "PRIMARY KEY (category, digest, customer_id))"
        )
        db.execute("CREATE INDEX by_customer ON blind_indexes (customer_id)")
    delete = "DELETE FROM blind_indexes WHERE customer_id = 'c-1' AND category IN ('telephone')"
    assert len(bad_steps(database, [delete], ["c-1"])) == 1
    assert len(bad_steps(database, ["SELECT count(*) FROM blind_indexes"], [])) == 1
    by_key = "SELECT digest FROM blind_indexes WHERE customer_id = 'c-1'"
    assert bad_steps(database, [by_key], ["c-1"]) == []


def plans(database: Path, statements: list[str], table: str) -> set[str]:
    """The steps on ``table`` of every traced statement that reads it."""
    found = set()
    with sqlite3.connect(database) as db:
        for sql in dict.fromkeys(statements):
            if not re.match(r"\s*(SELECT|WITH)", sql, re.I) or table not in sql:
                continue
            for *_, step in db.execute("EXPLAIN QUERY PLAN " + sql):
                match = STEP.match(step)
                if match is not None and match[2] == table:
                    found.add(step)
    return found


def test_the_ledger_indexes_are_read_in_one_b_tree_each(traced: tuple[Path, list[str]]) -> None:
    """Verification reads every index row a window of entries at a time, from the one
    B-tree that holds the window's rows (no lookup per row: a third of verification's
    time at 1.1 M entries, migration 0030); a scope reads one party's time window."""
    database, statements = traced
    settings = Settings(home=database.parent / "home", database_url=f"sqlite:///{database}")
    vault = init_vault(settings)
    rows = (Row(n + 1, record, None) for n, record in enumerate(customers(5)))
    import_rows(vault, rows, batch=5)
    one = vault.customer_ids(limit=1)[0]
    vault.acting("support_team").get(one, recipient="support_team", purpose="service_delivery")
    statements.clear()
    assert vault.ledger.verify().ok
    assert vault.ledger.received("recipient:support_team")
    vault.close()

    by_entry = "SEARCH ledger_customers USING COVERING INDEX ledger_customers_by_entry"
    assert plans(database, statements, "ledger_customers") == {
        f"{by_entry} (idx>? AND idx<?)",  # a window
        f"{by_entry} (idx<?)",  # rows before entry 0 ...
        f"{by_entry} (idx>?)",  # ... and past the end (or of no number)
    }
    assert plans(database, statements, "ledger_receipts") == {
        "SEARCH ledger_receipts USING PRIMARY KEY (idx>? AND idx<?)",
        "SEARCH ledger_receipts USING PRIMARY KEY (idx<?)",
        "SEARCH ledger_receipts USING PRIMARY KEY (idx>?)",
        "SEARCH ledger_receipts USING INDEX ledger_receipts_by_party (party=?)",
    }
