"""Where the pages go in the service: ``/console`` for staff, ``/me`` for customers,
their assets under ``/static/web``, and the headers all of them carry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from needtoknow.web.headers import PageHeaders

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.requests import Request

ASSETS = "/static/web"
PREFIXES = ("/console", "/me", ASSETS)


def include(app: FastAPI) -> None:
    from starlette.staticfiles import StaticFiles

    from needtoknow.web import console, portal

    app.mount(ASSETS, StaticFiles(packages=[("needtoknow.web", "static")]), name="web-assets")
    app.include_router(console.router)
    app.include_router(portal.router)
    for exception, handler in (*console.HANDLERS, *portal.HANDLERS):
        app.add_exception_handler(exception, handler)
    app.add_middleware(PageHeaders, prefixes=PREFIXES, assets=ASSETS)


def is_page(request: Request) -> bool:
    """Whether a refusal should be a page rather than an API problem document."""
    return request.url.path.startswith(PREFIXES[:2])
