"""Signing in to the portal with a one-time code to the e-mail or telephone on file.

The answer to "send me a code" is the same page whether or not the address is known,
and the code is sent after the answer (so its timing does not tell either); the
library limits starts per address and per client and locks out repeated wrong codes.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from needtoknow.errors import NeedToKnowError, TooManyAttempts, VerificationFailed
from needtoknow.rights.sessions import SESSION_LIFETIME, CustomerSessions, Delivery
from needtoknow.web import forms
from needtoknow.web.pages import sign_in_page
from needtoknow.web.portal.access import COOKIE, PATH, PostedForm

router = APIRouter()


def _form(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    keys = request.app.state.service.vault.keys
    return sign_in_page(request, keys, PATH, template, status, **context)


async def _pre_session_fields(request: Request) -> forms.Fields:
    return await forms.pre_session_fields(request, request.app.state.service.vault.keys)


def _deliver(send: Delivery) -> None:
    with suppress(NeedToKnowError):  # the address stays out of logs; they can ask again
        send()


@router.get("/signin")
def sign_in_form(request: Request) -> Response:
    return _form(request, "me/signin.html", problem=None)


@router.post("/signin")
async def send_code(request: Request, background: BackgroundTasks) -> Response:
    posted = await _pre_session_fields(request)
    service = request.app.state.service
    client = request.client.host if request.client else "unknown"
    vault = service.vault.acting("customer:unverified", request.state.request_id)
    sessions = CustomerSessions(vault, service.messenger)
    try:
        session_id, delivery = await run_in_threadpool(
            sessions.start, posted.get("address"), client
        )
    except TooManyAttempts:
        return _form(request, "me/signin.html", 429, problem="busy")
    if delivery is not None:
        background.add_task(_deliver, delivery)
    return _form(request, "me/code.html", session_id=session_id, problem=None)


@router.post("/signin/code")
async def check_code(request: Request) -> Response:
    posted = await _pre_session_fields(request)
    service = request.app.state.service
    vault = service.vault.acting("customer:unverified", request.state.request_id)
    session_id = posted.get("session_id")
    try:
        session = await run_in_threadpool(
            CustomerSessions(vault).verify, session_id, posted.get("code")
        )
    except (VerificationFailed, TooManyAttempts):
        return _form(request, "me/code.html", 401, session_id=session_id, problem="wrong")
    response = RedirectResponse(PATH, status_code=303)
    forms.keep_session(response, COOKIE, session.token, PATH, int(SESSION_LIFETIME.total_seconds()))
    forms.drop_session(response, forms.FORM_COOKIE, PATH)
    return response


@router.post("/signout")
def sign_out(posted: PostedForm) -> Response:
    CustomerSessions(posted.me.vault).end(posted.me.token)
    response = RedirectResponse(f"{PATH}/signin", status_code=303)
    forms.drop_session(response, COOKIE, PATH)
    return response
