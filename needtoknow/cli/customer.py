"""``ntk customer``: add, import, correct, get, find, erase."""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from needtoknow.cli.common import (
    Json,
    counting,
    print_json,
    reported,
    show,
    stderr,
    stdout,
    with_vault,
)
from needtoknow.config import Settings, open_vault
from needtoknow.errors import NeedToKnowError, ValidationError
from needtoknow.guards.jsontext import parse_json
from needtoknow.types import Context
from needtoknow.vault import Erasure, Vault

app = typer.Typer(help="Customer records in the vault.", no_args_is_help=True)

RecordFile = Annotated[
    str, typer.Argument(help="The record: a JSON file, or - for stdin (docs/records.md).")
]


def _read_record(source: str) -> Any:
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise NeedToKnowError(f"cannot read {source}: {exc.strerror}") from None
    return parse_json(data)


@app.command()
def add(source: RecordFile, as_json: Json = False) -> None:
    """Store a new customer (its shape: ntk schema customer); prints its id, the
    categories stored and any notices."""
    with reported(as_json):
        record = _read_record(source)
    show(with_vault(lambda vault: vault.add(record), as_json).to_json(), as_json)


@app.command()
def correct(customer_id: str, source: RecordFile, as_json: Json = False) -> None:
    """Replace some categories of a customer's record."""
    with reported(as_json):
        record = _read_record(source)
    show(with_vault(lambda vault: vault.correct(customer_id, record), as_json).to_json(), as_json)


@app.command()
def get(
    customer_id: str,
    recipient: Annotated[str, typer.Option(help="Who receives the data.")],
    purpose: Annotated[str, typer.Option(help="What it is for.")],
    category: Annotated[list[str] | None, typer.Option(help="Only these categories.")] = None,
    legal_reference: Annotated[str | None, typer.Option(help="Court order, notice no., …")] = None,
    case_id: Annotated[str | None, typer.Option(help="Internal case id.")] = None,
    as_json: Json = False,
) -> None:
    """What RECIPIENT may see of a customer for PURPOSE; exit 3 with reasons when denied."""

    def read(vault: Vault) -> Any:
        context = Context(now=vault.clock(), legal_reference=legal_reference, case_id=case_id)
        return vault.get(
            customer_id,
            recipient=recipient,
            purpose=purpose,
            categories=category or None,
            context=context,
        )

    disclosure = with_vault(read, as_json)
    decision = disclosure.decision
    if as_json:
        print_json(disclosure.to_json())
        return
    for name, value in disclosure.values.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        typer.echo(f"{name} ({decision.allowed[name].transform}): {shown}")
    for name, reason in decision.denied.items():
        typer.echo(f"{name}: denied ({reason})")


@app.command("get-many")
def get_many(
    customer_ids: Annotated[list[str], typer.Argument(help="Customer ids.")],
    recipient: Annotated[str, typer.Option(help="Who receives the data.")],
    purpose: Annotated[str, typer.Option(help="What it is for.")],
    category: Annotated[list[str] | None, typer.Option(help="Only these categories.")] = None,
    as_json: Json = False,
) -> None:
    """What RECIPIENT may see of several customers for PURPOSE, ledgered in one commit:
    the disclosures, and the ids that are unknown or erased."""
    disclosures = with_vault(
        lambda vault: vault.get_many(
            customer_ids, recipient=recipient, purpose=purpose, categories=category or None
        ),
        as_json,
    )
    found = {d.customer_id for d in disclosures}
    show(
        {
            "recipient": recipient,
            "purpose": purpose,
            "customers": [d.to_json() for d in disclosures],
            "missing": [cid for cid in customer_ids if cid not in found],
        },
        as_json,
    )


@app.command()
def find(
    recipient: Annotated[str, typer.Option(help="Who is looking.")],
    purpose: Annotated[str, typer.Option(help="What for.")],
    email: Annotated[str | None, typer.Option(help="Exact email address, or - for stdin.")] = None,
    telephone: Annotated[str | None, typer.Option(help="Telephone (any format), or -.")] = None,
    identity: Annotated[
        str | None, typer.Option(help="TYPE:NUMBER, e.g. pan:ABCPE1234F, or -.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Find customer ids by exact email, telephone or identity number, without decrypting.

    Allowed only when the policy grants RECIPIENT that category for PURPOSE. Pass - to
    read the value from stdin, so it stays out of shell history and process listings.
    """
    given = [
        (c, v)
        for c, v in (("email", email), ("telephone", telephone), ("identity_number", identity))
        if v
    ]
    if len(given) != 1:
        with reported(as_json):
            raise ValidationError(
                "value", "lookup", "exactly_one", "--email, --telephone or --identity"
            )
    category, raw = given[0]
    text = sys.stdin.read().strip() if raw == "-" else str(raw)
    value: Any = text
    if category == "identity_number":
        kind, _, number = text.partition(":")
        value = {"type": kind, "number": number}

    def run(vault: Vault) -> dict[str, Any]:
        found = vault.find(category, value, recipient=recipient, purpose=purpose)
        return {"customer_ids": found, "policy_version": vault.policy.version}

    show(with_vault(run, as_json), as_json)


_PENDING = (
    "not scrubbed yet: a reader held the database, so the deleted key and ciphertext may "
    "remain in its files until the scrub, retried at the next erasure or opening of the "
    "vault, completes"
)
_NO_SCRUB = (
    "this database keeps old row versions until VACUUM and in its WAL; retire the KEK that "
    "wrapped the key (ntk keys rotate, then ntk keys retire) to make such copies unreadable"
)


@app.command()
def erase(customer_id: str, as_json: Json = False) -> None:
    """Erase a customer as an erasure request does: crypto-shred every category no hold keeps.

    What a statutory hold of the policy or a legal hold keeps is listed under "kept"
    (until when, under which law) and stays readable only for the hold's purposes;
    with nothing kept, only a tombstone remains. An open account closes. "scrubbed"
    says whether the deleted bytes are gone from the database's files too (SQLite;
    never claimed on PostgreSQL). When a reader blocked it, the scrub is retried at
    the next erasure or open of the vault."""

    def run(vault: Vault) -> Erasure:
        erased = vault.erase(customer_id)
        if not erased.scrubbed:
            note = _PENDING if vault.pending_scrubs() else _NO_SCRUB
            stderr.print(f"note: {note}", highlight=False)
        return erased

    show(with_vault(run, as_json).to_json(), as_json)


@app.command(name="list")
def list_(
    limit: Annotated[int, typer.Option(help="At most this many.")] = 100,
    after: Annotated[str, typer.Option(help="Start after this customer id (paging).")] = "",
    as_json: Json = False,
) -> None:
    """Customers by id: created, closed and erased times — never a value."""
    found = with_vault(lambda vault: vault.accounts.listing(limit, after), as_json)
    if as_json:
        print_json(found)
        return
    for row in found:
        state = "erased" if row["erased_at"] else ("closed" if row["closed_at"] else "open")
        stdout.print(f"{row['customer_id']}  {row['created_at'][:10]}  {state}", highlight=False)


@app.command(name="import")
def import_(
    source: Annotated[str, typer.Argument(help="A JSON Lines or CSV file, or - for stdin.")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="jsonl or csv (default: the file's extension; stdin jsonl)."),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            help="The column holding the source system's id: a re-run skips rows stored before."
        ),
    ] = None,
    rename: Annotated[
        list[str] | None,
        typer.Option("--map", help="COLUMN=CATEGORY for a column named otherwise (repeat)."),
    ] = None,
    batch: Annotated[int, typer.Option(help="Rows per transaction.")] = 500,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Processes that validate and seal rows while this one writes (default: "
            "the CPU count, up to 4; none for a file under 1 MiB). 0: all in this one.",
            min=0,
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Validate only; store nothing.")] = False,
    as_json: Json = False,
) -> None:
    """Add many customers: rows validated one by one, stored in batches (one transaction
    and ledger commit each); refused rows are reported by row, field and rule."""
    from needtoknow.imports.rows import read_rows
    from needtoknow.imports.run import import_rows

    kind = fmt or ("csv" if source.lower().endswith(".csv") else "jsonl")
    with reported(as_json):
        columns = dict(_pair(item) for item in rename or ())
        stream = sys.stdin if source == "-" else _open_text(source)

    settings = Settings.from_env()
    if workers is None:
        small = source != "-" and Path(source).stat().st_size < 1 << 20
        workers = 0 if small else min(4, os.cpu_count() or 1)

    def run(vault: Vault) -> Any:
        rows = read_rows(stream, kind, vault.registry, key, columns)
        opener = functools.partial(open_vault, settings)
        with counting("importing", quiet=as_json) as advance:
            return import_rows(vault, rows, batch, dry_run, advance, opener, workers)

    report = with_vault(run, as_json).to_json()
    if as_json:
        print_json(report)
        return
    verb = "would add" if dry_run else "added"
    stdout.print(
        f"{report['rows']} rows: {verb} {report['added']}, already imported "
        f"{report['known']}, refused {report['refused']}",
        highlight=False,
    )
    for problem in report["problems"][:20]:
        stdout.print(
            f"  row {problem['row']}: {problem['field']} ({problem['rule']})", highlight=False
        )


def _pair(item: str) -> tuple[str, str]:
    column, sep, category = item.partition("=")
    if not sep or not column.strip() or not category.strip():
        raise ValidationError("map", "import", "column_equals_category", "e.g. Mobile=telephone")
    return column.strip(), category.strip()


def _open_text(path: str) -> Any:
    try:
        return Path(path).open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise NeedToKnowError(f"cannot read {path}: {exc.strerror}") from None
