"""Customers: find one by e-mail, telephone or identity number (a blind-index lookup,
ledgered, no decryption), then see what the policy lets the chosen recipient see for
the stated purpose — the officer's reads are reads like any other, checked and
ledgered — with the customer's holds, consents, requests and history.

The officer acts for one of the company's own teams only: a read in the name of a
bank or a contractor would put that recipient into the customer's "who received it".
Values typed into the search, and the reads themselves, are posted, never put in a URL:
a typed e-mail stays out of browser history and logs, and a reload or a prefetch does
not read (and ledger) again.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from needtoknow.errors import ValidationError
from needtoknow.guards.names import unknown
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


def _acting_for(desk: Desk, recipient: str) -> str:
    """The team the officer acts for: one of the company's own, or refused."""
    teams = _choices(desk)["recipients"]
    if recipient not in teams:
        detail = unknown("recipient", recipient, teams)
        raise ValidationError("recipient", "console", "not_an_internal_team", detail)
    return recipient


@router.get("/customers")
def search(request: Request, desk: SeeingCustomers) -> Response:
    return page(request, desk, "console/customers.html", found=None, asked={}, **_choices(desk))


@router.post("/customers")
def find(request: Request, posted: PostedCustomers) -> Response:
    form, desk = posted.form, posted.desk
    asked = {name: form.get(name) for name in ("category", "recipient", "purpose")}
    recipient = _acting_for(desk, asked["recipient"])
    found = desk.vault.find(
        asked["category"], form.get("value"), recipient=recipient, purpose=asked["purpose"]
    )
    return page(request, desk, "console/customers.html", found=found, asked=asked, **_choices(desk))


@router.post("/customers/{customer_id}")
def customer(customer_id: str, request: Request, posted: PostedCustomers) -> Response:
    desk, vault = posted.desk, posted.desk.vault
    recipient = _acting_for(desk, posted.form.get("recipient"))
    read = vault.get(customer_id, recipient=recipient, purpose=posted.form.get("purpose"))
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
