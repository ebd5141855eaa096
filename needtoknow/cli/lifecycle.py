"""``ntk account``, ``ntk hold``, ``ntk retention`` and ``ntk instruct``: the data's life
after collection — closure, holds, retention runs, and the recipients told to erase."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from needtoknow.cli.common import Json, parse_date, parse_moment, print_json, stdout, with_vault
from needtoknow.lifecycle.accounts import CLOSE_REASONS, AccountStatus
from needtoknow.vault import Vault

account = typer.Typer(help="Accounts: close, reopen, the services held.", no_args_is_help=True)
hold = typer.Typer(help="Legal holds that keep data through erasure.", no_args_is_help=True)
retention = typer.Typer(help="Erase what the policy no longer keeps.", no_args_is_help=True)
instruct = typer.Typer(help="Erasure instructions to recipients.", no_args_is_help=True)


@account.command()
def close(
    customer_id: str,
    reason: Annotated[
        str, typer.Option(help="Why: " + ", ".join(CLOSE_REASONS) + ".")
    ] = "customer_request",
    as_json: Json = False,
) -> None:
    """Close CUSTOMER_ID's account now: every purpose's retention counts from here."""
    _account(lambda vault: vault.accounts.close(customer_id, reason), as_json)


@account.command()
def reopen(customer_id: str, as_json: Json = False) -> None:
    """Reopen a closed account: its purposes serve again."""
    _account(lambda vault: vault.accounts.reopen(customer_id), as_json)


@account.command()
def show(customer_id: str, as_json: Json = False) -> None:
    """The account's state: open or closed, services, held categories."""
    _account(lambda vault: vault.accounts.status(customer_id), as_json)


@account.command()
def services(
    customer_id: str,
    service: Annotated[
        list[str] | None, typer.Option(help="A service held (repeat); none: no services.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Set the services CUSTOMER_ID holds (the policy's settings.services names them)."""
    _account(lambda vault: vault.accounts.set_services(customer_id, service or []), as_json)


def _account(action: Callable[[Vault], AccountStatus], as_json: bool) -> None:
    status = with_vault(action, as_json)
    if as_json:
        print_json(status.to_json())
        return
    state = "open" if status.closed_at is None else f"closed {status.closed_at:%Y-%m-%d}"
    held = ", ".join(f"{c} (until {h.until})" for c, h in sorted(status.held.items()))
    stdout.print(
        f"{status.customer_id}  {state}  services: {', '.join(status.services) or '-'}"
        + (f"  held: {held}" if held else ""),
        highlight=False,
    )


@hold.command()
def place(
    customer: Annotated[str, typer.Option(help="The customer id.")],
    category: Annotated[list[str], typer.Option(help="A category to keep (repeat).")],
    basis: Annotated[str, typer.Option(help="Why: the order, case or law (≤ 200 characters).")],
    until: Annotated[str, typer.Option(help="The last day it holds (YYYY-MM-DD).")],
    readable_for: Annotated[
        list[str] | None,
        typer.Option(help="A purpose the held data may be read for (default: legal_process)."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Keep CATEGORY of CUSTOMER through erasure requests and retention runs until UNTIL."""

    def run(vault: Vault) -> object:
        last = parse_date(until, "until", "hold")
        return vault.holds.place(
            customer, category, basis, last, tuple(readable_for or ("legal_process",))
        )

    placed = with_vault(run, as_json)
    if as_json:
        print_json(placed.to_json())
        return
    stdout.print(f"hold {placed.hold.id} until {placed.hold.until}", highlight=False)


@hold.command()
def release(hold_id: str, as_json: Json = False) -> None:
    """Release a hold: the next retention run erases what it alone kept."""
    released = with_vault(lambda vault: vault.holds.release(hold_id), as_json)
    if as_json:
        print_json(released.to_json())
        return
    stdout.print(f"hold {hold_id} released", highlight=False)


@hold.command(name="list")
def hold_list(
    customer: Annotated[str | None, typer.Option(help="Only this customer's.")] = None,
    active: Annotated[bool, typer.Option(help="Only holds in force.")] = False,
    as_json: Json = False,
) -> None:
    """Legal holds, oldest first."""
    found = with_vault(lambda vault: vault.holds.listing(customer, active), as_json)
    if as_json:
        print_json({"holds": [h.to_json() for h in found]})  # as GET /v1/holds answers
        return
    for h in found:
        state = "released" if h.released_at else f"until {h.hold.until}"
        stdout.print(
            f"{h.hold.id}  {h.hold.customer_id}  {', '.join(sorted(h.hold.categories))}  {state}",
            highlight=False,
        )


@retention.command()
def run(
    dry_run: Annotated[bool, typer.Option(help="Only list what would be erased, and why.")] = False,
    as_of: Annotated[
        str | None, typer.Option(help="With --dry-run: as at this time (e.g. 2031-01-01T00:00Z).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Erase every category of every closed account whose retention has run out, keeping
    what a hold keeps (readable then only for the hold's purposes). Ledgered."""
    from rich.console import Console
    from rich.progress import Progress

    def go(vault: Vault) -> object:
        moment = parse_moment(as_of, "as_of") if as_of is not None else None
        erasures = vault.erasures
        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("retention run", total=erasures.closed_count(moment))
            return erasures.run(dry_run, moment, progress=lambda n: bar.advance(task, n))

    report = with_vault(go, as_json)
    if as_json:
        print_json(report.to_json())
        return
    summary = report.to_json()
    verb = "would erase" if dry_run else "erased"
    stdout.print(
        f"{summary['examined']} closed accounts: {verb} {summary['categories_erased']} "
        f"categories ({summary['customers_erased']} customers entirely), held "
        f"{summary['customers_held']}; {summary['instructions']} erasure instructions",
        highlight=False,
    )


@instruct.command(name="list")
def instruct_list(
    overdue: Annotated[bool, typer.Option(help="Only those unacknowledged past due.")] = False,
    customer: Annotated[str | None, typer.Option(help="Only this customer's.")] = None,
    as_json: Json = False,
) -> None:
    """Erasure instructions to recipients, oldest first."""
    found = with_vault(lambda vault: vault.instructions.listing(overdue, customer), as_json)
    if as_json:
        print_json([i.to_json() for i in found])
        return
    for i in found:
        state = f"acknowledged {i.acknowledged_at:%Y-%m-%d}" if i.acknowledged_at else "open"
        stdout.print(
            f"{i.id}  {i.recipient}  {i.customer_id}  {', '.join(i.categories)}  "
            f"due {i.due_at:%Y-%m-%d}  {state}",
            highlight=False,
        )


@instruct.command()
def ack(instruction_id: str, as_json: Json = False) -> None:
    """Record that the recipient confirmed it erased its copy."""
    done = with_vault(lambda vault: vault.instructions.acknowledge(instruction_id), as_json)
    if as_json:
        print_json(done.to_json())
        return
    stdout.print(f"instruction {instruction_id} acknowledged", highlight=False)
