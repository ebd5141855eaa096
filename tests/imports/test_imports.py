"""Bulk import on real SQLite and PostgreSQL: rows validated one by one and written in
batches with their ledger entries; refused rows reported by row, field and rule, never
by value; a re-run with the source system's ids stores nothing twice and brings no
erased customer back; the file is streamed, a batch at a time."""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from needtoknow.config import Settings, open_vault
from needtoknow.errors import ValidationError
from needtoknow.imports.rows import Row, read_rows
from needtoknow.imports.run import import_rows
from needtoknow.storage.schema import customers, ledger_entries
from needtoknow.vault import Vault
from tests.customers import ASHA, RAVI

CSV = (
    "name,email,telephone,address,crm id\n"
    'Asha Verma,asha@example.in,9876543210,"17 MG Road, Pune 411001",C1\n'
    'Ravi K,not-an-email,9123456780,"9 Beach Road, Chennai 600001",C2\n'
    "Meera S,meera@example.in,,,C3\n"
    "Meera S again,meera2@example.in,,,C3\n"
)


def rows(vault: Vault, text: str, fmt: str, key: str | None = None) -> Iterator[Any]:
    return read_rows(io.StringIO(text), fmt, vault.registry, key)


def count(vault: Vault, table: sa.Table) -> int:
    with vault.db.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_a_csv_import_reports_refused_rows_and_a_rerun_stores_nothing_twice(vault: Vault) -> None:
    before = count(vault, ledger_entries)
    report = import_rows(vault, rows(vault, CSV, "csv", "crm id"), batch=2).to_json()
    assert (report["rows"], report["added"], report["refused"]) == (4, 2, 2)
    assert report["problems"] == [
        {"row": 2, "field": "email", "category": "email", "rule": "rfc5322_syntax"},
        {"row": 4, "field": "key", "category": "import", "rule": "duplicate_key"},
    ]
    assert "not-an-email" not in json.dumps(report)
    assert count(vault, customers) == 2
    assert count(vault, ledger_entries) == before + 2  # one write entry each
    again = import_rows(vault, rows(vault, CSV, "csv", "crm id")).to_json()
    # C1 and both C3 rows are known now; C2 is refused again
    assert (again["added"], again["known"], again["refused"]) == (0, 3, 1)
    assert count(vault, customers) == 2


def test_an_erased_customer_is_not_brought_back_by_a_rerun(vault: Vault) -> None:
    import_rows(vault, rows(vault, CSV, "csv", "crm id"))
    (first,) = vault.find(
        "email", "asha@example.in", recipient="support_team", purpose="service_delivery"
    )
    vault.erase(first)
    again = import_rows(vault, rows(vault, CSV, "csv", "crm id")).to_json()
    assert again["added"] == 0 and again["known"] == 3
    assert (
        vault.find("email", "asha@example.in", recipient="support_team", purpose="service_delivery")
        == []
    )


def test_json_lines_with_a_broken_line_import_the_rest(vault: Vault) -> None:
    text = "\n".join([json.dumps(ASHA), "{not json", json.dumps([1, 2]), "", json.dumps(RAVI)])
    report = import_rows(vault, rows(vault, text, "jsonl")).to_json()
    assert report["added"] == 2
    assert [(p["row"], p["rule"]) for p in report["problems"]] == [
        (2, "json_syntax"),
        (3, "not_an_object"),
    ]


def test_a_dry_run_validates_and_stores_nothing(vault: Vault) -> None:
    before = (count(vault, customers), count(vault, ledger_entries))
    report = import_rows(vault, rows(vault, CSV, "csv", "crm id"), dry_run=True).to_json()
    assert (report["added"], report["refused"], report["dry_run"]) == (2, 2, True)
    assert (count(vault, customers), count(vault, ledger_entries)) == before


def test_a_header_naming_no_category_is_refused_with_the_nearest_name(vault: Vault) -> None:
    with pytest.raises(ValidationError, match="did you mean telephone"):
        list(rows(vault, "name,telephon\nA,1\n", "csv"))
    renamed = read_rows(
        io.StringIO("name,Mobile\nAsha,9876543210\n"),
        "csv",
        vault.registry,
        columns={"Mobile": "telephone"},
    )
    assert import_rows(vault, renamed).added == 1
    with pytest.raises(ValidationError, match="jsonl, csv"):
        read_rows(io.StringIO(""), "xlsx", vault.registry)


def test_rows_are_read_a_batch_at_a_time(vault: Vault) -> None:
    """Constant memory: when the first batch is written, no more than one batch (and the
    row that filled it) has been read from the source."""
    pulled = [0]
    at_first_write: list[int] = []

    def source() -> Iterator[Row]:
        for n in range(1, 2001):
            pulled[0] += 1
            yield Row(n, {"name": f"Customer {n}"}, None)

    def progress(done: int) -> None:
        at_first_write.append(pulled[0])

    report = import_rows(vault, source(), batch=250, progress=progress)
    assert report.added == 2000 and len(at_first_write) == 8
    assert at_first_write[0] <= 251


def test_worker_processes_prepare_what_this_one_would_and_writes_stay_in_order(
    vault: Vault, settings: Settings
) -> None:
    """Validation and sealing in two worker processes (each opening the vault itself):
    every row stored once with its ledger entry, refusals named by row
    and rule (the error crossed a process boundary), and a re-run — the source ids
    screened again at each write — stores nothing twice, even a key repeated in a
    later batch that was prepared before the earlier one was written."""
    people = [
        {"name": f"Customer {n}", "email": f"c{n}@example.in", "key": f"K{n}"} for n in range(300)
    ]
    people[7]["email"] = "not-an-email"
    people[250]["key"] = "K3"  # a repeat, in a later batch
    text = "".join(json.dumps(p) + "\n" for p in people)
    opener = functools.partial(open_vault, settings)
    report = import_rows(vault, rows(vault, text, "jsonl", "key"), 40, opener=opener, workers=2)
    assert (report.added, report.refused, report.known) == (298, 1, 1)
    assert report.problems == [
        {"row": 8, "field": "email", "category": "email", "rule": report.problems[0]["rule"]}
    ]
    with vault.db.connect() as conn:
        entries = conn.exec_driver_sql("SELECT entry FROM ledger_entries").fetchall()
    assert sum(json.loads(bytes(row[0]))["kind"] == "write" for row in entries) == 298
    again = import_rows(vault, rows(vault, text, "jsonl", "key"), 40, opener=opener, workers=2)
    assert (again.added, again.known, again.refused) == (0, 299, 1)
    assert count(vault, customers) == 298 and vault.ledger.verify().ok
