"""Usage events in, differentially private reports out.

Events come only from the company's own systems (``events:write`` is a staff scope);
reports go to the key's recipient — an advertiser — charged to its budget first.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from needtoknow.analytics import EventStore
from needtoknow.analytics.reports import Reports
from needtoknow.analytics.spec import parse_spec
from needtoknow.api.models import EventBatch, Ingested, Released, ReportRequest, respond
from needtoknow.api.service import Caller, EventsWrite, ReportsRun
from needtoknow.errors import Unavailable

router = APIRouter(prefix="/v1", tags=["analytics"])


def _store(who: Caller) -> EventStore:
    if who.events is None:
        raise Unavailable("this server keeps no usage events")
    return who.events


@router.post("/events", status_code=201, response_model=Ingested)
def ingest(body: EventBatch, who: EventsWrite) -> Response:
    """Store a batch of events: pseudonymised, free text scrubbed of PII (counted per
    entity), bad events counted by rule and left out; the batch is written whole."""
    report = _store(who).ingest(body.events)
    return respond(Ingested(**report.to_json()), 201)


@router.post("/reports", response_model=Released)
def run(body: ReportRequest, who: ReportsRun) -> Response:
    """Release a report to the key's recipient under differential privacy, charged to
    its budget before release; a report that does not fit is a 403 ``budget-exceeded``
    problem carrying what is left."""
    spec = parse_spec(body.spec)
    release = Reports(who.vault.scope, _store(who)).run(spec, who.key.recipient, body.purpose)
    return respond(Released(**release.to_json()))
