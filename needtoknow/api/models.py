"""Request and response bodies: what the OpenAPI schema publishes."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from fastapi import Response
from pydantic import BaseModel, Field

from needtoknow.types import Disclosure


class Problem(BaseModel):
    """RFC 9457 problem details; ``type`` is stable per error, ``detail`` is for people."""

    type: str
    title: str
    status: int
    detail: str
    request_id: str | None = None
    reason: str | None = None
    scope: str | None = None
    recipient: str | None = None
    purpose: str | None = None
    reasons: dict[str, str] | None = None
    period: str | None = None
    requested: dict[str, float] | None = None
    remaining: dict[str, float] | None = None
    version: str | None = None
    effective_at: str | None = None
    field: str | None = None
    category: str | None = None
    rule: str | None = None
    # not collected: no purpose of the policy needs them (or only with a consent not given)
    categories: list[str] | None = None
    policy: str | None = None
    consent_needed: list[str] | None = None
    errors: list[dict[str, Any]] | None = None


class CustomerFields(BaseModel):
    """Category → value, as the library's ``Vault.add`` takes them."""

    fields: dict[str, Any] = Field(min_length=1, max_length=32)


class Written(BaseModel):
    customer_id: str
    categories: list[str]
    notices: list[str]
    policy_version: str


class Kept(BaseModel):
    """A category an erasure kept: its purposes still serve (``keep``), or a hold keeps
    it (``hold``: readable only for ``readable_for``, under ``laws``)."""

    category: str
    action: str
    until: str | None
    basis: list[str]
    readable_for: list[str] = []
    laws: list[str] = []


class Erased(BaseModel):
    customer_id: str
    erased: bool
    scrubbed: bool  # the deleted bytes are gone from the database's files (Vault.erase)
    categories_erased: list[str]
    kept: list[Kept]


class Disclosed(BaseModel):
    """A read, in the shape ``ntk customer get --json`` prints (``Disclosure.to_json``)."""

    customer_id: str
    recipient: str
    purpose: str
    policy_version: str
    values: dict[str, Any]
    transforms: dict[str, str]
    rules: dict[str, str]  # the policy rule that granted each category
    denied: dict[str, str]
    obligations: list[str]


def disclosure_response(disclosure: Disclosure) -> Response:
    """A read's answer, ``Disclosure.to_json()`` in :class:`Disclosed`'s field order, as
    the model would write it, encoded once by orjson: on the hottest route the model's
    validation and encoding cost a tenth of the request, and the data is ours, already
    in shape (tests/api/test_one_shape.py holds both to the same bytes)."""
    data = disclosure.to_json()
    body = orjson.dumps({name: data[name] for name in _DISCLOSED})
    return Response(body, media_type="application/json")


_DISCLOSED = tuple(Disclosed.model_fields)


class Lookup(BaseModel):
    category: str = Field(max_length=64)
    value: Any
    purpose: str = Field(max_length=100)


class Found(BaseModel):
    customer_ids: list[str]
    policy_version: str


class PolicyInfo(BaseModel):
    name: str
    version: str


class DecideRequest(BaseModel):
    purpose: str = Field(max_length=100)
    categories: list[str] | None = Field(default=None, max_length=32)


class Decided(BaseModel):
    recipient: str
    purpose: str
    allowed: dict[str, dict[str, str]]
    denied: dict[str, str]
    obligations: list[str]
    policy_version: str
    # The one way this recipient is served, when its kind has one (an authority: an
    # approved disclosure request); a direct read of what is allowed is then denied.
    only_through: str | None = None


class TreeHeadOut(BaseModel):
    tree_size: int
    root_hash: str
    timestamp: int
    signed_at: str
    signature: str
    public_key: str


class Consistency(BaseModel):
    first: TreeHeadOut
    second: TreeHeadOut
    proof: list[str]


class HistoryEntry(BaseModel):
    index: int
    entry: dict[str, Any]
    leaf_hash: str
    proof: list[str]
    tree_size: int
    root_hash: str
    redacted: bool


class History(BaseModel):
    """``Vault.history_document``: what ``ntk ledger customer --json`` prints."""

    customer_id: str
    signed_tree_head: TreeHeadOut
    entries: list[HistoryEntry]


class AgreementIn(BaseModel):
    id: str = Field(min_length=1, max_length=100)
    recipient: str = Field(max_length=100)
    purposes: list[str] = Field(min_length=1, max_length=32)
    expires: date
    starts: date | None = None
    reference: str = Field(default="", max_length=200)
    customer_scoped: bool = False


class AgreementChange(BaseModel):
    purposes: list[str] | None = Field(default=None, min_length=1, max_length=32)
    expires: date | None = None
    starts: date | None = None
    reference: str | None = Field(default=None, max_length=200)
    customer_scoped: bool | None = None


class Reason(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


class Customers(BaseModel):
    customer_ids: list[str] = Field(min_length=1, max_length=10_000)


class Count(BaseModel):
    count: int


class DisclosureIn(BaseModel):
    authority: str = Field(max_length=100)
    purpose: str = Field(max_length=100)
    legal_basis: str = Field(min_length=1, max_length=200)
    reference: str = Field(min_length=1, max_length=200)
    customer_ids: list[str] = Field(min_length=1, max_length=10_000)
    categories: list[str] = Field(min_length=1, max_length=32)
    case_owner: str = Field(min_length=1, max_length=200)
    period_from: date | None = None
    period_to: date | None = None
    non_disclosure_until: date | None = None


class ReleaseIn(BaseModel):
    public_key: str | None = Field(
        default=None, description="The requester's X25519 public key, hex (32 bytes)"
    )


class PackageOut(BaseModel):
    payload: str = Field(description="The package, base64 (HPKE-sealed if a key was given)")
    manifest: dict[str, Any]


def respond(model: BaseModel, status: int = 200) -> Response:
    """The model as a ready JSON response. A sync route that returns a model has FastAPI
    validate it again on a worker thread — a second thread hop per request on the hot
    routes; the model was built (and so validated) in the route already."""
    return Response(model.model_dump_json(), status, media_type="application/json")


class EventBatch(BaseModel):
    """Usage events as ``ntk events load`` reads them: kind, day, customer_id, and the
    dimensions (page, link, ad, search, plan, region) and value."""

    events: list[dict[str, Any]] = Field(min_length=1, max_length=10_000)


class Ingested(BaseModel):
    accepted: int
    rejected: int
    redacted: dict[str, int]
    rejected_because: dict[str, int]


class ReportRequest(BaseModel):
    """A report spec, as the YAML files of ``examples/reports/`` hold it (key lists
    inline)."""

    spec: dict[str, Any]
    purpose: str = Field(default="advertising", max_length=100)


class Released(BaseModel):
    report: str
    recipient: str
    columns: list[str]
    rows: list[dict[str, Any]]
    spent: dict[str, float]
    remaining: dict[str, dict[str, float]]
    noise: dict[str, dict[str, Any]]
    ledger_index: int
    policy_version: str


class ConsentIn(BaseModel):
    purpose: str = Field(max_length=100)
    channel: str = Field(default="api", max_length=50)
    evidence: str = Field(min_length=1, max_length=1000)
    notice_version: str | None = Field(default=None, max_length=64)


class Withdrawal(BaseModel):
    channel: str = Field(default="api", max_length=50)


class ConsentOut(BaseModel):
    purpose: str
    active: bool
    notice_version: str
    channel: str
    granted_at: str
    granted_by: str
    withdrawn_at: str | None
    withdrawn_channel: str | None
    manager: str | None = None
    artefact_id: str | None = None


class ConsentList(BaseModel):
    consents: list[ConsentOut]


class SessionStart(BaseModel):
    address: str = Field(min_length=3, max_length=254, description="E-mail or telephone on file")


class SessionStarted(BaseModel):
    session_id: str
    message: str = "If this address is on file, a one-time code was sent to it."


class SessionVerify(BaseModel):
    session_id: str = Field(max_length=36)
    code: str = Field(pattern=r"^[0-9]{6}$")


class SessionToken(BaseModel):
    token: str
    token_type: str
    expires_at: str


class RightsRequestIn(BaseModel):
    kind: str = Field(
        max_length=20, description="access, correction, erasure, nomination, grievance"
    )
    details: Any = Field(
        default=None,
        description="correction: {category: value}; nomination: {name, email|telephone}; "
        "grievance: text",
    )


class RightsRequestOut(BaseModel):
    request_id: str
    customer_id: str
    kind: str
    status: str
    verification: str
    verified_by: str | None
    verified_method: str | None
    nominee_id: str | None
    opened_by: str
    opened_at: str
    due_at: str
    overdue: bool
    days_left: int | None
    escalated_at: str | None
    finished_at: str | None
    resolution: str | None = None


class RightsRequestList(BaseModel):
    requests: list[RightsRequestOut]


class MyConsentIn(BaseModel):
    purpose: str = Field(max_length=100)
    notice_version: str | None = Field(default=None, max_length=64)


class AccountOut(BaseModel):
    customer_id: str
    status: str
    closed_at: str | None
    closed_reason: str | None
    services: list[str]
    categories: list[str]
    held: dict[str, dict[str, Any]]


class Closing(BaseModel):
    reason: str = Field(default="customer_request", max_length=32)


class ServicesIn(BaseModel):
    services: list[str] = Field(max_length=32)


class HoldIn(BaseModel):
    customer_id: str = Field(max_length=36)
    categories: list[str] = Field(min_length=1, max_length=32)
    basis: str = Field(min_length=1, max_length=200)
    until: date
    readable_for: list[str] = Field(default=["legal_process"], min_length=1, max_length=8)


class HoldOut(BaseModel):
    hold_id: str
    customer_id: str
    categories: list[str]
    basis: str
    readable_for: list[str]
    until: str
    placed_by: str
    placed_at: str
    released_by: str | None
    released_at: str | None


class HoldList(BaseModel):
    holds: list[HoldOut]
