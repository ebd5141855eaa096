"""Accounts and legal holds for the company's own systems (staff scope
``accounts:manage``): the same calls as ``ntk account`` and ``ntk hold``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from needtoknow.api.models import (
    AccountOut,
    Closing,
    HoldIn,
    HoldList,
    HoldOut,
    ServicesIn,
    respond,
)
from needtoknow.api.service import AccountsManage
from needtoknow.lifecycle.accounts import AccountStatus
from needtoknow.lifecycle.holds import Hold

router = APIRouter(tags=["accounts"])


def _account(status: AccountStatus) -> Response:
    return respond(AccountOut(**status.to_json()))


def _hold(hold: Hold, status: int = 200) -> Response:
    return respond(HoldOut(**hold.to_json()), status)


@router.get("/v1/customers/{customer_id}/account", response_model=AccountOut)
def account(customer_id: str, who: AccountsManage) -> Response:
    """Open or closed, the services held, the categories kept under holds."""
    return _account(who.vault.accounts.status(customer_id))


@router.post("/v1/customers/{customer_id}/account/close", response_model=AccountOut)
def close(customer_id: str, body: Closing, who: AccountsManage) -> Response:
    """Close the account: every purpose's retention counts from now."""
    return _account(who.vault.accounts.close(customer_id, body.reason))


@router.post("/v1/customers/{customer_id}/account/reopen", response_model=AccountOut)
def reopen(customer_id: str, who: AccountsManage) -> Response:
    return _account(who.vault.accounts.reopen(customer_id))


@router.put("/v1/customers/{customer_id}/account/services", response_model=AccountOut)
def services(customer_id: str, body: ServicesIn, who: AccountsManage) -> Response:
    """The services the account holds (they decide which statutory holds apply)."""
    return _account(who.vault.accounts.set_services(customer_id, body.services))


@router.post("/v1/holds", status_code=201, response_model=HoldOut)
def place(body: HoldIn, who: AccountsManage) -> Response:
    """Keep some categories of one customer through erasure until a date."""
    hold = who.vault.holds.place(
        body.customer_id, body.categories, body.basis, body.until, tuple(body.readable_for)
    )
    return _hold(hold, 201)


@router.post("/v1/holds/{hold_id}/release", response_model=HoldOut)
def release(hold_id: str, who: AccountsManage) -> Response:
    return _hold(who.vault.holds.release(hold_id))


@router.get("/v1/holds", response_model=HoldList)
def holds(
    who: AccountsManage,
    customer_id: Annotated[str | None, Query(max_length=36)] = None,
    active: bool = False,
) -> Response:
    found = who.vault.holds.listing(customer_id, active)
    return respond(HoldList(holds=[HoldOut(**h.to_json()) for h in found]))
