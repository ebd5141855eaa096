"""``ntk request`` and ``ntk nominee``: customers' rights requests — open, verify who is
asking, answer within the published period, escalate what is late — and nominees."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from needtoknow.cli.common import Json, print_json, reported, show, stdout, with_vault
from needtoknow.config import Settings
from needtoknow.errors import ValidationError
from needtoknow.policy.model import RIGHT_KINDS
from needtoknow.rights.nominees import EVIDENCE
from needtoknow.rights.requests import STAFF_METHODS, RightsRequest, RightsRequests
from needtoknow.rights.senders import CHANNELS

request = typer.Typer(
    help="Customers' rights requests: access, correction, erasure, nomination, grievance.",
    no_args_is_help=True,
)
nominee = typer.Typer(
    help="Nominees who may act for a customer (DPDP Act s.14).", no_args_is_help=True
)


def _desk(action: Callable[[RightsRequests], Any], as_json: bool) -> Any:
    """Run ``action`` on the request queue, with e-mail and SMS from the environment."""
    settings = Settings.from_env()
    with reported(as_json):
        messenger = settings.messenger()
    return with_vault(lambda vault: action(RightsRequests(vault, messenger)), as_json)


def _show(found: RightsRequest, desk: RightsRequests) -> dict[str, Any]:
    return found.to_json(desk.scope.clock())


def _details(path: Path | None) -> Any:
    """A request's details from a file (``-``: stdin): JSON, or else plain text."""
    if path is None:
        return None
    text = sys.stdin.read() if str(path) == "-" else path.read_text("utf-8")
    try:
        return json.loads(text)
    except ValueError:
        return text.strip()


def _print_request(shown: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(shown)
        return
    clock = "overdue" if shown["overdue"] else f"{shown['days_left']} days left"
    if shown["status"] != "open":
        clock = shown["status"]
    stdout.print(
        f"{shown['request_id']}  {shown['kind']}  {shown['customer_id']}  "
        f"verification: {shown['verification']}  due {shown['due_at'][:10]} ({clock})",
        highlight=False,
    )


@request.command(name="open")
def open_(
    customer: Annotated[str, typer.Option(help="The customer id.")],
    kind: Annotated[str, typer.Option(help="One of: " + ", ".join(RIGHT_KINDS) + ".")],
    details: Annotated[
        Path | None,
        typer.Option(
            help="A file ('-': stdin): a correction's {category: value} JSON, a nominee's "
            '{"name", "email" or "telephone"}, or a grievance\'s text.'
        ),
    ] = None,
    nominee_id: Annotated[
        str | None,
        typer.Option("--nominee", help="A nominee acting for the customer (evidence checked)."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Open a request for CUSTOMER; it is due within the policy's period for KIND."""
    with reported(as_json):
        given = _details(details)
    shown = _desk(lambda d: _show(d.open(customer, kind, given, nominee_id), d), as_json)
    _print_request(shown, as_json)


@request.command()
def code(
    request_id: str,
    channel: Annotated[str, typer.Option(help="One of: " + ", ".join(CHANNELS) + ".")] = "email",
    as_json: Json = False,
) -> None:
    """Send a one-time code to the customer's e-mail or telephone on file (a nominee's
    contact when one acts): NTK_SMTP_* for e-mail, NTK_SMS_URL/NTK_SMS_TOKEN for SMS."""
    sent = _desk(lambda d: d.send_code(request_id, channel), as_json)
    if as_json:
        print_json(sent)
        return
    stdout.print(f"code sent by {sent['sent']} for request {request_id}", highlight=False)


@request.command()
def verify(
    request_id: str,
    code: Annotated[
        str | None, typer.Option(help="The one-time code the customer read out.")
    ] = None,
    verified_by: Annotated[
        str | None, typer.Option(help="Who checked identity without a code (staff name).")
    ] = None,
    method: Annotated[
        str | None, typer.Option(help="How: " + ", ".join(STAFF_METHODS) + ".")
    ] = None,
    as_json: Json = False,
) -> None:
    """Verify who is asking: with --code, or with --verified-by and --method."""

    def run(desk: RightsRequests) -> dict[str, Any]:
        if code is not None:
            return _show(desk.verify(request_id, code), desk)
        if verified_by is None or method is None:
            raise ValidationError(
                "code", "request", "code_or_staff", "--code, or --verified-by with --method"
            )
        return _show(desk.verify_offline(request_id, verified_by, method), desk)

    _print_request(_desk(run, as_json), as_json)


@request.command()
def fulfil(
    request_id: str,
    copy_key: Annotated[
        Path | None,
        typer.Option(help="Access: the customer's raw 32-byte X25519 public key file for a copy."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Answer a verified request (access, correction, erasure, nomination); prints the
    answer, with the contact person."""
    with reported(as_json):
        key = copy_key.read_bytes() if copy_key else None
    show(_desk(lambda d: d.fulfil(request_id, key), as_json), as_json)


@request.command(name="close")
def close_(
    request_id: str,
    resolution: Annotated[
        str, typer.Option(help="The answer: a grievance's resolution, or why not.")
    ],
    as_json: Json = False,
) -> None:
    """Close a request with a resolution (how grievances are answered)."""
    show(_desk(lambda d: d.close(request_id, resolution), as_json), as_json)


@request.command(name="list")
def list_(
    customer: Annotated[str | None, typer.Option(help="Only this customer's.")] = None,
    overdue: Annotated[bool, typer.Option(help="Only open requests past their deadline.")] = False,
    open_only: Annotated[bool, typer.Option("--open", help="Only open requests.")] = False,
    as_json: Json = False,
) -> None:
    """Requests by deadline, with the clock."""
    found = _desk(lambda d: [_show(r, d) for r in d.listing(customer, overdue, open_only)], as_json)
    if as_json:
        print_json(found)
        return
    for shown in found:
        _print_request(shown, False)
    if not found:
        stdout.print("no requests", highlight=False)


@request.command(name="show")
def show_request(request_id: str, as_json: Json = False) -> None:
    """One request and its clock."""
    _print_request(_desk(lambda d: _show(d.get(request_id), d), as_json), as_json)


@request.command()
def escalate(as_json: Json = False) -> None:
    """Escalate overdue requests (once each): ledgered, and the contact person e-mailed."""
    found = _desk(lambda d: [_show(r, d) for r in d.escalate()], as_json)
    if as_json:
        print_json(found)
        return
    stdout.print(f"{len(found)} request(s) escalated", highlight=False)


@nominee.command(name="list")
def nominee_list(
    customer: Annotated[str, typer.Option(help="The customer id.")], as_json: Json = False
) -> None:
    """A customer's nominees, newest last (names are not shown: see 'contact')."""
    found = with_vault(lambda vault: RightsRequests(vault).nominees.listing(customer), as_json)
    if as_json:
        print_json([n.to_json() for n in found])
        return
    for n in found:
        state = "revoked" if n.revoked_at else ("may act" if n.may_act else "standing")
        stdout.print(f"{n.id}  {state}  nominated {n.nominated_at:%Y-%m-%d}", highlight=False)


@nominee.command()
def evidence(
    nominee_id: str,
    kind: Annotated[str, typer.Option(help="One of: " + ", ".join(EVIDENCE) + ".")],
    reference: Annotated[str, typer.Option(help="The certificate or order checked (kept sealed).")],
    as_json: Json = False,
) -> None:
    """Record checked evidence of the customer's death or incapacity: the nominee may act."""
    found = with_vault(
        lambda vault: RightsRequests(vault).nominees.evidence(nominee_id, kind, reference), as_json
    )
    if as_json:
        print_json(found.to_json())
        return
    stdout.print(f"nominee {nominee_id} may act ({kind})", highlight=False)


@nominee.command()
def revoke(nominee_id: str, as_json: Json = False) -> None:
    """Revoke a nominee: their name and contact are destroyed."""
    found = with_vault(lambda vault: RightsRequests(vault).nominees.revoke(nominee_id), as_json)
    if as_json:
        print_json(found.to_json())
        return
    stdout.print(f"nominee {nominee_id} revoked", highlight=False)


@nominee.command()
def contact(nominee_id: str, as_json: Json = False) -> None:
    """The nominee's name and contact, to reach them (the reading is ledgered)."""
    found = with_vault(lambda vault: RightsRequests(vault).nominees.contact(nominee_id), as_json)
    show(found, as_json)
