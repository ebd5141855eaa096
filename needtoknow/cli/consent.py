"""``ntk consent``: a customer's consents to consent-based purposes: grant, withdraw, list."""

from __future__ import annotations

from typing import Annotated

import typer

from needtoknow.cli.common import Json, print_json, stdout, with_vault
from needtoknow.moments import utc_text
from needtoknow.records.consents import CHANNELS

app = typer.Typer(help="Customers' consents (DPDP Act s.6).", no_args_is_help=True)
Channel = Annotated[str, typer.Option(help="How it was given: " + ", ".join(sorted(CHANNELS)))]


@app.command()
def grant(
    customer_id: str,
    purpose: Annotated[str, typer.Option(help="A purpose whose legal basis is consent.")],
    evidence: Annotated[
        str, typer.Option(help="Where the consent is recorded (kept as SHA-256 only).")
    ],
    channel: Channel = "web",
    notice_version: Annotated[
        str | None, typer.Option(help="Policy version of the notice shown (default: active).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Record CUSTOMER_ID's consent to PURPOSE."""
    consent = with_vault(
        lambda vault: vault.consents.grant(customer_id, purpose, channel, evidence, notice_version),
        as_json,
    )
    if as_json:
        print_json(consent.to_json())
        return
    stdout.print(f"consent to {purpose} since {utc_text(consent.granted_at)}", highlight=False)


@app.command()
def withdraw(
    customer_id: str,
    purpose: Annotated[str, typer.Option(help="The purpose.")],
    channel: Channel = "web",
    as_json: Json = False,
) -> None:
    """Withdraw CUSTOMER_ID's consent to PURPOSE at once (never refused)."""
    closed = with_vault(
        lambda vault: vault.consents.withdraw(customer_id, purpose, channel), as_json
    )
    if as_json:
        print_json({"consents": [c.to_json() for c in closed]})  # as HTTP answers
        return
    stdout.print(f"withdrawn: {len(closed)} consent(s) to {purpose}", highlight=False)


@app.command(name="list")
def listing(
    customer_id: str,
    as_json: Json = False,
) -> None:
    """Every consent of CUSTOMER_ID, standing and withdrawn."""
    found = with_vault(lambda vault: vault.consents.listing(customer_id), as_json)
    if as_json:
        print_json({"consents": [c.to_json() for c in found]})  # as HTTP answers
        return
    for c in found:
        state = "active" if c.active else f"withdrawn {utc_text(c.withdrawn_at)}"
        stdout.print(f"{c.purpose}  {state}  via {c.channel}", highlight=False)
