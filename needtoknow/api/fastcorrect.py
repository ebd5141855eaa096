"""The correction without FastAPI's machinery: ``PATCH /v1/customers/{id}``.

A correction through FastAPI cost ~0.7 ms of CPU beyond the vault's own work — body
parsed twice, dependencies solved, the model validated — and corrections, 5% of the
load bench_http.py drives, had become a third of the service's CPU. As
:mod:`~needtoknow.api.fastread` does for the read, this answers the plain form — a key in
``X-API-Key``, a declared length, ``Content-Type: application/json``, a body that is
exactly ``{"fields": {…1 to 32 categories…}}`` with no key twice — after the same checks
in the same order, with the same response and error handlers. Anything else, the body
included, goes on to the FastAPI route, which answers it as it always has; the route
stays declared there, so the OpenAPI document is unchanged
(tests/api/test_fastcorrect.py compares both paths).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from needtoknow.api.fastread import FastRoute, plain_customer, plain_key
from needtoknow.api.models import Written, respond
from needtoknow.errors import ValidationError
from needtoknow.guards.jsontext import parse_json
from needtoknow.records.apikeys import ApiKey
from needtoknow.vault import Vault

SCOPE = "customers:write"
MAX_FIELDS = 32  # CustomerFields' max_length


class FastCorrect(FastRoute):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        plain = self._plain(scope) if scope["type"] == "http" else None
        if plain is None or not self.service.inline:
            await self.app(scope, receive, send)
            return
        customer_id, token, length = plain
        received = await _received(receive)
        fields = _fields(received, length)
        if fields is not None:
            # The version read once for the key check only: the correction reads it
            # afresh under the row lock, as the route's does.
            with self.service.vault.agreements.pinned():
                key = self._allowed(token, SCOPE)
            if key is not None:
                await self._correct(scope, receive, send, customer_id, fields, key)
                return
        await self.app(scope, received.replay(receive), send)  # the route answers the rest

    async def _correct(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        customer_id: str,
        fields: dict[str, Any],
        key: ApiKey,
    ) -> None:
        async def correct(vault: Vault) -> Response:
            # Served only on SQLite (``service.inline``): the write joins the turn's commit.
            written = await vault.correct_async(customer_id, fields)
            return respond(Written(**written.to_json()))

        await self._serve(scope, receive, send, key, correct)

    def _plain(self, scope: Scope) -> tuple[str, str, int] | None:
        """(customer id, key, declared length) when the request may be the plain
        correction, else None (the body is judged once read)."""
        customer_id = plain_customer(scope, "PATCH")
        token = plain_key(scope)
        if customer_id is None or token is None or scope["query_string"]:
            return None
        headers = scope["headers"]
        types = [v for k, v in headers if k == b"content-type"]
        lengths = [v for k, v in headers if k == b"content-length"]
        if types != [b"application/json"] or len(lengths) != 1 or not lengths[0].isdigit():
            return None  # RequestContext refused a declared length over the limit
        if any(k == b"transfer-encoding" for k, _ in headers):
            return None
        return customer_id, token, int(lengths[0])


class _Received:
    """What ``receive`` gave while the body was read: the messages, and the error that
    ended the reading, if one did (RequestContext's 413 for a body over its limit)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.error: Exception | None = None

    @property
    def body(self) -> bytes | None:
        """The whole body, or None if the client left (or reading failed) before it
        ended."""
        if self.error is not None or not self.messages:
            return None
        if self.messages[-1]["type"] != "http.request" or self.messages[-1].get("more_body"):
            return None
        return b"".join(m.get("body", b"") for m in self.messages)

    def replay(self, receive: Receive) -> Receive:
        """``receive`` as the route must see it: the same messages again, the same error,
        then the rest."""
        pending = list(self.messages)

        async def replayed() -> Message:
            if pending:
                return pending.pop(0)
            if self.error is not None:
                raise self.error
            return await receive()

        return replayed


async def _received(receive: Receive) -> _Received:
    received = _Received()
    while True:
        try:
            message = await receive()
        except Exception as exc:  # given to the route, to answer as it does
            received.error = exc
            return received
        received.messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return received


def _fields(received: _Received, length: int) -> dict[str, Any] | None:
    """The categories of a whole body of the declared length that is exactly
    ``{"fields": {…}}``, strictly parsed."""
    body = received.body
    if body is None or len(body) != length:
        return None
    try:
        value = parse_json(body, "body")
    except ValidationError:
        return None
    if not isinstance(value, dict) or list(value) != ["fields"]:
        return None
    fields = value["fields"]
    if not isinstance(fields, dict) or not 1 <= len(fields) <= MAX_FIELDS:
        return None
    return fields
