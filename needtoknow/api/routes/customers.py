"""Customers: create, read for a purpose, look up by blind index, correct, erase."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from needtoknow.api.models import (
    CustomerFields,
    Disclosed,
    Erased,
    Found,
    Lookup,
    Written,
    disclosure_response,
    respond,
)
from needtoknow.api.service import CustomersErase, CustomersRead, CustomersWrite
from needtoknow.guards.jsontext import parse_json
from needtoknow.types import Context

router = APIRouter(prefix="/v1/customers", tags=["customers"])


async def _strict_json(request: Request) -> None:
    """FastAPI's JSON parse keeps the last of two equal keys: parse the body again
    strictly, so a duplicate key is refused by name (see :mod:`needtoknow.guards.jsontext`)."""
    parse_json(await request.body(), "body")


StrictJson = Annotated[None, Depends(_strict_json)]  # after the key check: declared last


@router.post("", status_code=201, response_model=Written)
def create(body: CustomerFields, who: CustomersWrite, _: StrictJson) -> Response:
    """Validate and store a new customer; its id comes back."""
    return respond(Written(**who.vault.add(body.fields).to_json()), 201)


@router.get("/{customer_id}", response_model=Disclosed)
async def get(
    customer_id: str,
    purpose: Annotated[str, Query(max_length=100, description="Why the data is needed")],
    who: CustomersRead,
    categories: Annotated[list[str] | None, Query(max_length=32)] = None,
    legal_reference: Annotated[str | None, Query(max_length=200)] = None,
    case_id: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """What the key's recipient may see of this customer for ``purpose``; the read (or
    its denial) is a ledger entry carrying this request's id (the vault view's). The
    hottest route: async, so waiting for the entry's commit holds no thread."""
    context = Context(now=who.vault.clock(), legal_reference=legal_reference, case_id=case_id)
    if who.inline:
        disclosed = await who.vault.get_async(
            customer_id,
            recipient=who.key.recipient,
            purpose=purpose,
            categories=categories,
            context=context,
        )
    else:
        read = partial(
            who.vault.get,
            recipient=who.key.recipient,
            purpose=purpose,
            categories=categories,
            context=context,
        )
        disclosed = await run_in_threadpool(read, customer_id)
    return disclosure_response(disclosed)


@router.post("/lookup", response_model=Found)
async def lookup(body: Lookup, who: CustomersRead) -> Response:
    """Customer ids whose category exactly matches the value (a blind-index lookup; the
    value travels in the body, never in a URL or a log)."""
    find = partial(who.vault.find, recipient=who.key.recipient, purpose=body.purpose)
    found = await who.run(find, body.category, body.value)
    # the version the lookup was decided under (find refreshed it just now)
    return respond(Found(customer_ids=found, policy_version=who.vault.policy.version))


@router.patch("/{customer_id}", response_model=Written)
async def correct(
    customer_id: str, body: CustomerFields, who: CustomersWrite, _: StrictJson
) -> Response:
    """Replace some categories (a correction under DPDP s.12)."""
    written = await who.run(who.vault.correct, customer_id, body.fields)
    return respond(Written(**written.to_json()))


@router.delete("/{customer_id}", response_model=Erased)
def erase(customer_id: str, who: CustomersErase) -> Response:
    """Erase the customer (DPDP s.12(3)): every category no hold keeps is crypto-shredded;
    ``kept`` lists the rest with the law and the date (a tombstone remains when nothing
    is kept). ``scrubbed``: whether the deleted bytes are gone from the database's files
    too — false while a reader blocks the scrub (retried later), and always on
    PostgreSQL."""
    return respond(Erased.model_validate(who.vault.erase(customer_id).to_json()))
