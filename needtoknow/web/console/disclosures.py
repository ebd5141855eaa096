"""Legal disclosures: file a request, approve or reject it as a second person, release
the approved scope as a package (sealed to the authority's key when one is given).

The four eyes are the library's: ``Disclosures.approve`` refuses the actor who filed the
request, and here the actor is the signed-in member, so two accounts are two people.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from needtoknow.errors import ValidationError
from needtoknow.web.console.access import Desk, PostedDecision, PostedFiling, Viewing, page

router = APIRouter()

# Purposes a legal disclosure may serve (the seed: legal process, IT Act investigations,
# defending rights, enforcing terms), offered first in the form when the policy has them.
LEGAL = ("legal_process", "investigation", "protect_rights", "enforce_terms")


def _form_choices(desk: Desk) -> dict[str, Any]:
    policy = desk.vault.policy
    purposes = [p for p in LEGAL if p in policy.purposes] or sorted(
        set(policy.purposes) - set(policy.prohibited_purposes)
    )
    return {
        "authorities": sorted(n for n, r in policy.recipients.items() if r.kind == "authority"),
        "purposes": purposes,
        "categories": sorted(desk.vault.registry),
    }


@router.get("/disclosures")
def listing(request: Request, desk: Viewing) -> Response:
    return page(
        request,
        desk,
        "console/disclosures.html",
        requests=desk.vault.disclosures.requests(),
        **_form_choices(desk),
    )


@router.post("/disclosures")
def file(request: Request, posted: PostedFiling) -> Response:
    form = posted.form
    made = posted.desk.vault.disclosures.request(
        authority=form.get("authority"),
        purpose=form.get("purpose"),
        legal_basis=form.get("legal_basis"),
        reference=form.get("reference"),
        customer_ids=form.lines("customer_ids"),
        categories=form.all("categories"),
        case_owner=form.get("case_owner") or posted.desk.actor,
        period=(form.day("period_from"), form.day("period_to")),
        non_disclosure_until=form.day("non_disclosure_until"),
    )
    return RedirectResponse(f"/console/disclosures/{made.id}", status_code=303)


@router.get("/disclosures/{request_id}")
def one(request_id: str, request: Request, desk: Viewing) -> Response:
    found = desk.vault.disclosures.get(request_id)
    return page(
        request,
        desk,
        "console/disclosure.html",
        d=found,
        filed_by_me=found.requested_by == desk.actor,
    )


@router.post("/disclosures/{request_id}/approve")
def approve(request_id: str, posted: PostedDecision) -> Response:
    posted.desk.vault.disclosures.approve(request_id)
    return RedirectResponse(f"/console/disclosures/{request_id}", status_code=303)


@router.post("/disclosures/{request_id}/reject")
def reject(request_id: str, posted: PostedDecision) -> Response:
    posted.desk.vault.disclosures.reject(request_id, posted.form.get("reason"))
    return RedirectResponse(f"/console/disclosures/{request_id}", status_code=303)


@router.post("/disclosures/{request_id}/release")
def release(request_id: str, posted: PostedFiling) -> Response:
    """The package itself, as a download: it is made once (the request is then released)."""
    key_text = posted.form.get("public_key")
    try:
        public_key = bytes.fromhex(key_text) if key_text else None
    except ValueError:
        raise ValidationError("public_key", "disclosure", "hex") from None
    package = posted.desk.vault.disclosures.release(request_id, public_key)
    sealed = ".hpke" if public_key else ".json"
    return Response(
        package.payload,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="disclosure-{request_id}{sealed}"'},
    )
