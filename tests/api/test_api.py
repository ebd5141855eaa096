"""The service over real HTTP on 127.0.0.1: the client, problems, the ledger, the logs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from needtoknow.client import AsyncVaultClient, ServiceError, VaultClient, raise_for
from needtoknow.client.answers import written
from needtoknow.config import Settings, init_vault
from needtoknow.errors import (
    AuthenticationError,
    NotCollected,
    NotFound,
    PolicyDenied,
    ScopeDenied,
    ValidationError,
)
from needtoknow.ledger import merkle
from needtoknow.storage.schema import api_keys, ledger_entries
from needtoknow.vault import Vault
from tests.api.conftest import Server, start, stop
from tests.customers import ASHA, NOT_COLLECTED, RAVI


def ledger(server: Server) -> list[dict[str, Any]]:
    with server.vault.db.connect() as conn:
        rows = conn.execute(sa.select(ledger_entries.c.entry).order_by(ledger_entries.c.idx))
        return [json.loads(bytes(row.entry)) for row in rows]


def client(server: Server, role: str) -> VaultClient:
    return VaultClient(server.url, server.tokens[role])


def test_a_customer_round_trip_through_the_client(server: Server) -> None:
    with client(server, "signup") as signup, client(server, "billing") as billing:
        made = signup.create_customer(ASHA)
        assert made.policy_version == server.vault.policy.version
        got = billing.get_customer(made.customer_id, purpose="billing")
        assert got.values["email"] == ASHA["email"] and got.decision.obligations == {"log"}
        # the library's own type, equal to what the vault itself answers for the read
        direct = server.vault.get(made.customer_id, recipient="billing_team", purpose="billing")
        assert got.to_json() == direct.to_json() and got.decision == direct.decision
        read = [e for e in ledger(server) if e.get("request_id") == got.request_id]
        assert [(e["kind"], e["actor"], e["recipient"]) for e in read] == [
            ("read", f"api:{server.tokens['billing'][4:20]}", "billing_team")
        ]
        assert signup.find("email", ASHA["email"], purpose="service_delivery") == [made.customer_id]
        signup.correct(made.customer_id, {"email": "asha.new@example.in"})
        assert billing.get_customer(made.customer_id, purpose="billing").values["email"] == (
            "asha.new@example.in"
        )
        erased = signup.erase(made.customer_id)
        assert (erased.customer_id, erased.scrubbed) == (made.customer_id, True)
        with pytest.raises(NotFound):
            billing.get_customer(made.customer_id, purpose="billing")


def test_the_async_client_makes_the_same_calls(server: Server) -> None:
    made = client(server, "signup").create_customer(RAVI)

    async def read() -> dict[str, Any]:
        async with AsyncVaultClient(server.url, server.tokens["billing"]) as billing:
            return (await billing.get_customer(made.customer_id, purpose="billing")).values

    assert asyncio.run(read())["name"] == RAVI["name"]


def test_a_denial_is_a_problem_with_reasons_and_a_ledger_entry(server: Server) -> None:
    made = client(server, "signup").create_customer(ASHA)
    with server.client("advertiser") as http:
        response = http.get(f"/v1/customers/{made.customer_id}", params={"purpose": "advertising"})
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:needtoknow:problem:policy-denied"
    assert problem["recipient"] == "ad_network" and problem["reasons"]
    assert ASHA["email"] not in response.text
    request_id = response.headers["x-request-id"]
    assert problem["request_id"] == request_id
    denial = [e for e in ledger(server) if e.get("request_id") == request_id]
    assert [(e["kind"], e["decision"]) for e in denial] == [("read", "deny")]
    with pytest.raises(PolicyDenied) as denied, client(server, "advertiser") as advertiser:
        advertiser.get_customer(made.customer_id, purpose="advertising")
    assert denied.value.recipient == "ad_network"


def test_the_recipient_comes_from_the_key_never_the_request(server: Server) -> None:
    made = client(server, "signup").create_customer(ASHA)
    with server.client("advertiser") as http:
        response = http.get(
            f"/v1/customers/{made.customer_id}",
            params={"purpose": "billing", "recipient": "billing_team"},
            headers={"X-Recipient": "billing_team"},
        )
    assert response.status_code == 403 and response.json()["recipient"] == "ad_network"


def test_a_customer_outside_the_agencys_assigned_accounts_is_refused(server: Server) -> None:
    signup = client(server, "signup")
    assigned = signup.create_customer(ASHA).customer_id
    other = signup.create_customer(RAVI).customer_id
    server.vault.agreements.assign("AGR-COLL-2026", [assigned])
    with client(server, "collector") as collector:
        assert collector.get_customer(assigned, purpose="bill_collection").values
        with pytest.raises(PolicyDenied, match="not assigned"):
            collector.get_customer(other, purpose="bill_collection")


def test_an_authority_key_cannot_read_customers_directly(server: Server) -> None:
    """Issue 15: an authority's default ``customers:read`` key read any customer with
    any ``legal_reference`` string. Over HTTP it now gets a 403 naming the disclosure
    workflow (no query parameter can stand in for a release), ledgered, no notice owed."""
    customer_id = server.vault.add(RAVI).customer_id
    with server.client("police") as police:
        for params in (
            {"purpose": "legal_process", "legal_reference": "Court order 7/2026"},
            {
                "purpose": "investigation",
                "legal_reference": "IT Act s.69",
                "case_id": "C-1",
                "disclosure_request": "C-1",
            },
        ):
            response = police.get(f"/v1/customers/{customer_id}", params=params)
            assert response.status_code == 403, response.text
            assert "ntk disclosure request" in str(response.json()["reasons"])
            assert RAVI["name"] not in response.text
            entry = [
                e for e in ledger(server) if e.get("request_id") == response.headers["x-request-id"]
            ]
            assert [e["decision"] for e in entry] == ["deny"]
        lookup = police.post(
            "/v1/customers/lookup",
            json={"category": "email", "value": RAVI["email"], "purpose": "investigation"},
        )
        assert lookup.status_code == 403 and "ntk disclosure request" in lookup.text
        # What the policy routes say agrees with what a read does (an Open item until
        # session 18): the grant is shown, and the one way it is served.
        decided = police.post("/v1/policy/decide", json={"purpose": "legal_process"}).json()
        explained = police.get("/v1/policy/explain", params={"purpose": "legal_process"}).json()
        for account in (decided, explained):
            assert "ntk disclosure request" in account["only_through"], account
    with server.client("billing") as billing:
        decided = billing.post("/v1/policy/decide", json={"purpose": "billing"}).json()
        assert decided["allowed"] and decided["only_through"] is None
    assert server.vault.disclosures.notices(customer_id) == []


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing"),
        ({"X-API-Key": "not-a-key"}, "malformed"),
        ({"X-API-Key": "ntk_0123456789abcdef_nope"}, "unknown"),
        ({"Authorization": "Bearer ntk_0123456789abcdef_nope"}, "unknown"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "malformed"),
    ],
)
def test_requests_without_a_valid_key_get_401(
    server: Server, headers: dict[str, str], reason: str
) -> None:
    response = httpx.get(f"{server.url}/v1/policy", headers=headers)
    assert response.status_code == 401
    assert response.json()["reason"] == reason
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_bad_authorization_header_is_not_passed_over_for_a_good_api_key(
    server: Server,
) -> None:
    good = {"X-API-Key": server.tokens["billing"]}
    for authorization in ("Basic dXNlcjpwYXNz", f"Bearer {server.tokens['billing']}"):
        response = httpx.get(
            f"{server.url}/v1/policy", headers={**good, "Authorization": authorization}
        )
        assert (response.status_code, response.json()["reason"]) == (401, "malformed")


def test_duplicate_api_key_headers_are_refused(server: Server) -> None:
    """Issue 15 (low): with two ``X-API-Key`` headers the first won; which copy counts
    must not depend on who reads the request (a proxy, the server). Either header twice
    is a 401 ``malformed`` problem, whatever the copies hold."""
    good, other = server.tokens["billing"], server.tokens["signup"]
    for headers in (
        [("X-API-Key", good), ("X-API-Key", "ntk_0123456789abcdef_nope")],
        [("X-API-Key", "ntk_0123456789abcdef_nope"), ("X-API-Key", good)],
        [("X-API-Key", good), ("X-API-Key", good)],
        [("X-API-Key", good), ("X-API-Key", other)],
        [("Authorization", f"Bearer {good}"), ("Authorization", f"Bearer {good}")],
    ):
        response = httpx.get(f"{server.url}/v1/policy", headers=headers)
        assert (response.status_code, response.json()["reason"]) == (401, "malformed")
        assert good not in response.text


def test_revoked_and_expired_keys_are_refused_and_ledgered(server: Server) -> None:
    keys = server.vault.api_keys
    revoked = keys.create("billing_team", ("policy:read",))
    expired = keys.create("billing_team", ("policy:read",))
    keys.revoke(revoked.key.id)
    with server.vault.db.begin() as conn:  # its expiry has passed
        conn.execute(
            api_keys.update()
            .where(api_keys.c.id == expired.key.id)
            .values(expires_at=sa.func.datetime("now", "-1 minute"))
        )
    for issued, reason in ((revoked, "revoked"), (expired, "expired")):
        with pytest.raises(AuthenticationError, match=reason):
            VaultClient(server.url, issued.token).policy()
        refused = [
            e
            for e in ledger(server)
            if e["kind"] == "api_key" and e["detail"].get("key") == issued.key.id
        ]
        assert refused[-1]["detail"]["reason"] == reason and refused[-1]["decision"] == "deny"


def test_a_missing_scope_is_refused_and_ledgered(server: Server) -> None:
    with pytest.raises(ScopeDenied, match="customers:write"), client(server, "billing") as c:
        c.create_customer(ASHA)
    refused = [e for e in ledger(server) if e["kind"] == "api_key" and e.get("decision")]
    assert refused[-1]["detail"]["reason"] == "scope customers:write"


def test_bad_input_is_a_validation_problem_that_never_echoes_the_value(server: Server) -> None:
    with server.client("signup") as http:
        response = http.post("/v1/customers", json={"fields": {"email": "asha@@example"}})
        assert response.status_code == 422
        assert response.json()["field"] == "email" and "asha@@" not in response.text
        response = http.post("/v1/customers", json={"fields": "aadhaar 2345 6789 0124"})
        assert response.status_code == 422 and "2345" not in response.text
    with pytest.raises(ValidationError), client(server, "billing") as billing:
        billing.get_customer("x" * 37, purpose="billing")


@pytest.mark.parametrize(
    "entry",
    [{"type": 5, "number": "ABCPE1234F"}, {"type": ["pan"], "number": "ABCPE1234F"}],
)
def test_a_non_string_identity_type_is_a_validation_problem_not_a_500(
    server: Server, entry: dict[str, Any]
) -> None:
    """Issue 15: ``{"type": 5}`` (and an unhashable list) gave HTTP 500."""
    with server.client("signup") as http:
        response = http.post("/v1/customers", json={"fields": {"identity_number": [entry]}})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert (problem["field"], problem["rule"]) == ("identity_number[0].type", "type")
    assert "one of aadhaar, pan" in problem["detail"] and "ABCPE" not in response.text


def test_http_refuses_duplicate_keys_and_deep_nesting_in_customer_json(server: Server) -> None:
    """Issue 15: a customer JSON with a duplicated key was accepted (the last won)."""
    headers = {"Content-Type": "application/json"}
    bodies = {
        "duplicate_key": b'{"fields": {"name": "Asha Canarywala", "name": "Ravi Sentinelkar"}}',
        "depth": b'{"fields": {"name": ' + b"[" * 40 + b'"Canarywala"' + b"]" * 40 + b"}}",
    }
    before = len(ledger(server))
    with server.client("signup") as http:
        for rule, body in bodies.items():
            for method, path in (("POST", "/v1/customers"), ("PATCH", "/v1/customers/c-1")):
                response = http.request(method, path, content=body, headers=headers)
                assert response.status_code == 422, response.text
                assert response.json()["rule"] == rule
                assert "Canarywala" not in response.text and "Sentinel" not in response.text
        deep = b'{"fields": {"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
        response = http.post("/v1/customers", content=deep, headers=headers)
        assert 400 <= response.status_code < 500
    assert len(ledger(server)) == before


def test_http_refuses_an_uncollected_category_without_echoing_it(server: Server) -> None:
    with server.client("signup") as http:
        response = http.post("/v1/customers", json={"fields": {**ASHA, **NOT_COLLECTED}})
    assert response.status_code == 422
    problem = response.json()
    assert problem["categories"] == sorted(NOT_COLLECTED)
    assert problem["rule"] == "not_collected"
    assert "rs4680" not in response.text and "MH 12" not in response.text
    with pytest.raises(NotCollected) as refused, client(server, "signup") as signup:
        signup.create_customer({**ASHA, "genetic_information": "rs4680 AG"})
    assert refused.value.categories == ["genetic_information"]
    assert refused.value.policy == "nextraone"


def test_bodies_over_the_limit_get_413(server: Server) -> None:
    with server.client("signup") as http:
        response = http.post("/v1/customers", content=b"{" + b" " * (2 << 20) + b"}")
    assert response.status_code == 413
    assert response.json()["type"] == "urn:needtoknow:problem:too-large"


def test_the_request_id_is_the_services_own_and_is_recorded(server: Server) -> None:
    """A client-chosen id could repeat another request's and muddle the ledger: ignored."""
    made = client(server, "signup").create_customer(ASHA)
    with server.client("billing") as http:
        responses = [
            http.get(
                f"/v1/customers/{made.customer_id}",
                params={"purpose": "billing"},
                headers={"X-Request-ID": "chosen-by-the-client"},
            )
            for _ in range(2)
        ]
    ids = [r.headers["x-request-id"] for r in responses]
    assert len(set(ids)) == 2 and "chosen-by-the-client" not in ids
    recorded = {e.get("request_id") for e in ledger(server)}
    assert set(ids) <= recorded and "chosen-by-the-client" not in recorded


def test_a_chunked_body_over_the_limit_gets_413_too(server: Server) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"fields": {"name": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}}'

    with server.client("signup") as http:
        response = http.post(
            "/v1/customers", content=chunks(), headers={"content-type": "application/json"}
        )
    assert response.status_code == 413
    assert response.json()["type"] == "urn:needtoknow:problem:too-large"


def test_ledger_endpoints_prove_what_they_return(server: Server) -> None:
    made = client(server, "signup").create_customer(ASHA)
    client(server, "billing").get_customer(made.customer_id, purpose="billing")
    auditor = client(server, "auditor")
    first = auditor.sth()
    history = auditor.history(made.customer_id)
    assert [e["entry"]["kind"] for e in history["entries"]] == ["write", "read"]
    client(server, "billing").get_customer(made.customer_id, purpose="billing")
    second = auditor.sth()
    proof = auditor.consistency(first.tree_size, second.tree_size)
    merkle.check_consistency(
        first.tree_size,
        second.tree_size,
        first.root_hash,
        second.root_hash,
        [bytes.fromhex(h) for h in proof["proof"]],
    )
    first.check(server.vault.keys.signing_public_key())
    unsigned = second.tree_size + 1_000_000  # no head was signed for it
    with httpx.Client(base_url=server.url) as http:
        missing = http.get(
            "/v1/ledger/consistency",
            params={"first": unsigned, "second": first.tree_size},
            headers={"X-API-Key": server.tokens["auditor"]},
        )
    assert missing.status_code == 404 and f"size {unsigned}" in missing.json()["detail"]
    with httpx.Client(base_url=server.url) as http:  # beyond any database integer
        huge = http.get(
            "/v1/ledger/consistency",
            params={"first": 2**64, "second": first.tree_size},
            headers={"X-API-Key": server.tokens["auditor"]},
        )
    assert huge.status_code == 404


def test_disclosures_need_two_keys(server: Server) -> None:
    made = client(server, "signup").create_customer(ASHA)
    legal, dpo = client(server, "legal"), client(server, "dpo")
    filed = legal.request_disclosure(
        authority="law_enforcement",
        purpose="investigation",
        legal_basis="IT Act 2000 s.69",
        reference="Notice 114/2026",
        customer_ids=[made.customer_id],
        categories=["name", "email"],
        case_owner="Priya (legal)",
        period_to=date(2099, 1, 1),
    )
    with pytest.raises(ScopeDenied):
        legal.approve(filed["id"])  # filing and deciding are different scopes
    own = dpo.request_disclosure(
        authority="law_enforcement",
        purpose="investigation",
        legal_basis="IT Act 2000 s.69",
        reference="Notice 115/2026",
        customer_ids=[made.customer_id],
        categories=["name"],
        case_owner="Arun (DPO)",
    )
    with pytest.raises(PolicyDenied, match="four eyes"):
        dpo.approve(own["id"])  # the key that filed a request cannot approve it
    assert dpo.approve(filed["id"])["status"] == "approved"
    released = legal.release(filed["id"])
    assert released.manifest["customers"] == [made.customer_id]
    assert json.loads(released.payload)["customers"][0]["fields"]["email"] == ASHA["email"]
    assert filed["id"] in [d["id"] for d in dpo.disclosures()]


def test_agreements_through_the_client(server: Server) -> None:
    auditor = client(server, "auditor")
    made = auditor.create_agreement(
        id="AGR-TEST-1",
        recipient="collection_agency",
        purposes=["bill_collection"],
        expires=date(2027, 6, 30),
        reference="MSA/COLL/2026-099",
        customer_scoped=True,
    )
    assert made["id"] == "AGR-TEST-1"
    customer_id = client(server, "signup").create_customer(RAVI).customer_id
    assert auditor.assign("AGR-TEST-1", [customer_id]) == 1
    assert auditor.unassign("AGR-TEST-1", [customer_id]) == 1
    assert auditor.amend_agreement("AGR-TEST-1", reference="MSA/2026-99")["reference"] == (
        "MSA/2026-99"
    )
    auditor.revoke_agreement("AGR-TEST-1", "contract ended")
    listed = {a["id"]: a for a in auditor.agreements()}
    assert listed["AGR-TEST-1"]["revoked_at"] is not None


def test_openapi_and_docs_are_served(server: Server) -> None:
    schema = httpx.get(f"{server.url}/openapi.json").json()
    assert "/v1/customers/{customer_id}" in schema["paths"]
    responses = schema["paths"]["/v1/policy"]["get"]["responses"]
    assert {"400", "401", "403", "413", "422", "429", "500", "503"} <= set(responses)
    assert "Retry-After" in responses["429"]["headers"]
    assert "X-Request-ID" in responses["401"]["headers"]
    assert httpx.get(f"{server.url}/docs").status_code == 200


def test_unknown_routes_are_problems_too(server: Server) -> None:
    response = httpx.get(f"{server.url}/v1/nothing")
    assert response.status_code == 404 and response.json()["status"] == 404
    with server.client("signup") as http:  # too large for the service, not the library
        too_large = http.post("/v1/customers", content=b" " * (2 << 20))
    with pytest.raises(ServiceError, match="413 too-large"):
        raise_for(too_large)


def test_the_log_holds_no_pii(server: Server) -> None:
    """Run last in this module: everything above has been logged by then."""
    log = server.log_text()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(line.get("event") == "request" for line in lines)
    # The Aadhaar sent as a whole field, in both spellings ("2345" alone is also inside
    # the unknown key id 0123456789abcdef that another test sends, and which is logged).
    aadhaar = ("2345 6789 0124", "234567890124")
    for canary in (ASHA["email"], ASHA["name"], RAVI["name"], "asha.new@example.in", *aadhaar):
        assert canary not in log, canary
    for token in server.tokens.values():
        assert token.split("_", 2)[2] not in log


@pytest.mark.postgresql
def test_a_service_on_postgresql_ledgers_each_concurrent_read(
    postgres_url: str, tmp_path: Path
) -> None:
    """On a database server the hot read runs in the thread pool, not on the event loop
    (SQLite's runs inline): concurrent reads each get their own ledgered request id."""
    home = tmp_path / "home"
    vault = init_vault(Settings(home=home, database_url=postgres_url))
    cid = vault.add(ASHA).customer_id
    token = vault.api_keys.create("billing_team", ("customers:read",)).token
    process, url = start(home, tmp_path / "serve.log", NTK_DATABASE_URL=postgres_url)
    try:

        async def reads() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=url, headers={"X-API-Key": token}) as http:
                return list(
                    await asyncio.gather(
                        *(http.get(f"/v1/customers/{cid}?purpose=billing") for _ in range(20))
                    )
                )

        responses = asyncio.run(reads())
    finally:
        stop(process)
    assert {r.status_code for r in responses} == {200}
    assert {r.json()["values"]["email"] for r in responses} == {ASHA["email"]}
    with vault.db.connect() as conn:
        rows = conn.execute(sa.select(ledger_entries.c.entry))
        entries = [json.loads(bytes(row.entry)) for row in rows]
    read_ids = {e["request_id"] for e in entries if e["kind"] == "read" and e["customer_id"] == cid}
    assert read_ids == {r.headers["x-request-id"] for r in responses}
    assert vault.ledger.verify().ok
    vault.close()


def test_the_client_reads_writes_from_older_and_newer_services() -> None:
    made = {"customer_id": "c", "categories": ["name"], "notices": []}
    older = written(httpx.Response(201, json=made))
    assert older.customer_id == "c" and older.policy_version == ""  # not said
    newer = written(httpx.Response(201, json={**made, "policy_version": "v", "later": 1}))
    assert newer.policy_version == "v"


def test_decide_names_no_route_for_a_recipient_a_later_policy_dropped(vault: Vault) -> None:
    """Review, session 18: keys outlive policy versions; decide looked the key's
    recipient up in the active policy and failed with a 500 when it was gone."""
    from dataclasses import replace

    from needtoknow.api.routes.policy import _only_through
    from needtoknow.api.service import Caller

    key = vault.api_keys.create("billing_team", ("policy:read",)).key
    assert _only_through(Caller(key, vault, True)) is None
    police = vault.api_keys.create("law_enforcement", ("policy:read",)).key
    assert "disclosure request" in str(_only_through(Caller(police, vault, True)))
    dropped = replace(key, recipient="a_recipient_since_dropped")
    assert _only_through(Caller(dropped, vault, True)) is None
