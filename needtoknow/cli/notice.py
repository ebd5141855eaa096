"""``ntk notice``: the privacy notice, rendered from the policy itself."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from needtoknow.cli.common import reported, with_vault
from needtoknow.detect.output import replacing
from needtoknow.errors import ValidationError
from needtoknow.policy.notice import LANGUAGES, Notice, render
from needtoknow.vault import Vault
from needtoknow.versions import PolicyVersions

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
        versions = PolicyVersions(vault)
        posted, policy, registry = versions.get(version or vault.policy.version)
        return render(policy, registry, lang, posted.changes if posted.changes else None)

    text = with_vault(notice)
    body = text.html() if as_html else text.markdown()
    if out is None:
        typer.echo(body, nl=False)
        return
    with reported(), replacing(out) as temporary:
        temporary.write_text(body, "utf-8")
