"""Every request: an id (echoed in ``X-Request-ID`` and recorded in its ledger entries),
a body-size limit, and one access-log line."""

from __future__ import annotations

import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from needtoknow.api import logs
from needtoknow.api.problems import problem

_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class BodyTooLarge(Exception):
    pass


class RequestContext:
    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope.get("headers", []))
        offered = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = offered if _CLIENT_ID.match(offered) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status, started_response = message["status"], True
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await self._too_large(scope, receive, send_with_id, request_id)
            logs.access(scope, status, started)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body:
                raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send_with_id)
        except BodyTooLarge:
            if not started_response:
                await self._too_large(scope, receive, send_with_id, request_id)
        finally:
            logs.access(scope, status, started)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        response = problem(
            413,
            "too-large",
            "Request body too large",
            f"bodies are limited to {self.max_body} bytes",
            request_id,
        )
        await response(scope, receive, send)
