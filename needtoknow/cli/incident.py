"""``ntk incident``: security incidents and personal data breaches — open one when it
is noticed (the CERT-In and Board clocks start), scope it from the ledger's evidence,
tell the people affected, write the reports, record when each was made, close it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from needtoknow.cli.common import Json, counting, parse_moment, reported, show, with_vault
from needtoknow.config import Settings
from needtoknow.incidents import KINDS, REPORTS, Incidents

if TYPE_CHECKING:
    from needtoknow.vault import Vault

app = typer.Typer(help="Security incidents and personal data breaches.", no_args_is_help=True)

Moment = Annotated[
    str | None, typer.Option(help="A time with its zone, e.g. 2026-12-05T09:30+05:30.")
]


@app.command(name="open")
def open_(
    kind: Annotated[str, typer.Option(help="CERT-In's kind: " + ", ".join(KINDS) + ".")],
    noticed_at: Annotated[
        str, typer.Option(help="When it was noticed, with its zone (the clocks start here).")
    ],
    summary: Annotated[str, typer.Option(help="What happened (stored sealed).")],
    as_json: Json = False,
) -> None:
    """Open an incident: prints its id and its deadlines (CERT-In six hours from noticing;
    the Board told without delay, its detailed report within 72 hours)."""
    with reported(as_json):
        noticed = parse_moment(noticed_at, "noticed_at")

    def run(vault: Vault) -> dict[str, Any]:
        register = Incidents(vault)
        return register.open(kind, noticed, summary).to_json(register.vault.clock())

    show(with_vault(run, as_json), as_json)


@app.command()
def scope(
    incident_id: str,
    key: Annotated[str | None, typer.Option(help="An API key's id: what it received.")] = None,
    recipient: Annotated[str | None, typer.Option(help="A recipient: what it received.")] = None,
    actor: Annotated[str | None, typer.Option(help="An actor (staff:…, user:…).")] = None,
    category: Annotated[
        str | None, typer.Option(help="A leaked category: everyone holding it.")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            help="A leaked file: the customers it names (scanned; matched without decrypting).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="Window start, with its zone.")
    ] = None,
    to: Annotated[str | None, typer.Option(help="Window end (excluded), with its zone.")] = None,
    as_json: Json = False,
) -> None:
    """Add to the incident the customers (and categories) the evidence shows were
    touched: what a key, recipient or actor received in the window, by the ledger;
    everyone holding a category; or the customers a leaked file names. Each run is a
    new version of the scope; it only grows."""
    with reported(as_json):
        since = parse_moment(from_, "from") if from_ else None
        until = parse_moment(to, "to") if to else None
    show(
        with_vault(
            lambda vault: (
                Incidents(vault)
                .scope(
                    incident_id,
                    key=key,
                    recipient=recipient,
                    actor=actor,
                    category=category,
                    file=file,
                    since=since,
                    until=until,
                )
                .to_json()
            ),
            as_json,
        ),
        as_json,
    )


@app.command(name="list")
def list_(
    open_only: Annotated[bool, typer.Option("--open", help="Only open incidents.")] = False,
    as_json: Json = False,
) -> None:
    """Incidents, newest first, with their clocks (overdue ones flagged)."""

    def run(vault: Vault) -> dict[str, Any]:
        register = Incidents(vault)
        now = register.vault.clock()
        return {"incidents": [i.to_json(now) for i in register.listing(open_only)]}

    show(with_vault(run, as_json), as_json)


@app.command(name="show")
def show_(incident_id: str, as_json: Json = False) -> None:
    """One incident: its clocks and its scope so far."""

    def run(vault: Vault) -> dict[str, Any]:
        register = Incidents(vault)
        return register.get(incident_id).to_json(register.vault.clock())

    show(with_vault(run, as_json), as_json)


@app.command()
def revoke(
    incident_id: str,
    key: Annotated[str | None, typer.Option(help="An API key's id to stop now.")] = None,
    agreement: Annotated[
        str | None, typer.Option(help="An agreement to end now (its recipient loses access).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Stop a leaked key or a breached contractor's agreement at once, in every process,
    on the incident's record."""
    show(
        with_vault(
            lambda vault: Incidents(vault).revoke(incident_id, key=key, agreement=agreement),
            as_json,
        ),
        as_json,
    )


@app.command()
def notify(
    incident_id: str,
    notice: Annotated[
        Path,
        typer.Option(
            help="The notice's words (YAML or JSON): what_happened, consequences, measures, "
            "advice — each with en and hi. See docs/incidents.md.",
            exists=True,
            dir_okay=False,
        ),
    ],
    limit: Annotated[int, typer.Option(help="Send at most this many now.")] = 1000,
    as_json: Json = False,
) -> None:
    """Tell each person in the scope (once each, however often it runs) by e-mail, in
    English and Hindi, with Rule 7(1)'s contents; then send what is due (as `ntk notice
    send` does, over NTK_SMTP_*)."""
    import yaml

    settings = Settings.from_env()
    with reported(as_json):
        words = yaml.safe_load(notice.read_text("utf-8"))
        smtp = settings.smtp()

    def run(vault: Vault) -> dict[str, Any]:
        register = Incidents(vault)
        queued = register.notify(incident_id, words)
        with counting("sending notices", as_json) as advance:
            sent = vault.outbox(smtp, register.compose).deliver(limit, advance)
        return {**queued, "delivery": sent}

    show(with_vault(run, as_json), as_json)


@app.command()
def report(
    incident_id: str,
    words: Annotated[
        Path,
        typer.Option(
            "--words",
            help="The company's words (YAML or JSON): description, facts, mitigation, "
            "findings, remediation (affected_systems, occurred optional). See "
            "docs/incidents.md.",
            exists=True,
            dir_okay=False,
        ),
    ],
    out: Annotated[Path, typer.Option(help="Directory for the reports.")] = Path("."),
    as_json: Json = False,
) -> None:
    """Write the Data Protection Board's detailed report (Rule 7(2)(b)) and CERT-In's
    incident report, each as Markdown and PDF, from the incident's record; their
    SHA-256 go into the ledger."""
    import yaml

    from needtoknow.guards.extras import require

    with reported(as_json):
        require("incidents")
        given = yaml.safe_load(words.read_text("utf-8"))
    show(
        with_vault(lambda vault: Incidents(vault).report(incident_id, given, out), as_json),
        as_json,
    )


@app.command()
def filed(
    incident_id: str,
    report: Annotated[str, typer.Option(help="Which report was made: " + ", ".join(REPORTS) + ".")],
    at: Moment = None,
    reference: Annotated[
        str | None, typer.Option(help="The authority's acknowledgement or reference.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Record that a report was made (default: now): its clock stops, and the record
    says when and under which reference."""
    with reported(as_json):
        made = None if at is None else parse_moment(at, "at")

    def run(vault: Vault) -> dict[str, Any]:
        register = Incidents(vault)
        when = made or register.vault.clock()
        return register.filed(incident_id, report, when, reference).to_json(register.vault.clock())

    show(with_vault(run, as_json), as_json)


@app.command()
def close(incident_id: str, as_json: Json = False) -> None:
    """Close an incident (its record and scope are kept)."""

    def run(vault: Vault) -> dict[str, Any]:
        register = Incidents(vault)
        return register.close(incident_id).to_json(register.vault.clock())

    show(with_vault(run, as_json), as_json)
