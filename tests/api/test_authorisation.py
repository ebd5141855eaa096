"""The authorisation matrix over real HTTP: every endpoint in the published schema by every
credential failure, and every recipient by every purpose on the PII endpoints, against the
policy engine as the oracle. Each refusal is a 401/403 problem with a reason, leaks
nothing, and (for a known key) is a ledger entry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from needtoknow.records.apikeys import SCOPES
from needtoknow.storage.schema import api_keys, ledger_entries
from needtoknow.types import Context
from tests.api.conftest import Server
from tests.customers import ASHA, RAVI

CANARIES = (ASHA["name"], ASHA["email"], "9876543210", "234567890124")


@pytest.fixture(scope="module")
def world(server: Server) -> dict[str, str]:
    """One customer (assigned to no agreement) and one disclosure request to aim at."""
    customer_id = server.vault.add(ASHA).customer_id
    request = server.vault.disclosures.request(
        authority="law_enforcement",
        purpose="investigation",
        legal_basis="IT Act 2000 s.69",
        reference="Notice 7/2026",
        customer_ids=[customer_id],
        categories=["name"],
        case_owner="legal",
    )
    hold = server.vault.holds.place(customer_id, ["name"], "Test hold", date(2099, 1, 1))
    return {
        "customer_id": customer_id,
        "agreement_id": "AGR-COLL-2026",
        "request_id": request.id,
        "purpose": "marketing_contact",
        "hold_id": hold.hold.id,
    }


# The customer's own routes take a session token, never a key; these two start one.
SESSION_STARTS = {("POST", "/v1/me/session"), ("POST", "/v1/me/session/verify")}


def operations(server: Server) -> Iterator[tuple[str, str, dict[str, Any]]]:
    schema = httpx.get(f"{server.url}/openapi.json").json()
    for path, found in schema["paths"].items():
        for method, operation in found.items():
            yield method.upper(), path, operation


def endpoints(server: Server) -> Iterator[tuple[str, str, str]]:
    """The staff API's operations, each with the scope it requires."""
    for method, path, operation in operations(server):
        if "x-required-scope" in operation:
            yield method, path, operation["x-required-scope"]


BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/v1/customers"): {"fields": {"name": "Test Person"}},
    ("PATCH", "/v1/customers/{customer_id}"): {"fields": {"name": "Test Person"}},
    ("POST", "/v1/customers/lookup"): {
        "category": "email",
        "value": "x@example.in",
        "purpose": "billing",
    },
    ("POST", "/v1/policy/decide"): {"purpose": "billing"},
    ("POST", "/v1/agreements"): {
        "id": "X",
        "recipient": "collection_agency",
        "purposes": ["bill_collection"],
        "expires": "2027-01-01",
    },
    ("PATCH", "/v1/agreements/{agreement_id}"): {"reference": "x"},
    ("POST", "/v1/agreements/{agreement_id}/revoke"): {"reason": "x"},
    ("POST", "/v1/agreements/{agreement_id}/customers"): {"customer_ids": ["x"]},
    ("POST", "/v1/agreements/{agreement_id}/customers/remove"): {"customer_ids": ["x"]},
    ("POST", "/v1/disclosures/{request_id}/reject"): {"reason": "x"},
    ("POST", "/v1/disclosures/{request_id}/release"): {},
    ("POST", "/v1/events"): {"events": [{"kind": "page_view"}]},
    ("POST", "/v1/customers/{customer_id}/consents"): {
        "purpose": "marketing_contact",
        "evidence": "x",
    },
    ("POST", "/v1/customers/{customer_id}/consents/{purpose}/withdraw"): {},
    ("POST", "/v1/reports"): {"spec": {"name": "x"}},
}
QUERIES: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/v1/customers/{customer_id}"): {"purpose": "billing"},
    ("GET", "/v1/policy/explain"): {"purpose": "billing"},
    ("GET", "/v1/ledger/consistency"): {"first": 1, "second": 2},
}


def call(
    server: Server, world: dict[str, str], method: str, path: str, token: str | None
) -> httpx.Response:
    headers = {"X-API-Key": token} if token else {}
    body = BODIES.get((method, path))
    if body is None and method == "POST":
        body = {}
    return httpx.request(
        method,
        server.url + path.format(**world),
        params=QUERIES.get((method, path)),
        json=body,
        headers=headers,
    )


def ledger(server: Server) -> list[dict[str, Any]]:
    with server.vault.db.connect() as conn:
        rows = conn.execute(sa.select(ledger_entries.c.entry).order_by(ledger_entries.c.idx))
        return [json.loads(bytes(row.entry)) for row in rows]


def refusals(server: Server, key_id: str) -> list[str]:
    return [
        e["detail"]["reason"]
        for e in ledger(server)
        if e["kind"] == "api_key" and e["detail"].get("key") == key_id and e.get("decision")
    ]


def assert_leaks_nothing(response: httpx.Response) -> None:
    for canary in CANARIES:
        assert canary not in response.text, (response.request.url, canary)


def test_the_schema_publishes_a_scope_for_every_endpoint(server: Server) -> None:
    listed = list(endpoints(server))
    assert len(listed) >= 20
    assert {scope for _, _, scope in listed} == set(SCOPES)


def test_every_operation_needs_a_scope_or_a_customer_session(server: Server) -> None:
    """Nothing is reachable without a key, a customer's session or a consent manager's
    signature, but starting a session."""
    credentials = ("x-required-scope", "x-customer-session", "x-consent-manager")
    for method, path, operation in operations(server):
        if (method, path) in SESSION_STARTS:
            assert "security" not in operation
        else:
            assert sum(c in operation for c in credentials) == 1, path


def test_every_customer_route_refuses_a_missing_token_and_any_api_key(
    server: Server, world: dict[str, str]
) -> None:
    key = server.vault.api_keys.create("legal_team", tuple(SCOPES)).token
    customer_routes = [
        (method, path)
        for method, path, operation in operations(server)
        if "x-customer-session" in operation
    ]
    assert len(customer_routes) >= 8
    for method, path in customer_routes:
        where = f"{method} {path}"
        url = server.url + path.replace("{request_id}", "x").replace(
            "{purpose}", "marketing_contact"
        )
        missing = httpx.request(method, url, json={})
        assert (missing.status_code, missing.json()["reason"]) == (401, "missing"), where
        with_key = httpx.request(method, url, json={}, headers={"Authorization": f"Bearer {key}"})
        assert (with_key.status_code, with_key.json()["reason"]) == (401, "malformed"), where


def test_every_endpoint_refuses_missing_revoked_expired_and_unscoped_keys(
    server: Server, world: dict[str, str]
) -> None:
    keys = server.vault.api_keys
    revoked = keys.create("legal_team", tuple(SCOPES))
    keys.revoke(revoked.key.id)
    expired = keys.create("legal_team", tuple(SCOPES))
    with server.vault.db.begin() as conn:
        conn.execute(
            api_keys.update()
            .where(api_keys.c.id == expired.key.id)
            .values(expires_at=sa.func.datetime("now", "-1 minute"))
        )
    for method, path, scope in endpoints(server):
        where = f"{method} {path}"
        missing = call(server, world, method, path, None)
        assert (missing.status_code, missing.json()["reason"]) == (401, "missing"), where
        for issued, reason in ((revoked, "revoked"), (expired, "expired")):
            before = len(refusals(server, issued.key.id))
            response = call(server, world, method, path, issued.token)
            assert (response.status_code, response.json()["reason"]) == (401, reason), where
            assert refusals(server, issued.key.id)[before:] == [reason], where
            assert_leaks_nothing(response)
        unscoped = keys.create("legal_team", tuple(s for s in SCOPES if s != scope))
        response = call(server, world, method, path, unscoped.token)
        assert response.status_code == 403, where
        assert response.json()["type"] == "urn:needtoknow:problem:scope-denied", where
        assert response.json()["scope"] == scope, where
        assert refusals(server, unscoped.key.id) == [f"scope {scope}"], where
        assert_leaks_nothing(response)


def test_every_recipient_and_purpose_gets_exactly_what_the_policy_allows(
    server: Server, world: dict[str, str]
) -> None:
    policy = server.vault.policy
    engine = server.vault.engine
    context = Context(now=server.vault.clock())
    keys = server.vault.api_keys
    customer_id = world["customer_id"]
    outcomes: list[bool] = []
    for recipient, found in policy.recipients.items():
        if found.kind == "data_principal":  # no key may act as the customer
            continue
        token = keys.create(recipient, ("customers:read",)).token
        with httpx.Client(base_url=server.url, headers={"X-API-Key": token}) as http:
            missing = http.get(f"/v1/customers/{customer_id}")
            assert missing.status_code == 422 and missing.json()["errors"][0]["loc"] == [
                "query",
                "purpose",
            ]
            for purpose in [*policy.purposes, "marketing_blast"]:
                where = f"{recipient} for {purpose}"
                decision = engine.decide(recipient, purpose, None, context)
                # The world's customer is in no agreement's scope and consented to nothing.
                allowed = (
                    bool(decision.allowed)
                    and not decision.customer_scope
                    and not server.vault.consents.needed(purpose)
                )
                outcomes.append(allowed)
                response = http.get(f"/v1/customers/{customer_id}", params={"purpose": purpose})
                entry = [
                    e
                    for e in ledger(server)
                    if e.get("request_id") == response.headers["x-request-id"]
                ]
                assert [e["decision"] for e in entry] == ["allow" if allowed else "deny"], where
                if allowed:
                    assert response.status_code == 200, (where, response.text)
                    assert set(response.json()["values"]) <= set(decision.allowed), where
                else:
                    assert response.status_code == 403, (where, response.text)
                    problem = response.json()
                    assert problem["type"] == "urn:needtoknow:problem:policy-denied", where
                    assert problem["recipient"] == recipient and problem["reasons"], where
                    assert_leaks_nothing(response)
                lookup = http.post(
                    "/v1/customers/lookup",
                    json={"category": "email", "value": ASHA["email"], "purpose": purpose},
                )
                may_find = bool(engine.decide(recipient, purpose, ("email",), context).allowed)
                assert lookup.status_code == (200 if may_find else 403), (where, lookup.text)
                if lookup.status_code == 200:
                    assert lookup.json()["policy_version"] == engine.version, where
                if lookup.status_code == 403:
                    assert_leaks_nothing(lookup)
    assert 5 <= sum(outcomes) < len(outcomes) - 100  # both sides of the matrix ran


def test_customers_write_is_refused_at_use_to_a_contractor_key_issued_before(
    server: Server,
) -> None:
    """Issue 15 (medium): a collection agency's key carrying ``customers:write`` (issued
    before the scope became staff-only) cannot create, correct or erase a customer — not
    even one its customer-scoped agreement assigns it; each refusal is ledgered."""
    customer_id = server.vault.add(RAVI).customer_id
    server.vault.agreements.assign("AGR-COLL-2026", [customer_id])
    issued = server.vault.api_keys.create("collection_agency", ("customers:read",))
    with server.vault.db.begin() as conn:
        conn.execute(
            api_keys.update()
            .where(api_keys.c.id == issued.key.id)
            .values(scopes="customers:erase customers:read customers:write")
        )
    changed = {"fields": {"email": "taken.over@example.in", "telephone": "+91 91111 22222"}}
    with httpx.Client(base_url=server.url, headers={"X-API-Key": issued.token}) as agency:
        assert (
            agency.get(
                f"/v1/customers/{customer_id}", params={"purpose": "bill_collection"}
            ).status_code
            == 200
        )
        for response, scope in (
            (agency.patch(f"/v1/customers/{customer_id}", json=changed), "customers:write"),
            (agency.post("/v1/customers", json=changed), "customers:write"),
            (agency.delete(f"/v1/customers/{customer_id}"), "customers:erase"),
        ):
            assert response.status_code == 403, response.text
            problem = response.json()
            assert problem["type"].endswith("scope-denied") and problem["scope"] == scope
            assert "own teams" in problem["detail"]
    assert refusals(server, issued.key.id) == [
        "staff scope customers:write",
        "staff scope customers:write",
        "staff scope customers:erase",
    ]
    email = server.vault.get(
        customer_id, recipient="support_team", purpose="service_delivery", categories=["email"]
    ).values["email"]
    assert email == RAVI["email"]
