"""``ntk policy``: check a policy file, explain a recipient x purpose."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from needtoknow.cli.common import print_json, reported, with_vault
from needtoknow.policy import load_policy
from needtoknow.types import Context

app = typer.Typer(help="The need-to-know policy.", no_args_is_help=True)


@app.command()
def check(file: Path) -> None:
    """Load and check a policy file; errors name the file and line."""
    with reported():
        policy, _ = load_policy(file)
    typer.echo(
        f"{file}: ok — policy {policy.name!r}, version {policy.version[:12]}, "
        f"{len(policy.rules)} rules, {len(policy.recipients)} recipients, "
        f"{len(policy.purposes)} purposes"
    )


@app.command()
def explain(
    recipient: Annotated[str, typer.Option(help="Who would receive data.")],
    purpose: Annotated[str, typer.Option(help="What for.")],
    legal_reference: Annotated[
        str | None, typer.Option(help="Assume this legal reference.")
    ] = None,
    case_id: Annotated[str | None, typer.Option(help="Assume this case id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What the active policy lets RECIPIENT have for PURPOSE, and which rule says so."""
    account = with_vault(
        lambda vault: vault.explain(
            recipient,
            purpose,
            Context(now=vault.clock(), legal_reference=legal_reference, case_id=case_id),
        ),
        as_json,
    )
    if as_json:
        print_json(account)
        return
    typer.echo(
        f"{recipient} ({account['recipient_kind']}) for {purpose} "
        f"(legal basis: {account['legal_basis']}), policy {account['policy_version']!s:.12}"
    )
    for category, grant in account["allowed"].items():
        typer.echo(f"  allow {category}: {grant['transform']}  [rule {grant['rule']}]")
    for category, reason in account["denied"].items():
        typer.echo(f"  deny  {category}: {reason}")
    if account["obligations"]:
        typer.echo(f"  obligations: {', '.join(account['obligations'])}")
