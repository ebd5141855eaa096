"""Agreements binding contractors to purposes, and the customers handed to them."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter

from needtoknow.api.models import AgreementChange, AgreementIn, Count, Customers, Reason
from needtoknow.api.service import AgreementsManage
from needtoknow.policy.model import Agreement
from needtoknow.records.agreements import agreement_json

router = APIRouter(prefix="/v1/agreements", tags=["agreements"])


@router.get("")
def listing(who: AgreementsManage) -> list[dict[str, Any]]:
    """Every agreement, revoked ones too, with how many customers each is assigned."""
    return who.vault.agreements.listing()


@router.post("", status_code=201)
def create(body: AgreementIn, who: AgreementsManage) -> dict[str, Any]:
    agreement = Agreement(
        id=body.id,
        recipient=body.recipient,
        purposes=frozenset(body.purposes),
        expires=body.expires,
        starts=body.starts or date.min,
        reference=body.reference,
        customer_scoped=body.customer_scoped,
    )
    return agreement_json(who.vault.agreements.create(agreement))


@router.patch("/{agreement_id}")
def amend(agreement_id: str, body: AgreementChange, who: AgreementsManage) -> dict[str, Any]:
    changes = body.model_dump(exclude_none=True)
    if "purposes" in changes:
        changes["purposes"] = frozenset(changes["purposes"])
    return agreement_json(who.vault.agreements.amend(agreement_id, **changes))


@router.post("/{agreement_id}/revoke")
def revoke(agreement_id: str, body: Reason, who: AgreementsManage) -> dict[str, Any]:
    """End the agreement now: its recipient loses access at its next request. The
    answer is the agreement as the listing shows it, with ``revoked_at``."""
    return who.vault.agreements.revoke(agreement_id, body.reason)


@router.post("/{agreement_id}/customers", response_model=Count)
def assign(agreement_id: str, body: Customers, who: AgreementsManage) -> Count:
    """Hand customers to a customer-scoped agreement; the count newly assigned."""
    return Count(count=who.vault.agreements.assign(agreement_id, body.customer_ids))


@router.post("/{agreement_id}/customers/remove", response_model=Count)
def unassign(agreement_id: str, body: Customers, who: AgreementsManage) -> Count:
    return Count(count=who.vault.agreements.unassign(agreement_id, body.customer_ids))
