"""The plain customer read served without FastAPI's routing (api/fastread.py) answers
exactly as the FastAPI route does — status, headers, body, ledger entry and access log —
and every other form of the call still reaches the route."""

from __future__ import annotations

import asyncio
import gc
import logging
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from needtoknow.api.app import create_app
from needtoknow.api.fastread import FastRead
from needtoknow.api.service import Limits
from needtoknow.config import Settings, init_vault
from needtoknow.vault import Vault
from tests.api.conftest import access_routes, answered
from tests.conftest import Clock
from tests.customers import ASHA
from tests.serving import serving


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/v1/customers/{id}?purpose=billing", "billing"),  # the fast read
        ("/v1/customers/{id}?purpose=marketing_contact", "billing"),  # denied, ledgered
        ("/v1/customers/00000000-0000-4000-8000-000000000000?purpose=billing", "billing"),
        ("/v1/customers/{id}?purpose=" + "x" * 101, "billing"),  # too long: the route's 422
        ("/v1/customers/{id}", "billing"),  # no purpose
        ("/v1/customers/{id}?purpose=billing&categories=name", "billing"),
        ("/v1/customers/{id}?purpose=billing", "revoked"),
        ("/v1/customers/{id}?purpose=billing", "writer"),  # no customers:read scope
        ("/v1/customers/{id}?purpose=billing", "nobody"),
    ],
)
def test_every_form_of_the_read_answers_as_the_route_does(
    vault: Vault, apps: tuple[str, str], path: str, role: str
) -> None:
    customer = vault.add(ASHA).customer_id
    keys = vault.api_keys
    tokens = {
        "billing": keys.create("billing_team", ("customers:read",)).token,
        "writer": keys.create("support_team", ("customers:write",)).token,
        "nobody": "ntk_0123456789abcdef_notasecret",
    }
    revoked = keys.create("billing_team", ("customers:read",))
    keys.revoke(revoked.key.id)
    tokens["revoked"] = revoked.token
    fast, slow = apps
    target = path.replace("{id}", customer)
    header = {"X-API-Key": tokens[role]}
    fast_answer = answered(httpx.get(f"{fast}{target}", headers=header), vault)
    assert fast_answer == answered(httpx.get(f"{slow}{target}", headers=header), vault)


def test_the_fast_read_is_the_one_that_served(
    vault: Vault,
    apps: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The plain read does not reach FastAPI (its route never runs), yet logs the same
    access line; a bearer token takes the route."""
    customer = vault.add(ASHA).customer_id
    token = vault.api_keys.create("billing_team", ("customers:read",)).token
    fast, _ = apps
    calls: list[str] = []
    original = FastRead._read

    async def counted(self: FastRead, *args: Any) -> None:
        calls.append("fast")
        await original(self, *args)

    monkeypatch.setattr(FastRead, "_read", counted)
    caplog.set_level(logging.INFO, logger="needtoknow.api")  # till the test ends: a line is
    # written after its response is sent
    plain = httpx.get(
        f"{fast}/v1/customers/{customer}?purpose=billing", headers={"X-API-Key": token}
    )
    bearer = httpx.get(
        f"{fast}/v1/customers/{customer}?purpose=billing",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert plain.status_code == bearer.status_code == 200 and plain.json() == bearer.json()
    # On PostgreSQL reads go to a worker thread: the route serves them.
    assert calls == (["fast"] if vault.db.dialect.name == "sqlite" else [])
    assert access_routes(caplog, 2) == ["/v1/customers/{customer_id}"] * 2


def test_the_rate_limit_holds_on_the_fast_read(vault: Vault, apps: tuple[str, str]) -> None:
    customer = vault.add(ASHA).customer_id
    token = vault.api_keys.create("billing_team", ("customers:read",)).token
    fast, slow = apps
    statuses = [
        httpx.get(
            f"{fast}/v1/customers/{customer}?purpose=billing", headers={"X-API-Key": token}
        ).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    limited = httpx.get(
        f"{fast}/v1/customers/{customer}?purpose=billing", headers={"X-API-Key": token}
    )
    assert limited.headers["retry-after"] and limited.json()["title"] == "Too many requests"
    other = httpx.get(
        f"{slow}/v1/customers/{customer}?purpose=billing", headers={"X-API-Key": token}
    )
    assert other.status_code == 200  # each app (process) counts its own


def test_a_key_revoked_after_it_was_cached_is_refused_at_once(
    vault: Vault, apps: tuple[str, str]
) -> None:
    """Each process keeps the keys it looked up while the registry version holds; a
    revocation bumps it, so the next request through either path is refused."""
    customer = vault.add(ASHA).customer_id
    issued = vault.api_keys.create("billing_team", ("customers:read",))
    header = {"X-API-Key": issued.token}
    for base in apps:
        assert httpx.get(f"{base}/v1/customers/{customer}?purpose=billing", headers=header)
    vault.api_keys.revoke(issued.key.id)
    for base in apps:
        refused = httpx.get(f"{base}/v1/customers/{customer}?purpose=billing", headers=header)
        assert refused.status_code == 401 and "revoked" in refused.text


def test_a_warm_read_asks_for_the_registry_version_once_and_not_for_its_key(
    tmp_path: Path, clock: Clock
) -> None:
    """Every query on the event loop is one no other request runs meanwhile: the plain
    read reads the registry version once for its key and its decision, and a known key
    from the cache."""
    statements: list[str] = []

    def trace(connection: object, _: object) -> None:
        if isinstance(connection, sqlite3.Connection):
            connection.set_trace_callback(statements.append)

    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'v.db'}")
    event.listen(sa.Engine, "connect", trace)
    vault = init_vault(settings, clock=clock)
    try:
        customer = vault.add(ASHA).customer_id
        header = {"X-API-Key": vault.api_keys.create("billing_team", ("customers:read",)).token}
        with serving(create_app(vault, Limits(rate="100/second"))) as base:
            url = f"{base}/v1/customers/{customer}?purpose=billing"
            assert httpx.get(url, headers=header).status_code == 200  # the key is cached
            statements.clear()
            assert httpx.get(url, headers=header).status_code == 200
        reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        assert sum("registry_state" in s for s in reads) == 1, reads
        assert not [s for s in reads if "api_keys" in s], reads
        assert [s for s in reads if "FROM customers" in s], reads  # it did read
    finally:
        event.remove(sa.Engine, "connect", trace)
        vault.close()


def test_serving_freezes_what_start_up_built(sqlite_vault: Vault) -> None:
    """Full garbage-collection passes over everything the server built at start took
    70-100 ms each under load (the reads' p99): once serving, those objects are frozen."""
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    with serving(create_app(sqlite_vault, Limits(rate="100/second"))) as base:
        assert httpx.get(f"{base}/healthz").status_code == 200
        assert gc.get_freeze_count() > 1000
    gc.unfreeze()


def test_the_registry_version_is_read_once_a_loop_turn_and_afresh_the_next(
    sqlite_vault: Vault,
) -> None:
    """Requests served in one turn of the event loop share one read of the version; a
    change committed meanwhile (by any process) is seen from the next turn on."""
    from needtoknow.records.agreements import bump_version

    registry = sqlite_vault.agreements

    def bump() -> None:
        with sqlite_vault.db.begin() as conn:
            bump_version(conn)

    async def turns() -> tuple[int, int, int]:
        with registry.pinned() as first:
            pass
        bump()
        with registry.pinned() as same_turn:
            pass
        await asyncio.sleep(0)
        with registry.pinned() as next_turn:
            pass
        return first, same_turn, next_turn

    first, same_turn, next_turn = asyncio.run(turns())
    assert same_turn == first and next_turn == first + 1
    with registry.pinned() as outside_a_loop:  # a thread's pin always reads
        bump()
        with registry.pinned() as again:
            assert again == outside_a_loop + 1


def test_no_request_path_reaches_an_opentelemetry_tracer(
    vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FastAPI's native telemetry puts each request's path and query (a customer's id,
    a purpose) on a span for whatever tracer provider the process has configured. Ours
    is off: a provider set process-wide sees nothing, where a plain FastAPI app's
    requests reach it."""
    from fastapi import FastAPI
    from opentelemetry import trace

    asked: list[str] = []

    class Provider(trace.TracerProvider):
        def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
            asked.append(str(args[:1]))
            return trace.NoOpTracer()

    monkeypatch.setattr(trace, "_TRACER_PROVIDER", Provider())
    plain = FastAPI()
    plain.get("/v1/customers/{customer_id}")(lambda customer_id: {})
    with serving(plain) as base:
        httpx.get(f"{base}/v1/customers/someone?purpose=billing")
    assert asked  # the test can see a tracer being used
    asked.clear()
    customer = vault.add(ASHA).customer_id
    token = vault.api_keys.create("billing_team", ("customers:read",)).token
    with serving(create_app(vault, Limits(rate="100/second"))) as base:
        for path in (f"/v1/customers/{customer}?purpose=billing", "/v1/policy"):
            httpx.get(f"{base}{path}", headers={"X-API-Key": token})
    assert asked == []
