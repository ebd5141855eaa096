"""Who is at the console: the staff member a session cookie signs in, with a vault that
acts as them (``staff:<name>`` in every ledger entry), allowed the pages their role
opens — and, for a form, the form's token checked before anything changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from needtoknow.errors import AuthenticationError
from needtoknow.staff import StaffMember, StaffSessions
from needtoknow.vault import Vault
from needtoknow.web import forms
from needtoknow.web.pages import render

COOKIE = "ntk_staff"
PATH = "/console"
SIGN_IN = f"{PATH}/signin"

# What each role may do; "officer" may do everything.
ROLE_MAY = {
    "officer": {"view", "decide", "file", "customers", "policy", "ledger", "reports"},
    "approver": {"view", "decide"},
    "analyst": {"view", "policy", "ledger", "reports"},
}


class NotYourRole(Exception):
    def __init__(self, role: str, needed: str) -> None:
        super().__init__(f"the {role} role may not {needed}")


@dataclass(frozen=True)
class Desk:
    """A signed-in member at the console."""

    member: StaffMember
    vault: Vault  # acting as staff:<name>, for this request
    token: str
    messenger: Any  # one-time codes and notices (rights.senders.Sender), or None

    @property
    def form_token(self) -> str:
        return forms.form_token(self.vault.keys, self.token)

    @property
    def actor(self) -> str:
        return f"staff:{self.member.name}"

    def may(self, action: str) -> bool:
        return action in ROLE_MAY[self.member.role]


def base_vault(request: Request) -> Vault:
    vault: Vault = request.app.state.service.vault
    return vault


def _desk(request: Request, action: str) -> Desk:
    token = request.cookies.get(COOKIE)
    if not token:
        raise forms.SignInFirst(SIGN_IN)
    console = base_vault(request).acting("console", request.state.request_id)
    try:
        member = StaffSessions(console.scope).member(token)
    except AuthenticationError:
        raise forms.SignInFirst(SIGN_IN) from None
    if action not in ROLE_MAY[member.role]:
        raise NotYourRole(member.role, action)
    vault = console.acting(f"staff:{member.name}", request.state.request_id)
    return Desk(member, vault, token, request.app.state.service.messenger)


def staff(action: str) -> Callable[[Request], Awaitable[Desk]]:
    """A dependency: the member at the desk, whose role allows ``action``."""

    async def dependency(request: Request) -> Desk:
        return await run_in_threadpool(_desk, request, action)

    return dependency


@dataclass(frozen=True)
class Posted:
    desk: Desk
    form: forms.Fields


def posting(action: str) -> Callable[[Request], Awaitable[Posted]]:
    """A dependency for a form: the member, and the form's fields once its token is right."""

    async def dependency(request: Request) -> Posted:
        desk = await run_in_threadpool(_desk, request, action)
        fields = await forms.fields(request)
        forms.check(desk.form_token, forms.given_token(request, fields))
        return Posted(desk, fields)

    return dependency


def page(
    request: Request, desk: Desk, template: str, status: int = 200, **context: Any
) -> Response:
    """A console page: the member's name and role in its header, its forms' token."""
    return render(
        request,
        template,
        status,
        desk.member.language,
        desk=desk,
        csrf=desk.form_token,
        **context,
    )


# Each page's dependency, by what it lets the member do.
Viewing = Annotated[Desk, Depends(staff("view"))]
ReadingPolicy = Annotated[Desk, Depends(staff("policy"))]
ReadingLedger = Annotated[Desk, Depends(staff("ledger"))]
ReadingReports = Annotated[Desk, Depends(staff("reports"))]
SeeingCustomers = Annotated[Desk, Depends(staff("customers"))]
PostedView = Annotated[Posted, Depends(posting("view"))]
PostedDecision = Annotated[Posted, Depends(posting("decide"))]
PostedFiling = Annotated[Posted, Depends(posting("file"))]
PostedCustomers = Annotated[Posted, Depends(posting("customers"))]
PostedLedger = Annotated[Posted, Depends(posting("ledger"))]


async def _not_your_role(request: Request, exc: Exception) -> Response:
    return render(request, "error.html", 403, message=str(exc), home=PATH)


HANDLERS: tuple[tuple[type[Exception], Callable[[Request, Any], Awaitable[Response]]], ...] = (
    (forms.SignInFirst, forms.to_sign_in),
    (NotYourRole, _not_your_role),
)
