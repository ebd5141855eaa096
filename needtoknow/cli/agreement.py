"""``ntk agreement``: the registry of agreements binding contractors, and their customers."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from needtoknow.cli.common import Json, parse_date, reported, show, with_vault
from needtoknow.policy.model import Agreement
from needtoknow.records.agreements import agreement_json
from needtoknow.vault import Vault

app = typer.Typer(help="Agreements that bind contractors to purposes.", no_args_is_help=True)

Purposes = Annotated[list[str], typer.Option("--purpose", help="Purpose it covers (repeat).")]


def _day(value: str, field: str) -> date:
    return parse_date(value, field, "agreement")


@app.command("list")
def list_(as_json: Json = False) -> None:
    """Every agreement (revoked ones too), with how many customers each holds."""
    show(with_vault(lambda vault: vault.agreements.listing(), as_json), as_json)


@app.command()
def create(
    agreement_id: Annotated[str, typer.Argument(help="Agreement id, e.g. AGR-COLL-2027.")],
    recipient: Annotated[str, typer.Option(help="The contractor or sub-contractor bound.")],
    purposes: Purposes,
    expires: Annotated[str, typer.Option(help="Last day in force (YYYY-MM-DD).")],
    reference: Annotated[str, typer.Option(help="Contract reference.")],
    starts: Annotated[str | None, typer.Option(help="First day in force (YYYY-MM-DD).")] = None,
    customer_scoped: Annotated[
        bool, typer.Option(help="Only for customers assigned to it.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Register an agreement; recorded in the ledger."""
    with reported(as_json):
        agreement = Agreement(
            id=agreement_id,
            recipient=recipient,
            purposes=frozenset(purposes),
            expires=_day(expires, "expires"),
            starts=_day(starts, "starts") if starts else date.min,
            reference=reference,
            customer_scoped=customer_scoped,
        )
    created = with_vault(lambda vault: vault.agreements.create(agreement), as_json)
    show(agreement_json(created), as_json)


@app.command()
def amend(
    agreement_id: str,
    expires: Annotated[str | None, typer.Option(help="New last day (YYYY-MM-DD).")] = None,
    starts: Annotated[str | None, typer.Option(help="New first day (YYYY-MM-DD).")] = None,
    purposes: Annotated[
        list[str] | None, typer.Option("--purpose", help="Replace the purposes (repeat).")
    ] = None,
    reference: Annotated[str | None, typer.Option(help="New contract reference.")] = None,
    as_json: Json = False,
) -> None:
    """Change a live agreement; recorded in the ledger."""
    changes: dict[str, Any] = {}
    with reported(as_json):
        if expires:
            changes["expires"] = _day(expires, "expires")
        if starts:
            changes["starts"] = _day(starts, "starts")
    if purposes:
        changes["purposes"] = frozenset(purposes)
    if reference:
        changes["reference"] = reference
    amended = with_vault(lambda vault: vault.agreements.amend(agreement_id, **changes), as_json)
    show(agreement_json(amended), as_json)


@app.command()
def revoke(
    agreement_id: str,
    reason: Annotated[str, typer.Option(help="Why (recorded in the ledger).")],
    as_json: Json = False,
) -> None:
    """End an agreement now: its recipient is denied from the next request on."""
    show(with_vault(lambda vault: vault.agreements.revoke(agreement_id, reason), as_json), as_json)


@app.command()
def assign(agreement_id: str, customer_ids: list[str], as_json: Json = False) -> None:
    """Hand customers to a customer-scoped agreement (e.g. accounts for collection);
    prints how many were newly assigned."""

    def run(vault: Vault) -> int:
        return vault.agreements.assign(agreement_id, customer_ids)

    show({"count": with_vault(run, as_json)}, as_json)


@app.command()
def unassign(agreement_id: str, customer_ids: list[str], as_json: Json = False) -> None:
    """Take customers back from a customer-scoped agreement; prints how many."""

    def run(vault: Vault) -> int:
        return vault.agreements.unassign(agreement_id, customer_ids)

    show({"count": with_vault(run, as_json)}, as_json)
