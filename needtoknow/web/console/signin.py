"""Signing in and out of the console: a name, a password and a fresh TOTP code.

Every refusal reads the same ("wrong name, password or code"), whichever was wrong;
the account locks after five (``staff.accounts``) and a client address that keeps
failing is slowed down whatever names it tries (the service's refusal limiter).
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
from needtoknow.web.pages import render

router = APIRouter()


@router.get("/signin")
def sign_in_form(request: Request) -> Response:
    token = forms.pre_session_token(request)
    response = render(request, "console/signin.html", csrf=token, problem=None)
    forms.keep_pre_session(response, token, PATH)
    return response


@router.post("/signin")
async def sign_in(request: Request) -> Response:
    posted = await forms.fields(request)
    forms.check(request.cookies.get(forms.FORM_COOKIE, ""), forms.given_token(request, posted))
    client = request.client.host if request.client else "unknown"
    request.app.state.service.admit_refusal(client, "console-sign-in")  # before any work
    vault = base_vault(request).acting("console", request.state.request_id)
    name = posted.get("name")
    try:
        token = await run_in_threadpool(
            StaffSessions(vault.scope).start, name, posted.exact("password"), posted.get("code")
        )
    except (VerificationFailed, TooManyAttempts) as exc:
        locked = isinstance(exc, TooManyAttempts)
        problem = "locked" if locked else "wrong"
        status = 429 if locked else 401
        csrf = forms.pre_session_token(request)
        return render(request, "console/signin.html", status, csrf=csrf, problem=problem)
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
