"""The plain correction served without FastAPI's routing (api/fastcorrect.py) answers
exactly as the FastAPI route does — status, headers, body, ledger entry, access log —
and every other form of the call, its body intact, still reaches the route."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from needtoknow.api.app import create_app
from needtoknow.api.fastcorrect import FastCorrect
from needtoknow.api.service import Limits
from needtoknow.vault import Vault
from tests.api.conftest import access_routes, answered
from tests.customers import ASHA

PHONE = '{"fields": {"telephone": "+919812345678"}}'
JSON = "application/json"


@pytest.mark.parametrize(
    ("path", "body", "role", "content_type"),
    [
        ("/v1/customers/{id}", PHONE, "writer", JSON),  # the fast correction
        ("/v1/customers/{id}", '{"fields": {"telephone": "12"}}', "writer", JSON),
        ("/v1/customers/{id}", '{"fields": {"shoe_size": 9}}', "writer", JSON),
        ("/v1/customers/00000000-0000-4000-8000-000000000000", PHONE, "writer", JSON),
        ("/v1/customers/not-an-id", PHONE, "writer", JSON),
        # what the fast path leaves to the route
        ("/v1/customers/{id}", PHONE[:-1] + ', "telephone": "+919812345679"}}', "writer", JSON),
        ("/v1/customers/{id}", '{"fields": {"name": "A"}, "more": 1}', "writer", JSON),
        ("/v1/customers/{id}", '{"fields": {}}', "writer", JSON),
        ("/v1/customers/{id}", '{"fields": ["telephone"]}', "writer", JSON),
        ("/v1/customers/{id}", '{"fields": ' * 40 + "1" + "}" * 40, "writer", JSON),
        ("/v1/customers/{id}", "not json", "writer", JSON),
        ("/v1/customers/{id}", PHONE, "writer", "text/plain"),
        ("/v1/customers/{id}", PHONE, "writer", "application/json; charset=utf-8"),
        ("/v1/customers/{id}?dry=1", PHONE, "writer", JSON),
        ("/v1/customers/{id}", PHONE, "reader", JSON),  # no customers:write scope
        ("/v1/customers/{id}", PHONE, "revoked", JSON),
        ("/v1/customers/{id}", PHONE, "nobody", JSON),
    ],
)
def test_every_form_of_the_correction_answers_as_the_route_does(
    vault: Vault, apps: tuple[str, str], path: str, body: str, role: str, content_type: str
) -> None:
    customer = vault.add(ASHA).customer_id
    keys = vault.api_keys
    tokens = {
        "writer": keys.create("support_team", ("customers:write",)).token,
        "reader": keys.create("billing_team", ("customers:read",)).token,
        "nobody": "ntk_0123456789abcdef_notasecret",
    }
    revoked = keys.create("support_team", ("customers:write",))
    keys.revoke(revoked.key.id)
    tokens["revoked"] = revoked.token
    fast, slow = apps
    target = path.replace("{id}", customer)
    headers = {"X-API-Key": tokens[role], "Content-Type": content_type}
    content = body.encode()
    fast_answer = answered(httpx.patch(f"{fast}{target}", content=content, headers=headers), vault)
    slow_answer = answered(httpx.patch(f"{slow}{target}", content=content, headers=headers), vault)
    assert fast_answer == slow_answer


def test_the_fast_correction_is_the_one_that_served(
    vault: Vault,
    apps: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The plain correction does not reach FastAPI, yet logs the same access line and
    writes what the route writes; a bearer token takes the route."""
    customer = vault.add(ASHA).customer_id
    token = vault.api_keys.create("support_team", ("customers:write",)).token
    fast, _ = apps
    calls: list[str] = []
    original = FastCorrect._correct

    async def counted(self: FastCorrect, *args: Any) -> None:
        calls.append("fast")
        await original(self, *args)

    monkeypatch.setattr(FastCorrect, "_correct", counted)
    url = f"{fast}/v1/customers/{customer}"
    caplog.set_level(logging.INFO, logger="needtoknow.api")  # till the test ends: a line is
    # written after its response is sent
    plain = httpx.patch(url, content=PHONE, headers={"X-API-Key": token, "Content-Type": JSON})
    bearer = httpx.patch(
        url,
        content='{"fields": {"telephone": "+919812345679"}}',
        headers={"Authorization": f"Bearer {token}", "Content-Type": JSON},
    )
    assert plain.status_code == bearer.status_code == 200
    assert plain.json()["categories"] == ["telephone"]
    # On PostgreSQL writes go to a worker thread: the route serves them.
    assert calls == (["fast"] if vault.db.dialect.name == "sqlite" else [])
    assert access_routes(caplog, 2) == ["/v1/customers/{customer_id}"] * 2
    read = vault.get(customer, recipient="billing_team", purpose="billing")
    assert read.values["telephone"] == "+919812345679"


def test_the_rate_limit_holds_on_the_fast_correction(vault: Vault, apps: tuple[str, str]) -> None:
    customer = vault.add(ASHA).customer_id
    token = vault.api_keys.create("support_team", ("customers:write",)).token
    fast, _ = apps
    headers = {"X-API-Key": token, "Content-Type": JSON}
    url = f"{fast}/v1/customers/{customer}"
    statuses = [httpx.patch(url, content=PHONE, headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


async def _call(app: Any, body_messages: list[dict[str, Any]], headers: dict[str, str]) -> int:
    """``app`` called as a server would, with the body as ``body_messages`` (then the
    client's disconnect): the status sent."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PATCH",
        "scheme": "http",
        "path": headers.pop("path"),
        "raw_path": b"",
        "query_string": b"",
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    pending = [*body_messages, {"type": "http.disconnect"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if len(pending) > 1 else pending[0]

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"]) if sent else 0


@pytest.mark.parametrize("fast", [True, False])
def test_a_client_that_leaves_mid_body_changes_nothing(vault: Vault, fast: bool) -> None:
    """Review, session 19: the fast path took a disconnect for the end of the body and
    applied a correction the client had abandoned (whitespace-padded JSON stays valid
    when cut). Its Content-Length is 46; 42 bytes come, then the client is gone."""
    customer = vault.add(ASHA).customer_id
    token = vault.api_keys.create("support_team", ("customers:write",)).token
    before = vault.get(customer, recipient="billing_team", purpose="billing").values
    app = create_app(vault, fast_routes=fast)
    headers = {
        "path": f"/v1/customers/{customer}",
        "x-api-key": token,
        "content-type": JSON,
        "content-length": str(len(PHONE) + 4),
    }
    cut = [{"type": "http.request", "body": PHONE.encode(), "more_body": True}]
    status = asyncio.run(_call(app, cut, headers))
    assert status in (0, 400)  # nobody to answer; nothing done either way
    after = vault.get(customer, recipient="billing_team", purpose="billing").values
    assert after == before


def test_a_body_longer_than_the_limit_is_refused_as_the_route_refuses_it(vault: Vault) -> None:
    """Review, session 19: more body than declared, past the limit, reached the fast
    path as an error and came back a 500; the route answers 413."""
    customer = vault.add(ASHA).customer_id
    token = vault.api_keys.create("support_team", ("customers:write",)).token
    statuses = []
    for fast in (True, False):
        app = create_app(vault, Limits(max_body=30), fast_routes=fast)
        headers = {
            "path": f"/v1/customers/{customer}",
            "x-api-key": token,
            "content-type": JSON,
            "content-length": "20",
        }
        chunks = [
            {"type": "http.request", "body": PHONE[:20].encode(), "more_body": True},
            {"type": "http.request", "body": PHONE[20:].encode(), "more_body": False},
        ]
        statuses.append(asyncio.run(_call(app, chunks, headers)))
    assert statuses == [413, 413]


def test_the_correction_itself_runs_unpinned(
    vault: Vault, apps: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review, session 19: the registry version read for the key check stayed pinned
    through the correction, so its check under the row lock could use a policy or
    agreements superseded while it waited for the lock. The route reads it afresh."""
    from needtoknow.records import agreements

    customer = vault.add(ASHA).customer_id
    token = vault.api_keys.create("support_team", ("customers:write",)).token
    pins: list[object] = []
    original = Vault._collectable

    def watched(self: Vault, *args: Any) -> Any:  # the check under the row lock
        pins.append(agreements._PINNED.get())
        return original(self, *args)

    monkeypatch.setattr(Vault, "_collectable", watched)
    for base in apps:
        headers = {"X-API-Key": token, "Content-Type": JSON}
        assert httpx.patch(f"{base}/v1/customers/{customer}", content=PHONE, headers=headers)
    assert len(pins) >= 2 and set(pins) == {None}, pins
