"""``ntk staff``: the accounts staff sign in to the console with — add, list, disable."""

from __future__ import annotations

import sys
from typing import Annotated

from needtoknow.guards.extras import require

require("api")  # argon2-cffi comes with the console's extra

# ruff: noqa: E402 - imported after the check of their extra
import typer

from needtoknow.cli.common import Json, reported, show, stdout, with_vault
from needtoknow.errors import ValidationError
from needtoknow.policy.notice import LANGUAGES
from needtoknow.staff import ROLES, Enrolment, StaffAccounts

app = typer.Typer(help="Staff accounts for the console (password and TOTP).", no_args_is_help=True)


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="The account's name, e.g. dpo:priya.")],
    role: Annotated[str, typer.Option(help="One of: " + ", ".join(ROLES) + ".")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    language: Annotated[
        str, typer.Option(help="The console's language for them: " + ", ".join(LANGUAGES) + ".")
    ] = "en",
    as_json: Json = False,
) -> None:
    """Add an account; prints its TOTP secret and otpauth:// link ONCE — load it into an
    authenticator app now (it is stored only sealed, and never shown again)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif not sys.stdin.isatty():  # a script: never echo a password through a pipe
        with reported(as_json):
            raise ValidationError("password", "staff", "no_terminal", "use --password-stdin")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True, err=True)

    made: Enrolment = with_vault(
        lambda vault: StaffAccounts(vault.scope).add(name, role, password, language), as_json
    )
    show(made.to_json(), as_json)
    if not as_json:
        stdout.print("the TOTP secret is shown this once", style="yellow", highlight=False)


@app.command(name="list")
def list_(as_json: Json = False) -> None:
    """Every account, disabled ones too: name, role, dates — never a secret."""
    found = with_vault(
        lambda vault: [m.to_json() for m in StaffAccounts(vault.scope).listing()], as_json
    )
    show(found, as_json)


@app.command()
def disable(name: str, as_json: Json = False) -> None:
    """The account signs in no more (its past ledger entries keep its name)."""
    show(
        with_vault(lambda vault: StaffAccounts(vault.scope).disable(name).to_json(), as_json),
        as_json,
    )
