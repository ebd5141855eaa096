"""Every request: an id of ours (sent back in ``X-Request-ID`` and recorded in its ledger
entries), a body-size limit, and one access-log line."""

from __future__ import annotations

import os
import time

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from needtoknow.api import logs
from needtoknow.api.problems import problem


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
        # Always ours: a client-chosen id could repeat another request's and muddle the
        # ledger's account of who did what.
        request_id = os.urandom(16).hex()  # as random as uuid4, without building a UUID
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500

        responded = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
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
                # FastAPI turns other errors raised while reading a body into a 400.
                raise HTTPException(413, "Request body too large")
            return message

        try:
            await self.app(scope, limited_receive, send_with_id)
        except Exception as exc:
            # Here rather than in an app exception handler, which Starlette runs outside
            # every middleware: the 500 still carries the request id, and the error is
            # logged by class only — no message, no traceback, so no values.
            logs.failure(scope, exc)
            if responded:
                raise
            failed = problem(500, "internal", "Internal error", "see the service log", request_id)
            await failed(scope, receive, send_with_id)
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
