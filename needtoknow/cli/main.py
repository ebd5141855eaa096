"""The ``ntk`` command: a thin layer that parses, calls one library function, and renders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from needtoknow.cli import (
    agreement,
    consent,
    customer,
    demo,
    detect,
    disclosure,
    doctor,
    events,
    keys,
    ledger,
    notice,
    policy,
    report,
    serve,
)
from needtoknow.cli.common import print_json, reported
from needtoknow.config import Settings, init_vault
from needtoknow.policy import load_policy

app = typer.Typer(
    help="needtoknow: customer PII on a need-to-know basis. NTK_HOME selects the vault.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(customer.app, name="customer")
app.add_typer(policy.app, name="policy")
app.add_typer(keys.app, name="keys")
app.add_typer(ledger.app, name="ledger")
app.add_typer(agreement.app, name="agreement")
app.add_typer(disclosure.app, name="disclosure")
app.add_typer(events.app, name="events")
app.add_typer(report.app, name="report")
app.add_typer(notice.app, name="notice")
app.add_typer(consent.app, name="consent")
app.command(name="demo")(demo.demo)
app.command(name="serve")(serve.serve)
app.command(name="doctor")(doctor.doctor)
app.command(name="scan")(detect.scan)
app.command(name="redact")(detect.redact)
app.command(name="resolve")(detect.resolve)
app.command(name="eval")(detect.eval_)


@app.command()
def init(
    policy_file: Annotated[
        Path | None,
        typer.Option("--policy", help="Policy YAML (default: the NextraOne demo policy)."),
    ] = None,
) -> None:
    """Create a vault under NTK_HOME: key file, database, active policy."""
    settings = Settings.from_env()
    with reported():
        text = load_policy(policy_file)[0].source if policy_file else None
        vault = init_vault(settings, text, str(policy_file or ""))
    print_json(
        {
            "home": str(settings.home),
            "database": settings.database_url_safe(),
            "key_provider": vault.keys.name,
            "policy": vault.policy.name,
            "policy_version": vault.policy.version,
        }
    )


if __name__ == "__main__":
    app()
