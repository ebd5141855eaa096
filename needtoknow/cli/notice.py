"""``ntk notice``: the privacy notice, rendered from the policy itself."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from needtoknow.cli.common import Json, counting, print_json, reported, show, with_vault
from needtoknow.config import Settings
from needtoknow.errors import ValidationError
from needtoknow.guards.output import replacing
from needtoknow.policy.notice import LANGUAGES, Notice, render
from needtoknow.vault import Vault

app = typer.Typer(help="The privacy notice, generated from the policy.", no_args_is_help=True)


@app.command(name="render")
def render_notice(
    lang: Annotated[str, typer.Option(help="en or hi.")] = "en",
    version: Annotated[
        str | None, typer.Option(help="A posted version (default: the active one).")
    ] = None,
    as_html: Annotated[bool, typer.Option("--html", help="HTML instead of Markdown.")] = False,
    out: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON: version, language, format, text.")
    ] = False,
) -> None:
    """The notice for the active policy, or a posted VERSION with what it changes."""

    def notice(vault: Vault) -> tuple[str, Notice]:
        if lang not in LANGUAGES:
            raise ValidationError("lang", "notice", "one_of", ", ".join(LANGUAGES))
        posted, policy, registry = vault.versions.get(version or vault.policy.version)
        changes = posted.changes if posted.changes else None
        return posted.version, render(policy, registry, lang, changes)

    shown, text = with_vault(notice, as_json)
    body = text.html() if as_html else text.markdown()
    if out is not None:
        with reported(as_json), replacing(out) as temporary:
            temporary.write_text(body, "utf-8")
    if as_json:
        kind = "html" if as_html else "markdown"
        print_json({"version": shown, "language": lang, "format": kind, "text": body})
    elif out is None:
        typer.echo(body, nl=False)


@app.command()
def send(
    limit: Annotated[int, typer.Option(help="At most this many notices now.")] = 100,
    as_json: Json = False,
) -> None:
    """Deliver due customer notices (of posted material changes, and of incidents) over
    SMTP (NTK_SMTP_HOST,
    NTK_SMTP_PORT, NTK_SMTP_FROM); failures are retried on later runs. NTK_SMTP_TLS is
    starttls, implicit or plain (loopback only; the default there, starttls elsewhere);
    NTK_SMTP_CA_FILE names the authorities to trust instead of the system's."""
    settings = Settings.from_env()
    with reported(as_json):
        smtp = settings.smtp()

    def run(vault: Vault) -> dict[str, int]:
        from needtoknow.incidents import Incidents

        with counting("sending notices", as_json) as advance:
            return vault.outbox(smtp, Incidents(vault).compose).deliver(limit, advance)

    show(with_vault(run, as_json), as_json)


@app.command()
def status(version: str, as_json: Json = False) -> None:
    """How many customers a posted VERSION's notice was sent to, is pending for, failed."""
    show(with_vault(lambda vault: vault.outbox().status(version), as_json), as_json)
