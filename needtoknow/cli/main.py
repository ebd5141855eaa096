"""The ``ntk`` command: a thin layer that parses, calls one library function, and renders.

A sub-command's module is imported only when that command runs: ``ntk customer get``
never loads the web server, the scanner or the analytics engine, and ``ntk --help``
loads none of them (it lists each command from :data:`COMMANDS`, whose summaries a test
keeps equal to the commands' own help).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from needtoknow.errors import MissingExtra

# name → (module of needtoknow.cli, attribute: a Typer app or a command function, the
# first paragraph of its help, as the command list shows it)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": (
        "demo",
        "demo",
        "Create the demo vault if needed, then show allowed and denied reads (or serve).",
    ),
    "serve": (
        "serve",
        "serve",
        "Serve the vault under NTK_HOME over HTTP: OpenAPI at /docs and /openapi.json.",
    ),
    "doctor": ("doctor", "doctor", "Check the vault under NTK_HOME and say what to fix."),
    "scan": (
        "detect",
        "scan",
        "Find PII in files (text, logs, CSV/TSV, JSON, JSON Lines, Parquet, images).",
    ),
    "redact": (
        "detect",
        "redact",
        "Copy files with their PII taken out, in the same format (CSV keeps its columns).",
    ),
    "resolve": (
        "detect",
        "resolve",
        "Print the text with each vault reference replaced by what the recipient may see "
        "for the purpose (each a ledgered read); references the policy refuses stay.",
    ),
    "eval": (
        "detect",
        "eval_",
        "Precision, recall and F1 per entity and per category, on the generated corpus or "
        "a labelled one (--corpus), with the mistakes in context.",
    ),
    "customer": ("customer", "app", "Customer records in the vault."),
    "policy": ("policy", "app", "The need-to-know policy."),
    "keys": ("keys", "app", "Key-encryption keys and API keys."),
    "ledger": ("ledger", "app", "The tamper-evident disclosure ledger."),
    "agreement": ("agreement", "app", "Agreements that bind contractors to purposes."),
    "disclosure": (
        "disclosure",
        "app",
        "Legal disclosures: four eyes, released through the policy and the ledger.",
    ),
    "events": ("events", "app", "Usage events for aggregate reports (no PII stored)."),
    "report": ("report", "app", "Differentially private aggregate reports."),
    "notice": ("notice", "app", "The privacy notice, generated from the policy."),
    "consent": ("consent", "app", "Customers' consents (DPDP Act s.6)."),
    "account": ("lifecycle", "account", "Accounts: close, reopen, the services held."),
    "hold": ("lifecycle", "hold", "Legal holds that keep data through erasure."),
    "retention": ("lifecycle", "retention", "Erase what the policy no longer keeps."),
    "instruct": ("lifecycle", "instruct", "Erasure instructions to recipients."),
    "request": (
        "rights",
        "request",
        "Customers' rights requests: access, correction, erasure, nomination, grievance.",
    ),
    "nominee": ("rights", "nominee", "Nominees who may act for a customer (DPDP Act s.14)."),
    "staff": ("staff", "app", "Staff accounts for the console (password and TOTP)."),
    "incident": ("incident", "app", "Security incidents and personal data breaches."),
    "backup": (
        "backup",
        "backup",
        "Copy the vault's database to a file, and ledger it. The keys are not in it.",
    ),
    "restore": (
        "backup",
        "restore",
        "Replace the vault's database with a backup; erasures since it stay erased.",
    ),
    "schema": (
        "schema",
        "schema",
        "JSON Schemas of what you write: the customer record, the policy file.",
    ),
}


def load_command(name: str) -> Any:
    """Import the module of ``name`` and build its Click command exactly as it would be
    built as a member of the root group (it is one: of a stand-in root)."""
    module, attribute, _ = COMMANDS[name]
    target = getattr(importlib.import_module(f"needtoknow.cli.{module}"), attribute)
    root = typer.Typer(add_completion=False)
    root.callback()(_no_options)
    if isinstance(target, typer.Typer):
        root.add_typer(target, name=name)
    else:
        root.command(name=name)(target)
    return typer.main.get_command(root).commands[name]  # type: ignore[attr-defined]


def _no_options() -> None:
    """The stand-in root's callback: it makes a group of one command."""


class LazyGroup(TyperGroup):
    """The root group: commands listed from :data:`COMMANDS`, imported when one runs."""

    _listing = False

    # Typer's Click is its own (typer._click): contexts and formatters are typed Any here.
    def list_commands(self, ctx: Any) -> list[str]:
        eager = super().list_commands(ctx)
        lazy = list(COMMANDS)
        return lazy[:7] + eager + lazy[7:]  # the order `ntk --help` has always shown

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        if self._listing:  # help lists names and summaries: import nothing
            return TyperCommand(cmd_name, help=COMMANDS[cmd_name][2])
        try:
            return load_command(cmd_name)
        except MissingExtra as exc:  # say which extra to install, with its exit code
            from needtoknow.cli.common import reported

            with reported():
                raise exc from None
            raise  # unreachable: reported() exits

    def main(self, args: Any = None, *rest: Any, **options: Any) -> Any:
        """With ``--json`` anywhere in the command line, a usage error (a missing option,
        a bad value) is the same JSON object on stderr as every other error."""
        argv = sys.argv[1:] if args is None else list(args)
        if "--json" not in argv or options.get("standalone_mode") is False:
            return super().main(args, *rest, **options)
        from typer._click.exceptions import ClickException
        from typer.exceptions import Abort

        try:
            code = super().main(args, *rest, **{**options, "standalone_mode": False})
        except ClickException as exc:
            body = {"error": "UsageError", "message": exc.format_message()}
            print(json.dumps(body), file=sys.stderr)
            sys.exit(exc.exit_code)
        except Abort:  # Ctrl-C, or end of input at a prompt
            print(json.dumps({"error": "Aborted", "message": "aborted"}), file=sys.stderr)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """Typer's look, drawn with Rich alone: Typer's help module imports Markdown,
        Pygments and Rich's traceback, which would double ``ntk --help``'s start-up."""
        from rich import box
        from rich.console import Console, Group
        from rich.padding import Padding
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        def panel(title: str, rows: list[tuple[str, str]]) -> Panel:
            table = Table(box=None, show_header=False, padding=(0, 1), pad_edge=False)
            table.add_column(style="bold cyan", no_wrap=True)
            table.add_column()
            for name, summary in rows:
                table.add_row(name, Text(summary))  # a summary is text, never markup
            return Panel(
                table, title=title, title_align="left", border_style="dim", box=box.ROUNDED
            )

        self._listing = True
        try:
            commands = [(n, self.get_command(ctx, n).help or "") for n in self.list_commands(ctx)]
        finally:
            self._listing = False
        Console(width=_terminal_width()).print(
            Group(
                Padding(self.get_usage(ctx), 1, style="bold"),
                Padding(self.help or "", (0, 1, 1, 1)),
                panel("Options", [("--help", "Show this message and exit.")]),
                panel("Commands", commands),
            )
        )


def _terminal_width() -> int | None:
    """Typer's own override of the help's width (``TERMINAL_WIDTH``), if set."""
    width = os.environ.get("TERMINAL_WIDTH", "")
    return int(width) if width.isdigit() else None


app = typer.Typer(
    cls=LazyGroup, no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False
)


@app.callback()
def main() -> None:
    """needtoknow: customer PII on a need-to-know basis. NTK_HOME selects the vault."""


@app.command()
def init(
    policy_file: Annotated[
        Path | None,
        typer.Option("--policy", help="Policy YAML (default: the NextraOne demo policy)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (the HTTP API's shape); errors as JSON.")
    ] = False,
) -> None:
    """Create a vault under NTK_HOME: key file, database, active policy."""
    from needtoknow.cli.common import reported, show
    from needtoknow.config import Settings, init_vault
    from needtoknow.policy import load_policy

    settings = Settings.from_env()
    with reported(as_json):
        text = load_policy(policy_file)[0].source if policy_file else None
        vault = init_vault(settings, text, str(policy_file or ""))
    info: dict[str, Any] = {
        "home": str(settings.home),
        "database": settings.database_url_safe(),
        "key_provider": vault.keys.name,
        "policy": vault.policy.name,
        "policy_version": vault.policy.version,
    }
    show(info, as_json)


if __name__ == "__main__":
    app()
