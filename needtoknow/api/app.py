"""The HTTP service: the vault, policy and ledger behind authenticated, purpose-bound calls.

Each calling system (billing, support, notifications, abuse) holds an API key bound to
one recipient of the policy; every call that reads PII names its purpose, and the policy
decides. Errors are RFC 9457 problem details; every response carries ``X-Request-ID``,
the id its ledger entries record.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from needtoknow.api import logs
from needtoknow.api.middleware import RequestContext
from needtoknow.api.problems import from_error, problem
from needtoknow.api.routes import agreements, customers, disclosures, ledger, policy
from needtoknow.api.service import Limits, RateLimited, Service
from needtoknow.errors import NeedToKnowError
from needtoknow.home import Settings, open_vault
from needtoknow.vault import Vault


def create_app(vault: Vault, limits: Limits | None = None, own_vault: bool = False) -> FastAPI:
    """The application over ``vault``; with ``own_vault`` it closes the vault on shutdown."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if own_vault:
            vault.close()

    app = FastAPI(
        title="needtoknow",
        version=version("needtoknow"),
        summary="Customer PII on a need-to-know basis: every read names its purpose.",
        lifespan=lifespan,
    )
    app.state.service = Service(vault, limits or Limits())
    for router in (customers, policy, ledger, agreements, disclosures):
        app.include_router(router.router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.exception_handler(NeedToKnowError)
    async def library_error(request: Request, exc: NeedToKnowError) -> JSONResponse:
        return from_error(exc, request.state.request_id)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Field locations and messages only: pydantic's "input" would echo the value.
        problems = [
            {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
            for error in exc.errors()
        ]
        return problem(
            422,
            "validation",
            "Invalid input",
            "the request does not match the schema",
            request.state.request_id,
            errors=problems,
        )

    @app.exception_handler(RateLimited)
    async def limited(request: Request, exc: RateLimited) -> JSONResponse:
        response = problem(
            429, "rate-limited", "Too many requests", str(exc), request.state.request_id
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return problem(
            exc.status_code, "http", str(exc.detail), str(exc.detail), request.state.request_id
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logs.failure(request.scope, exc)
        return problem(
            500, "internal", "Internal error", "see the service log", request.state.request_id
        )

    app.add_middleware(RequestContext, max_body=(limits or Limits()).max_body)
    return app


def from_env() -> FastAPI:
    """The app for ``ntk serve`` (a uvicorn factory): the vault under NTK_HOME, limits
    from NTK_API_RATE (e.g. ``500/second``) and NTK_API_MAX_BODY (bytes)."""
    limits = Limits(
        rate=os.environ.get("NTK_API_RATE", Limits.rate),
        max_body=int(os.environ.get("NTK_API_MAX_BODY", Limits.max_body)),
    )
    return create_app(open_vault(Settings.from_env()), limits, own_vault=True)
