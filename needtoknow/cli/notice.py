"""``ntk notice``: the privacy notice, rendered from the policy itself."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from needtoknow.cli.common import print_json, reported, with_vault
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
) -> None:
    """The notice for the active policy, or a posted VERSION with what it changes."""

    def notice(vault: Vault) -> Notice:
        if lang not in LANGUAGES:
            raise ValidationError("lang", "notice", "one_of", ", ".join(LANGUAGES))
        versions = vault.versions
        posted, policy, registry = versions.get(version or vault.policy.version)
        return render(policy, registry, lang, posted.changes if posted.changes else None)

    text = with_vault(notice)
    body = text.html() if as_html else text.markdown()
    if out is None:
        typer.echo(body, nl=False)
        return
    with reported(), replacing(out) as temporary:
        temporary.write_text(body, "utf-8")


@app.command()
def send(
    limit: Annotated[int, typer.Option(help="At most this many notices now.")] = 100,
) -> None:
    """Deliver due customer notices of posted material changes over SMTP (NTK_SMTP_HOST,
    NTK_SMTP_PORT, NTK_SMTP_FROM); failures are retried on later runs. NTK_SMTP_TLS is
    starttls, implicit or plain (loopback only; the default there, starttls elsewhere);
    NTK_SMTP_CA_FILE names the authorities to trust instead of the system's."""
    settings = Settings.from_env()
    with reported(as_json=True):
        smtp = settings.smtp()
    outcomes = with_vault(lambda vault: vault.outbox(smtp).deliver(limit), True)
    print_json(outcomes)


@app.command()
def status(version: str) -> None:
    """How many customers a posted VERSION's notice was sent to, is pending for, failed."""
    print_json(with_vault(lambda vault: vault.outbox().status(version), True))
