"""Signing in and out of the console: a name, a password and a fresh TOTP code.

Every refusal reads the same ("wrong name, password or code"), whichever was wrong;
the account locks after five (``staff.accounts``) and a client address that keeps
failing is stopped whatever names it tries (the service's refusal limiter,
NTK_API_REFUSAL_RATE: refusals only count, so a busy office signing in is not). Behind a
proxy, run uvicorn with the proxy's address trusted (``--forwarded-allow-ips``) so the
client address, and the scheme that decides HSTS, are the browser's.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from needtoknow.errors import TooManyAttempts, VerificationFailed
from needtoknow.staff import StaffSessions
from needtoknow.staff.sessions import LIFETIME
from needtoknow.web import forms
from needtoknow.web.console.access import COOKIE, PATH, PostedView, base_vault
from needtoknow.web.pages import sign_in_page

router = APIRouter()
SIGN_IN_BUCKET = "console-sign-in"  # refusals per client address, apart from API keys


@router.get("/signin")
def sign_in_form(request: Request) -> Response:
    keys = base_vault(request).keys
    return sign_in_page(request, keys, PATH, "console/signin.html", problem=None)


@router.post("/signin")
async def sign_in(request: Request) -> Response:
    keys = base_vault(request).keys
    posted = await forms.pre_session_fields(request, keys)
    client = request.client.host if request.client else "unknown"
    service = request.app.state.service
    service.over_refusals(client, SIGN_IN_BUCKET)  # before the Argon2 work
    vault = base_vault(request).acting("console", request.state.request_id)
    name = posted.get("name")
    try:
        token = await run_in_threadpool(
            StaffSessions(vault.scope).start, name, posted.exact("password"), posted.get("code")
        )
    except (VerificationFailed, TooManyAttempts) as exc:
        service.admit_refusal(client, SIGN_IN_BUCKET)  # only refusals count
        locked = isinstance(exc, TooManyAttempts)
        problem = "locked" if locked else "wrong"
        status = 429 if locked else 401
        return sign_in_page(request, keys, PATH, "console/signin.html", status, problem=problem)
    response = RedirectResponse(PATH, status_code=303)
    forms.keep_session(response, COOKIE, token, PATH, int(LIFETIME.total_seconds()))
    forms.drop_session(response, forms.FORM_COOKIE, PATH)
    return response


@router.post("/signout")
def sign_out(posted: PostedView) -> Response:
    StaffSessions(posted.desk.vault.scope).end(posted.desk.token)
    response = RedirectResponse(f"{PATH}/signin", status_code=303)
    forms.drop_session(response, COOKIE, PATH)
    return response
