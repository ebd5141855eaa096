"""The customer's own API: sign in with a one-time code, then read the access summary
and the history with proofs, manage consents, and open and follow rights requests.

Separate from recipients' API keys: a session token works only here, and an API key
never does. Starting a session answers the same whether or not the address is on file
(the code, if any, is sent after the answer, so timing does not tell either).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request, Response

from needtoknow.api.logs import log
from needtoknow.api.models import (
    ConsentList,
    ConsentOut,
    History,
    MyConsentIn,
    RightsRequestIn,
    RightsRequestList,
    RightsRequestOut,
    SessionStart,
    SessionStarted,
    SessionToken,
    SessionVerify,
    respond,
)
from needtoknow.api.routes.ledger import history_of
from needtoknow.api.service import Me, Service, SignedIn
from needtoknow.errors import NeedToKnowError, NotFound
from needtoknow.rights.requests import RightsRequest
from needtoknow.rights.sessions import CustomerSessions, Delivery
from needtoknow.rights.summary import access_summary

router = APIRouter(prefix="/v1/me", tags=["me"])

CONSENT_EVIDENCE = "customer API, signed in with a one-time code"


def _deliver(send: Delivery) -> None:
    try:
        send()
    except NeedToKnowError as exc:  # logged by class: the address stays out of logs
        log.warning("a one-time code was not delivered: %s", type(exc).__name__)


@router.post("/session", status_code=202, response_model=SessionStarted)
def start(body: SessionStart, request: Request, background: BackgroundTasks) -> Response:
    """Ask for a one-time code to the e-mail or telephone on file."""
    service: Service = request.app.state.service
    client = request.client.host if request.client else "unknown"
    vault = service.vault.acting("customer:unverified", request.state.request_id)
    session_id, delivery = CustomerSessions(vault, service.messenger).start(body.address, client)
    if delivery is not None:
        background.add_task(_deliver, delivery)
    return respond(SessionStarted(session_id=session_id), 202)


@router.post("/session/verify", response_model=SessionToken)
def verify(body: SessionVerify, request: Request) -> Response:
    """Exchange the code for a bearer token, good for fifteen minutes."""
    service: Service = request.app.state.service
    vault = service.vault.acting("customer:unverified", request.state.request_id)
    session = CustomerSessions(vault).verify(body.session_id, body.code)
    return respond(SessionToken(**session.to_json()))


@router.delete("/session", status_code=204)
def end(me: SignedIn) -> Response:
    """Sign out: the token stops working at once."""
    CustomerSessions(me.vault).end(me.token)
    return Response(status_code=204)


@router.get("", response_model=dict[str, Any])
def summary(me: SignedIn) -> Response:
    """What is held about you, why, who received it (with proofs), how long it is kept,
    what an erasure would keep, and whom to contact."""
    body = access_summary(me.vault, me.customer_id)
    return Response(json.dumps(body), media_type="application/json")


@router.get("/history", response_model=History)
def history(me: SignedIn) -> Response:
    """Every entry of the ledger about you, each with its inclusion proof."""
    return respond(history_of(me.vault, me.customer_id))


@router.get("/consents", response_model=ConsentList)
def consents(me: SignedIn) -> Response:
    found = me.vault.consents.listing(me.customer_id)
    return respond(ConsentList(consents=[ConsentOut(**c.to_json()) for c in found]))


@router.post("/consents", status_code=201, response_model=ConsentOut)
def grant(body: MyConsentIn, me: SignedIn) -> Response:
    """Consent to a purpose the policy bases on consent, under the notice you saw."""
    consent = me.vault.consents.grant(
        me.customer_id, body.purpose, "api", CONSENT_EVIDENCE, body.notice_version
    )
    return respond(ConsentOut(**consent.to_json()), 201)


@router.post("/consents/{purpose}/withdraw", response_model=ConsentList)
def withdraw(purpose: str, me: SignedIn) -> Response:
    """Withdraw at once, as easily as it was given."""
    closed = me.vault.consents.withdraw(me.customer_id, purpose, "api")
    return respond(ConsentList(consents=[ConsentOut(**c.to_json()) for c in closed]))


def _out(me: Me, found: RightsRequest) -> RightsRequestOut:
    shown = found.to_json(me.vault.clock())
    resolution = me.desk.resolution(found.id) if found.status == "closed" else None
    return RightsRequestOut(**shown, resolution=resolution)


@router.get("/requests", response_model=RightsRequestList)
def requests(me: SignedIn) -> Response:
    """Your requests and their deadlines."""
    found = me.desk.listing(me.customer_id)
    return respond(RightsRequestList(requests=[_out(me, r) for r in found]))


@router.post("/requests", status_code=201, response_model=RightsRequestOut)
def open_request(body: RightsRequestIn, me: SignedIn) -> Response:
    """Open a request; you are verified already by your session."""
    found = me.desk.open(me.customer_id, body.kind, body.details, verified_method="session")
    return respond(_out(me, found), 201)


@router.get("/requests/{request_id}", response_model=RightsRequestOut)
def one_request(request_id: str, me: SignedIn) -> Response:
    found = me.desk.get(request_id)
    if found.customer_id != me.customer_id:  # another's request does not exist for you
        raise NotFound(f"no request {request_id!r}")
    return respond(_out(me, found))
