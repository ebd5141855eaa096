"""The hottest route without FastAPI's machinery: ``GET /v1/customers/{id}?purpose=…``.

FastAPI's routing, dependency solving and parameter validation cost several times the
read itself (bench_http.py: ~700 µs of CPU a request of the 1,337 the whole route took).
This ASGI middleware answers the plain form of that call — a key in ``X-API-Key``, the
one ``purpose`` parameter — with the same checks in the same order and the same response,
built by the same functions (``disclosure_response``, the app's error handlers; what it
shares with :mod:`~needtoknow.api.fastcorrect` is :class:`FastRoute`). Anything else — a
bearer token, other parameters, a key refused or without the scope — goes on to the
FastAPI route, which answers it as it always has. The route stays declared there, so the
OpenAPI document is unchanged (tests/api/test_fastread.py compares both paths).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from needtoknow.api.models import disclosure_response
from needtoknow.api.service import RateLimited, Service
from needtoknow.errors import NeedToKnowError
from needtoknow.records.apikeys import ApiKey, Refusal
from needtoknow.types import Context
from needtoknow.vault import Vault

PREFIX = "/v1/customers/"
SCOPE = "customers:read"
PURPOSE_LENGTH = 100  # the route's Query(max_length=100)

Handler = Callable[[Request, Any], Awaitable[Response]]


class FastRoute:
    """What a route served without FastAPI's machinery keeps of it: the app every other
    form goes on to, the FastAPI route it answers for (its template names the request
    in the access log), and the app's handlers for refusals, so both answer alike."""

    def __init__(
        self,
        app: ASGIApp,
        service: Service,
        route: APIRoute,
        on_error: Handler,
        on_limited: Handler,
    ) -> None:
        self.app = app
        self.service = service
        self.route = route
        self.on_error = on_error
        self.on_limited = on_limited

    def _allowed(self, token: str, needed: str) -> ApiKey | None:
        """The key, if it is valid and carries the scope ``needed``; None leaves the
        request to the route, which refuses it (and ledgers the refusal) as it does."""
        keys = self.service.keys
        key = keys.check(token)
        return None if isinstance(key, Refusal) or not keys.permits(key, needed) else key

    async def _serve(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        key: ApiKey,
        answer: Callable[[Vault], Awaitable[Response]],
    ) -> None:
        """Count the request against the key's rate, then send what ``answer`` makes with
        the vault acting as the key for this request — or the refusal of either."""
        state = scope["state"]
        state["key"] = key
        scope["route"] = self.route
        response: Response
        try:
            self.service.admit(key.id)
            response = await answer(self.service.vault.acting(key.actor, state["request_id"]))
        except RateLimited as exc:
            response = await self.on_limited(Request(scope, receive), exc)
        except NeedToKnowError as exc:
            response = await self.on_error(Request(scope, receive), exc)
        await response(scope, receive, send)


class FastRead(FastRoute):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        plain = self._plain(scope) if scope["type"] == "http" else None
        if plain is None:
            await self.app(scope, receive, send)
            return
        customer_id, purpose, token = plain
        service = self.service
        if service.inline:  # on a database server the route reads from a worker thread
            # One look at the registry version for the key and the decision both.
            with service.vault.agreements.pinned():
                key = self._allowed(token, SCOPE)
                if key is not None:
                    await self._read(scope, receive, send, customer_id, purpose, key)
                    return
        await self.app(scope, receive, send)  # refusals, scopes, PostgreSQL: the route

    async def _read(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        customer_id: str,
        purpose: str,
        key: ApiKey,
    ) -> None:
        async def read(vault: Vault) -> Response:
            context = Context(now=vault.clock())
            disclosed = await vault.get_async(
                customer_id, recipient=key.recipient, purpose=purpose, context=context
            )
            return disclosure_response(disclosed)

        await self._serve(scope, receive, send, key, read)

    def _plain(self, scope: Scope) -> tuple[str, str, str] | None:
        """(customer id, purpose, key) when the request is the plain read, else None."""
        customer_id = plain_customer(scope, "GET")
        token = plain_key(scope)
        if customer_id is None or token is None:
            return None
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        if len(query) != 1 or query[0][0] != "purpose" or len(query[0][1]) > PURPOSE_LENGTH:
            return None
        return customer_id, query[0][1], token


def plain_customer(scope: Scope, method: str) -> str | None:
    """The customer id of ``method /v1/customers/{id}``, else None."""
    path: str = scope["path"]
    if scope["method"] != method or not path.startswith(PREFIX) or scope.get("root_path"):
        return None
    customer_id = path[len(PREFIX) :]
    return customer_id if customer_id and "/" not in customer_id else None


def plain_key(scope: Scope) -> str | None:
    """The key when it came once, in ``X-API-Key``, and no Authorization header came."""
    tokens: list[bytes] = [v for k, v in scope["headers"] if k in (b"x-api-key", b"authorization")]
    if len(tokens) != 1 or not any(k == b"x-api-key" for k, _ in scope["headers"]):
        return None
    return tokens[0].decode("latin-1")
