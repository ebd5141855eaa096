"""Legal disclosure requests: file, list, approve or reject (four eyes), release."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter

from needtoknow.api.models import DisclosureIn, PackageOut, Reason, ReleaseIn
from needtoknow.api.service import DisclosuresDecide, DisclosuresRelease, DisclosuresRequest
from needtoknow.errors import ValidationError

router = APIRouter(prefix="/v1/disclosures", tags=["disclosures"])


@router.post("", status_code=201)
def request(body: DisclosureIn, who: DisclosuresRequest) -> dict[str, Any]:
    made = who.vault.disclosures.request(
        authority=body.authority,
        purpose=body.purpose,
        legal_basis=body.legal_basis,
        reference=body.reference,
        customer_ids=body.customer_ids,
        categories=body.categories,
        case_owner=body.case_owner,
        period=(body.period_from, body.period_to),
        non_disclosure_until=body.non_disclosure_until,
    )
    return made.to_json()


@router.get("")
def listing(who: DisclosuresRequest) -> list[dict[str, Any]]:
    return [made.to_json() for made in who.vault.disclosures.requests()]


@router.get("/{request_id}")
def get(request_id: str, who: DisclosuresRequest) -> dict[str, Any]:
    return who.vault.disclosures.get(request_id).to_json()


@router.post("/{request_id}/approve")
def approve(request_id: str, who: DisclosuresDecide) -> dict[str, Any]:
    """Approve as a second person: the key that filed the request cannot approve it."""
    return who.vault.disclosures.approve(request_id).to_json()


@router.post("/{request_id}/reject")
def reject(request_id: str, body: Reason, who: DisclosuresDecide) -> dict[str, Any]:
    return who.vault.disclosures.reject(request_id, body.reason).to_json()


@router.post("/{request_id}/release", response_model=PackageOut)
def release(request_id: str, body: ReleaseIn, who: DisclosuresRelease) -> PackageOut:
    """Read the approved scope through the policy and return the package."""
    try:
        public_key = bytes.fromhex(body.public_key) if body.public_key else None
    except ValueError:
        raise ValidationError("public_key", "disclosure", "hex") from None
    package = who.vault.disclosures.release(request_id, public_key)
    return PackageOut(payload=base64.b64encode(package.payload).decode(), manifest=package.manifest)
