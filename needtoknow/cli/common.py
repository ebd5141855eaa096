"""What every command shares: opening the vault, printing JSON, and one error→exit-code table."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from needtoknow import errors
from needtoknow.config import Settings, open_vault
from needtoknow.moments import utc_text
from needtoknow.vault import Vault

# One table: each error class → exit code. Order matters: first match wins.
EXIT_CODES: tuple[tuple[type[errors.NeedToKnowError], int], ...] = (
    (errors.PolicyDenied, 3),
    (errors.NotFound, 4),
    (errors.ValidationError, 5),
    (errors.CategoryError, 5),
    (errors.PolicyError, 6),
    (errors.KeyProviderError, 7),
    (errors.IntegrityError, 8),
    (errors.Unavailable, 9),
    (errors.BudgetExceeded, 11),  # 10: ntk scan --fail-on found PII or skipped input
    (errors.NoticePending, 12),  # 13: ntk doctor found a check failing
    (errors.MissingExtra, 14),
    (errors.VerificationFailed, 15),
    (errors.TooManyAttempts, 16),
    (errors.NeedToKnowError, 1),
)

stdout = Console()
stderr = Console(stderr=True)

# Every command that prints takes it: the document the HTTP API answers with for the same
# operation, and any error as the API's {"error", "message", …} object on stderr.
Json = Annotated[
    bool, typer.Option("--json", help="Print JSON (the HTTP API's shape); errors as JSON.")
]


def exit_code(exc: errors.NeedToKnowError) -> int:
    return next(code for kind, code in EXIT_CODES if isinstance(exc, kind))


def error_body(exc: errors.NeedToKnowError) -> dict[str, Any]:
    """The JSON shape of an error; carries ids and reasons, never customer values."""
    return {"error": type(exc).__name__, "message": str(exc), **exc.details()}


@contextmanager
def reported(as_json: bool = False) -> Iterator[None]:
    """Turn library errors into a message on stderr and the table's exit code."""
    try:
        yield
    except errors.NeedToKnowError as exc:
        if as_json:
            print(json.dumps(error_body(exc)), file=sys.stderr)
        else:
            stderr.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, markup=True)
        raise typer.Exit(exit_code(exc)) from None


def parse_date(value: str, field: str, category: str) -> date:
    """A YYYY-MM-DD option, or a ValidationError naming the option."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise errors.ValidationError(field, category, "iso_date", "YYYY-MM-DD") from None


def parse_moment(value: str, field: str) -> datetime:
    """An ISO 8601 moment with its zone (``2026-11-01T09:00Z``), or a ValidationError."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise errors.ValidationError(field, "time", "iso_datetime", "e.g. 2026-11-01T09:00Z")
    return moment


@contextmanager
def counting(
    description: str, quiet: bool = False, total: int | None = None
) -> Iterator[Callable[[int], None]]:
    """A progress line on stderr — items done (of ``total``, with a bar, when known) and
    their rate; nothing when ``quiet`` (``--json``) or stderr is not a terminal."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        *([BarColumn()] if total else []),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        console=stderr,
        disable=quiet or not stderr.is_terminal,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total, rate="")

        def advance(n: int) -> None:
            bar.advance(task, n)
            speed = bar.tasks[0].speed
            bar.update(task, rate=f"{speed:,.0f}/s" if speed else "")

        yield advance


def show(data: Any, as_json: bool, human: Callable[[Any], None] | None = None) -> None:
    """Print a command's answer: JSON with ``--json``, else ``human`` (a command's own
    view) or the same document laid out for reading (:func:`needtoknow.cli.layout.lay_out`)."""
    if as_json:
        print_json(data)
    elif human is not None:
        human(data)
    else:
        from needtoknow.cli.layout import lay_out

        stdout.print(lay_out(data))


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=_as_text))


def _as_text(value: object) -> str:
    """A time in the one form the API answers with; anything else as its text."""
    return utc_text(value) if isinstance(value, datetime) else str(value)


def with_vault(action: Callable[[Vault], Any], as_json: bool = False) -> Any:
    with reported(as_json):
        return action(open_vault(Settings.from_env()))


@contextmanager
def stopping_on_sigterm() -> Iterator[None]:
    """Inside, SIGTERM (a service manager's stop) ends a long-running command the way
    Ctrl-C does: as KeyboardInterrupt, so ``finally`` blocks close the vault."""

    def interrupt(_signum: int, _frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: let the cleanup finish
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
