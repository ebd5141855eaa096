"""The HTTP service: the vault, policy and ledger behind authenticated, purpose-bound calls.

Each calling system (billing, support, notifications, abuse) holds an API key bound to
one recipient of the policy; every call that reads PII names its purpose, and the policy
decides. Errors are RFC 9457 problem details; every response carries ``X-Request-ID``,
the id its ledger entries record.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib.metadata import version
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from needtoknow import web
from needtoknow.analytics import EventStore
from needtoknow.api.fastcorrect import FastCorrect
from needtoknow.api.fastread import FastRead
from needtoknow.api.middleware import RequestContext
from needtoknow.api.models import Problem
from needtoknow.api.problems import from_error, problem
from needtoknow.api.routes import (
    accounts,
    agreements,
    analytics,
    consent_manager,
    consents,
    customers,
    disclosures,
    ledger,
    me,
    policy,
)
from needtoknow.api.service import (
    SECURITY_SCHEMES,
    Authorised,
    Limits,
    RateLimited,
    Service,
    signed_in,
)
from needtoknow.categories.schema import customer_schema
from needtoknow.config import Settings, open_vault
from needtoknow.demo.messages import DEMO_MARK, PrintedMessages
from needtoknow.errors import NeedToKnowError
from needtoknow.ledger.signer import HeadSigner
from needtoknow.rights.senders import Sender
from needtoknow.vault import Vault
from needtoknow.web.pages import refusal
from needtoknow.web.site import is_page


def create_app(
    vault: Vault,
    limits: Limits | None = None,
    own_vault: bool = False,
    events: EventStore | None = None,
    sth_every: float | None = None,
    messenger: Sender | None = None,
    fast_routes: bool = True,
) -> FastAPI:
    """The application over ``vault`` (and ``events``, the usage-event store, if this
    server takes events and runs reports); with ``own_vault`` it closes the vault on
    shutdown. With ``sth_every`` it signs a tree head that often while it runs, and once
    more on shutdown, so what it served is covered by a signature a witness can keep.
    ``fast_routes``: the plain customer read and correction skip FastAPI's routing
    (api/fastread.py, api/fastcorrect.py)."""
    limits = limits or Limits()
    app = FastAPI(
        title="needtoknow",
        version=version("needtoknow"),
        summary="Customer PII on a need-to-know basis: every read names its purpose.",
        lifespan=_lifespan(vault, own_vault, sth_every),
        docs_url=None,  # served by _serve_docs, from files of our own, not a CDN
        redoc_url=None,
        # FastAPI's own OpenTelemetry reports each request's path and query — a
        # customer's id, a purpose — to whatever tracer the process has (an operator's
        # auto-instrumentation, say), and asks every request whether one is there. The
        # access log (api/logs.py) is the record of requests, without paths.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.service = Service(vault, limits, events, messenger)
    _include_routes(app, vault)
    _serve_docs(app)
    web.include(app)
    _answer_errors_as_problems(app)
    if fast_routes:
        for fast, method in ((FastCorrect, "PATCH"), (FastRead, "GET")):
            app.add_middleware(
                fast,
                service=app.state.service,
                route=_route(customers.router, method, "/v1/customers/{customer_id}"),
                on_error=_library_error,
                on_limited=_limited,
            )
    app.add_middleware(RequestContext, max_body=limits.max_body)
    return app


def _route(router: APIRouter, method: str, path: str) -> APIRoute:
    return next(
        r
        for r in router.routes
        if isinstance(r, APIRoute) and r.path == path and method in (r.methods or ())
    )


def _lifespan(
    vault: Vault, own_vault: bool, sth_every: float | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """What runs while the server does: the head signer, a last signed head on a clean
    shutdown (covering the final requests), and closing a vault the server owns even
    when that last signing fails; at start, the objects built so far frozen."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        signer = None if sth_every is None else HeadSigner(vault.ledger, sth_every)
        # What start-up built (the app, the policy engine, SQLAlchemy's tables) lives as
        # long as the server: frozen, the collector's full passes skip it. Under load they
        # took 70-100 ms each, every second or so, and were the reads' p99
        # (docs/benchmarks.md: 78-89 ms without, 22-25 ms with).
        gc.collect()
        gc.freeze()
        try:
            if signer is not None:
                signer.start()
            yield
            if signer is not None:
                await asyncio.to_thread(signer.stop)
                await asyncio.to_thread(vault.ledger.sign_head)
        finally:
            if signer is not None:
                signer.stop()  # whatever failed: nothing signs once the vault is closed
            if own_vault:
                vault.close()

    return lifespan


def _include_routes(app: FastAPI, vault: Vault) -> None:
    """Every router, each route's scope and the problem responses published in the
    schema, so a client can read what each call needs and what it may answer."""
    routers = (customers, consents, accounts, policy, ledger, agreements, disclosures, analytics)
    for router in (*routers, me, consent_manager):
        _publish_scopes(router.router)
        app.include_router(router.router, responses=PROBLEM_RESPONSES)
    _publish_security(app, vault)
    app.get("/healthz", include_in_schema=False, name="healthz")(_healthz)


DOCS_ASSETS = "/static/docs"


def _serve_docs(app: FastAPI) -> None:
    """Swagger UI at /docs and ReDoc at /redoc from the files fastapi-offline packages
    (pinned with the rest), so the docs work on a machine with no Internet and load
    nothing from a third party's server."""
    from importlib.resources import files

    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    assets = files("fastapi_offline") / "static"
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(assets)), name="docs-assets")
    title = f"{app.title} — API"

    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=title,
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
        )

    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=title,
            redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )

    app.get("/docs", include_in_schema=False)(docs)
    app.get("/redoc", include_in_schema=False)(redoc)


def _healthz() -> dict[str, str]:
    return {"status": "ok"}


def _answer_errors_as_problems(app: FastAPI) -> None:
    """Every refusal as an RFC 9457 problem carrying the request id, never a traceback
    or FastAPI's default body (which would echo the input)."""
    app.exception_handler(NeedToKnowError)(_library_error)
    app.exception_handler(RequestValidationError)(_invalid)
    app.exception_handler(RateLimited)(_limited)
    app.exception_handler(HTTPException)(_http_error)


async def _library_error(request: Request, exc: NeedToKnowError) -> Response:
    answer = from_error(exc, request.state.request_id)
    return refusal(request, answer.status_code, str(exc)) if is_page(request) else answer


async def _invalid(request: Request, exc: RequestValidationError) -> Response:
    # Field locations and messages only: pydantic's "input" would echo the value.
    if is_page(request):
        fields = ", ".join(".".join(map(str, e["loc"][1:])) for e in exc.errors())
        return refusal(request, 422, f"Missing or invalid: {fields}.")
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


async def _limited(request: Request, exc: RateLimited) -> Response:
    response: Response
    if is_page(request):
        response = refusal(request, 429, f"Too many attempts; try again in {exc.retry_after} s.")
    else:
        response = problem(
            429, "rate-limited", "Too many requests", str(exc), request.state.request_id
        )
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _http_error(request: Request, exc: HTTPException) -> Response:
    if is_page(request):
        return refusal(request, exc.status_code, str(exc.detail))
    slug = "too-large" if exc.status_code == 413 else "http"
    return problem(
        exc.status_code, slug, str(exc.detail), str(exc.detail), request.state.request_id
    )


_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_REQUEST_ID: dict[str, Any] = {
    "description": "This request's id, as recorded in its ledger entries"
}
_RETRY_AFTER: dict[str, Any] = {
    "description": "Seconds until the key may call again",
    "schema": {"type": "integer"},
}


def _problem_response(status: int, text: str) -> dict[str, Any]:
    headers: dict[str, Any] = {"X-Request-ID": _REQUEST_ID}
    if status == 429:
        headers["Retry-After"] = _RETRY_AFTER
    return {"model": Problem, "description": text, "content": _PROBLEM, "headers": headers}


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: _problem_response(status, text)
    for status, text in (
        (400, "A body that cannot be parsed"),
        (401, "No valid API key (missing, malformed, unknown, expired, revoked)"),
        (403, "The key lacks the scope, or the policy denies the recipient this purpose"),
        (404, "No such customer, agreement, request or tree head"),
        (409, "The request cannot be completed in the resource's current state"),
        (413, "Request body too large"),
        (422, "Invalid input (names the field and rule, never the value)"),
        (429, "Over the key's rate limit"),
        (500, "An unexpected error (logged by class and request id)"),
        (503, "Keys or database unavailable; retry"),
    )
}


def _publish_security(app: FastAPI, vault: Vault) -> None:
    """Declare how keys travel in the schema, and the customer record's shape (from the
    vault's categories: ``categories.schema``) as the body of a write. Authorised reads
    the headers itself: FastAPI's security dependencies would cost two more dependency
    solves per request."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
            record = {k: v for k, v in customer_schema(vault.registry).items() if k != "$schema"}
            fields = schema["components"]["schemas"]["CustomerFields"]["properties"]["fields"]
            fields.update(record, maxProperties=32)
            for operations in schema["paths"].values():
                for operation in operations.values():
                    if "x-required-scope" in operation:
                        operation["security"] = [{"bearer": []}, {"apiKey": []}]
                    elif "x-customer-session" in operation:
                        operation["security"] = [{"customerSession": []}]
                    elif "x-consent-manager" in operation:
                        operation["security"] = []  # the signature over the body is it
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _publish_scopes(router: APIRouter) -> None:
    """Each route's required scope, as ``x-required-scope`` in the OpenAPI schema, or
    ``x-customer-session`` for the customer's own routes (a session token, no key)."""
    for route in router.routes:
        if isinstance(route, APIRoute):
            for dependency in route.dependant.dependencies:
                if isinstance(dependency.call, Authorised):
                    route.openapi_extra = {"x-required-scope": dependency.call.scope}
                elif dependency.call is signed_in:
                    route.openapi_extra = {"x-customer-session": True}


def from_env() -> FastAPI:
    """The app for ``ntk serve`` (a uvicorn factory): the vault under NTK_HOME, limits
    from NTK_API_RATE (e.g. ``500/second``), NTK_API_MAX_BODY (bytes) and
    NTK_API_REFUSAL_RATE (refused attempts per key id and client address), and a signed
    tree head every NTK_STH_EVERY seconds (default 60; 0 turns it off)."""
    limits = Limits(
        rate=os.environ.get("NTK_API_RATE", Limits.rate),
        max_body=int(os.environ.get("NTK_API_MAX_BODY", Limits.max_body)),
        refusals=os.environ.get("NTK_API_REFUSAL_RATE", Limits.refusals),
    )
    every = float(os.environ.get("NTK_STH_EVERY", "60"))
    settings = Settings.from_env()
    vault = open_vault(settings)
    messenger: Sender = settings.messenger()
    if os.environ.get("NTK_DEMO_CODES") == "1" and (settings.home / DEMO_MARK).exists():
        messenger = PrintedMessages()  # `ntk demo --serve` on its own synthetic vault
    return create_app(
        vault,
        limits,
        own_vault=True,
        events=EventStore.of(settings, vault),
        sth_every=every if every > 0 else None,
        messenger=messenger,
    )
