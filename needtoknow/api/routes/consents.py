"""A customer's consents: record, withdraw (never refused), list. Staff keys only: a
recipient that could record consents could grant itself purposes."""

from __future__ import annotations

from fastapi import APIRouter, Response

from needtoknow.api.models import ConsentIn, ConsentList, ConsentOut, Withdrawal, respond
from needtoknow.api.service import ConsentsManage

router = APIRouter(prefix="/v1/customers/{customer_id}/consents", tags=["consents"])


@router.post("", status_code=201, response_model=ConsentOut)
def grant(customer_id: str, body: ConsentIn, who: ConsentsManage) -> Response:
    consent = who.vault.consents.grant(
        customer_id, body.purpose, body.channel, body.evidence, body.notice_version
    )
    return respond(ConsentOut(**consent.to_json()), 201)


@router.post("/{purpose}/withdraw", response_model=ConsentList)
def withdraw(customer_id: str, purpose: str, body: Withdrawal, who: ConsentsManage) -> Response:
    closed = who.vault.consents.withdraw(customer_id, purpose, body.channel)
    return respond(ConsentList(consents=[ConsentOut(**c.to_json()) for c in closed]))


@router.get("", response_model=ConsentList)
def listing(customer_id: str, who: ConsentsManage) -> Response:
    found = who.vault.consents.listing(customer_id)
    return respond(ConsentList(consents=[ConsentOut(**c.to_json()) for c in found]))
