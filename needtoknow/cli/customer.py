"""``ntk customer``: add, correct, get, find, erase."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from needtoknow.cli.common import print_json, reported, stderr, with_vault
from needtoknow.errors import NeedToKnowError
from needtoknow.guards.jsontext import parse_json
from needtoknow.types import Context
from needtoknow.vault import Erasure, Vault

app = typer.Typer(help="Customer records in the vault.", no_args_is_help=True)

JsonFile = Annotated[str, typer.Option("--json", help="JSON record file, or - for stdin.")]


def _read_record(source: str) -> Any:
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise NeedToKnowError(f"cannot read {source}: {exc.strerror}") from None
    return parse_json(data)


@app.command()
def add(source: JsonFile) -> None:
    """Store a new customer; prints {"customer_id": …} and any notices."""
    with reported(as_json=True):
        record = _read_record(source)
    result = with_vault(lambda vault: vault.add(record), as_json=True)
    for notice in result.notices:
        stderr.print(f"notice: {notice}", highlight=False)
    print_json({"customer_id": result.customer_id, "notices": list(result.notices)})


@app.command()
def correct(customer_id: str, source: JsonFile) -> None:
    """Replace some categories of a customer's record."""
    with reported(as_json=True):
        record = _read_record(source)
    result = with_vault(lambda vault: vault.correct(customer_id, record), as_json=True)
    print_json(
        {
            "customer_id": result.customer_id,
            "corrected": list(result.categories),
            "notices": list(result.notices),
        }
    )


@app.command()
def get(
    customer_id: str,
    recipient: Annotated[str, typer.Option(help="Who receives the data.")],
    purpose: Annotated[str, typer.Option(help="What it is for.")],
    category: Annotated[list[str] | None, typer.Option(help="Only these categories.")] = None,
    legal_reference: Annotated[str | None, typer.Option(help="Court order, notice no., …")] = None,
    case_id: Annotated[str | None, typer.Option(help="Internal case id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
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
    body = {
        "customer_id": customer_id,
        "recipient": recipient,
        "purpose": purpose,
        "policy_version": decision.policy_version,
        "fields": disclosure.values,
        "transforms": {c: g.transform for c, g in decision.allowed.items()},
        "denied": dict(decision.denied),
        "obligations": sorted(decision.obligations),
    }
    if as_json:
        print_json(body)
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
) -> None:
    """What RECIPIENT may see of several customers for PURPOSE, ledgered in one commit.

    Prints JSON: the disclosures, and the ids that are unknown or erased.
    """
    disclosures = with_vault(
        lambda vault: vault.get_many(
            customer_ids, recipient=recipient, purpose=purpose, categories=category or None
        ),
        as_json=True,
    )
    found = {d.customer_id for d in disclosures}
    print_json(
        {
            "recipient": recipient,
            "purpose": purpose,
            "customers": [{"customer_id": d.customer_id, "fields": d.values} for d in disclosures],
            "missing": [cid for cid in customer_ids if cid not in found],
        }
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
        stderr.print("error: give exactly one of --email, --telephone, --identity")
        raise typer.Exit(2)
    category, raw = given[0]
    text = sys.stdin.read().strip() if raw == "-" else str(raw)
    value: Any = text
    if category == "identity_number":
        kind, _, number = text.partition(":")
        value = {"type": kind, "number": number}
    ids = with_vault(
        lambda vault: vault.find(category, value, recipient=recipient, purpose=purpose),
        as_json=True,
    )
    print_json({"customer_ids": ids})


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
def erase(customer_id: str) -> None:
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

    erased = with_vault(run, as_json=True)
    print_json(erased.to_json())
