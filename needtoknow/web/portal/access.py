"""Who is at the portal: the customer a session cookie signs in (a one-time code to the
address on file made it), with a vault acting as ``customer:<id>`` — and, for a form,
the form's token checked before anything changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from needtoknow.errors import AuthenticationError
from needtoknow.rights.requests import RightsRequests
from needtoknow.rights.sessions import CustomerSessions
from needtoknow.vault import Vault
from needtoknow.web import forms
from needtoknow.web.pages import render

COOKIE = "ntk_me"
PATH = "/me"
SIGN_IN = f"{PATH}/signin"


@dataclass(frozen=True)
class Me:
    customer_id: str
    vault: Vault  # acting as customer:<id>, for this request
    desk: RightsRequests
    token: str

    @property
    def form_token(self) -> str:
        return forms.form_token(self.vault.keys, self.token)


def _me(request: Request) -> Me:
    token = request.cookies.get(COOKIE)
    if not token:
        raise forms.SignInFirst(SIGN_IN)
    service = request.app.state.service
    try:
        customer = CustomerSessions(service.vault).customer(token)
    except AuthenticationError:
        raise forms.SignInFirst(SIGN_IN) from None
    vault = service.vault.acting(f"customer:{customer}", request.state.request_id)
    return Me(customer, vault, RightsRequests(vault, service.messenger), token)


async def customer(request: Request) -> Me:
    """A dependency: the signed-in customer."""
    return await run_in_threadpool(_me, request)


@dataclass(frozen=True)
class Posted:
    me: Me
    form: forms.Fields


async def posting(request: Request) -> Posted:
    """A dependency for a form: the customer, and the fields once the token is right."""
    me = await run_in_threadpool(_me, request)
    fields = await forms.fields(request)
    forms.check(me.form_token, forms.given_token(request, fields))
    return Posted(me, fields)


SignedIn = Annotated[Me, Depends(customer)]
PostedForm = Annotated[Posted, Depends(posting)]


def page(request: Request, me: Me, template: str, status: int = 200, **context: Any) -> Response:
    return render(request, template, status, me=me, csrf=me.form_token, **context)


HANDLERS: tuple[tuple[type[Exception], Callable[[Request, Any], Awaitable[Response]]], ...] = (
    (forms.SignInFirst, forms.to_sign_in),
)
