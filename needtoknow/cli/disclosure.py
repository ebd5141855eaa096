"""``ntk disclosure``: legal disclosure requests — request, approve, reject, release, list."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from needtoknow.cli.common import Json, parse_date, reported, show, stderr, with_vault
from needtoknow.errors import NeedToKnowError
from needtoknow.guards.private import write_private
from needtoknow.vault import Vault

app = typer.Typer(
    help="Legal disclosures: four eyes, released through the policy and the ledger.",
    no_args_is_help=True,
)


def _day(value: str | None, field: str) -> date | None:
    return None if value is None else parse_date(value, field, "disclosure")


@app.command()
def request(
    authority: Annotated[str, typer.Option(help="The requesting authority (a recipient).")],
    purpose: Annotated[str, typer.Option(help="legal_process, investigation, …")],
    legal_basis: Annotated[str, typer.Option(help='e.g. "IT Act 2000 s.69", "BNSS 2023 s.94".')],
    reference: Annotated[str, typer.Option(help="The order's or notice's number.")],
    customer: Annotated[list[str], typer.Option(help="Customer id in scope (repeat).")],
    category: Annotated[list[str], typer.Option(help="Category in scope (repeat).")],
    case_owner: Annotated[str, typer.Option(help="Who owns the case.")],
    period_from: Annotated[
        str | None, typer.Option("--from", help="Period start (YYYY-MM-DD, UTC).")
    ] = None,
    period_to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Period end (YYYY-MM-DD, UTC): customers who joined later are not "
            "read; values corrected since are flagged.",
        ),
    ] = None,
    non_disclosure_until: Annotated[
        str | None, typer.Option(help="Hold customer notices until this date (gag order).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Record a disclosure request; nothing is released until someone else approves."""
    with reported(as_json):
        period = (_day(period_from, "from"), _day(period_to, "to"))
        until = _day(non_disclosure_until, "non_disclosure_until")
    made = with_vault(
        lambda vault: vault.disclosures.request(
            authority=authority,
            purpose=purpose,
            legal_basis=legal_basis,
            reference=reference,
            customer_ids=customer,
            categories=category,
            case_owner=case_owner,
            period=period,
            non_disclosure_until=until,
        ),
        as_json,
    )
    show(made.to_json(), as_json)


@app.command()
def approve(request_id: str, as_json: Json = False) -> None:
    """Approve as NTK_ACTOR, who must not be the requester (four eyes)."""
    show(with_vault(lambda v: v.disclosures.approve(request_id), as_json).to_json(), as_json)


@app.command()
def reject(
    request_id: str,
    reason: Annotated[str, typer.Option(help="Why (recorded in the ledger).")],
    as_json: Json = False,
) -> None:
    """Reject as NTK_ACTOR, with a reason."""
    decided = with_vault(lambda v: v.disclosures.reject(request_id, reason), as_json)
    show(decided.to_json(), as_json)


@app.command()
def release(
    request_id: str,
    out: Annotated[Path, typer.Option(help="Directory for the package and its manifest.")],
    public_key: Annotated[
        Path | None, typer.Option(help="Requester's raw 32-byte X25519 public key file.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Release an approved request: package.json (or package.hpke) and manifest.json
    written to OUT; prints the manifest (the API's ``manifest``)."""

    def run(vault: Vault) -> dict[str, object]:
        key = public_key.read_bytes() if public_key else None
        package = vault.disclosures.release(request_id, key)
        try:
            out.mkdir(mode=0o700, parents=True, exist_ok=True)
            name = "package.hpke" if key else "package.json"
            write_private(out / name, package.payload)  # PII (or keys to it): owner only
            write_private(out / "manifest.json", json.dumps(package.manifest, indent=2).encode())
        except OSError as exc:
            raise NeedToKnowError(f"cannot write the package to {out}: {exc.strerror}") from None
        return package.manifest

    manifest = with_vault(run, as_json)
    if not as_json:
        stderr.print(f"package and manifest written to {out}", highlight=False)
    show(manifest, as_json)


@app.command("list")
def list_(as_json: Json = False) -> None:
    """Every disclosure request, oldest first (releases due notices first)."""

    def run(vault: Vault) -> list[dict[str, object]]:
        vault.disclosures.release_due_notices()
        return [r.to_json() for r in vault.disclosures.requests()]

    show(with_vault(run, as_json), as_json)


@app.command()
def notices(
    customer_id: Annotated[str | None, typer.Argument()] = None, as_json: Json = False
) -> None:
    """Notices owed to customers; those whose non-disclosure order ended become due."""

    def run(vault: Vault) -> list[dict[str, object]]:
        vault.disclosures.release_due_notices()
        return vault.disclosures.notices(customer_id)

    show(with_vault(run, as_json), as_json)
