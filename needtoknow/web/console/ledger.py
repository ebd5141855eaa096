"""The ledger: browse entries by customer, recipient, kind and time; verify it now (the
run is kept, and shown on Today); download an export and the signed head — what a
witness or an auditor takes away to check without trusting this server."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from needtoknow.errors import ValidationError
from needtoknow.guards.names import unknown
from needtoknow.ledger.entry import KINDS
from needtoknow.web.console.access import Desk, PostedLedger, ReadingLedger, page

router = APIRouter()
FILTERS = ("customer", "recipient", "kind", "since", "until")


def _moment(text: str, name: str, end_of_day: bool = False) -> datetime | None:
    """A form's date (or date and time, UTC unless it says); a date alone as an ``until``
    means the whole of that day."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(name, "ledger", "time", "a date or date and time") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    date_only = len(text) == len("YYYY-MM-DD")
    return moment + timedelta(days=1) if end_of_day and date_only else moment


def _rows(request: Request, desk: Desk) -> dict[str, Any]:
    asked = {name: request.query_params.get(name, "").strip() for name in FILTERS}
    if asked["kind"] and asked["kind"] not in KINDS:
        raise ValidationError("kind", "ledger", "unknown", unknown("kind", asked["kind"], KINDS))
    found, looked = desk.vault.ledger.browse(
        customer_id=asked["customer"] or None,
        kind=asked["kind"] or None,
        recipient=asked["recipient"] or None,
        since=_moment(asked["since"], "since"),
        until=_moment(asked["until"], "until", end_of_day=True),
    )
    return {"asked": asked, "found": found, "looked": looked, "kinds": sorted(KINDS)}


@router.get("/ledger")
def browse(request: Request, desk: ReadingLedger) -> Response:
    template = (
        "console/ledger_rows.html" if request.headers.get("hx-request") else "console/ledger.html"
    )
    return page(request, desk, template, report=None, **_rows(request, desk))


@router.post("/ledger/verify")
def verify(request: Request, posted: PostedLedger) -> Response:
    """What was appended since the last verification that held (its cost grows with the
    new entries only), or — asked for — all of it; one at a time (audits.run)."""
    desk = posted.desk
    report = desk.vault.audits.run(since_last=posted.form.get("scope") != "all")
    return page(request, desk, "console/ledger.html", report=report, **_rows(request, desk))


@router.get("/ledger/export")
def export(desk: ReadingLedger) -> Response:
    """Every entry and a signed head over them, as ``ntk ledger export`` writes it."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+", encoding="utf-8")  # noqa: SIM115 - closed by the stream
    desk.vault.ledger.export(spool)
    spool.seek(0)

    def lines() -> Iterator[str]:
        with spool:
            yield from spool

    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="ledger.jsonl"'},
    )


@router.get("/ledger/head")
def head(desk: ReadingLedger) -> Response:
    signed = desk.vault.ledger.sign_head()
    return Response(
        json.dumps(signed.to_json(), indent=2),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="signed-tree-head.json"'},
    )
