"""Customers: find one by e-mail, telephone or identity number (a blind-index lookup,
ledgered, no decryption), then see what the policy lets the chosen recipient see for
the stated purpose — the officer's reads are reads like any other, checked and
ledgered — with the customer's holds, consents, requests and history.

Values typed into the search are posted, never put in a URL, so they stay out of
browser history and server logs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from needtoknow.rights.requests import RightsRequests
from needtoknow.web.console.access import Desk, PostedCustomers, SeeingCustomers, page

router = APIRouter()

SEARCHABLE = ("email", "telephone", "identity_number")
SHOWN_ENTRIES = 50  # the newest entries of a customer's history on the page


def _choices(desk: Desk) -> dict[str, Any]:
    policy = desk.vault.policy
    return {
        "searchable": [c for c in SEARCHABLE if c in desk.vault.registry],
        "recipients": sorted(n for n, r in policy.recipients.items() if r.kind == "internal_team"),
        "purposes": sorted(set(policy.purposes) - set(policy.prohibited_purposes)),
    }


@router.get("/customers")
def search(request: Request, desk: SeeingCustomers) -> Response:
    return page(request, desk, "console/customers.html", found=None, asked={}, **_choices(desk))


@router.post("/customers")
def find(request: Request, posted: PostedCustomers) -> Response:
    form, desk = posted.form, posted.desk
    asked = {name: form.get(name) for name in ("category", "recipient", "purpose")}
    found = desk.vault.find(
        asked["category"], form.get("value"), recipient=asked["recipient"], purpose=asked["purpose"]
    )
    return page(request, desk, "console/customers.html", found=found, asked=asked, **_choices(desk))


@router.get("/customers/{customer_id}")
def customer(
    customer_id: str,
    request: Request,
    recipient: str,
    purpose: str,
    desk: SeeingCustomers,
) -> Response:
    vault = desk.vault
    read = vault.get(customer_id, recipient=recipient, purpose=purpose)
    history = vault.history_document(customer_id, include_held=True)
    return page(
        request,
        desk,
        "console/customer.html",
        read=read,
        now=vault.clock(),
        holds=vault.holds.listing(customer_id),
        consents=vault.consents.listing(customer_id),
        requests=RightsRequests(vault).listing(customer_id),
        entries=history["entries"][-SHOWN_ENTRIES:][::-1],
        total=len(history["entries"]),
    )
