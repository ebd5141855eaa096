"""The customer's portal (``/me``)."""

from fastapi import APIRouter

from needtoknow.web.portal import pages, signin
from needtoknow.web.portal.access import HANDLERS

router = APIRouter(include_in_schema=False)
for page in (signin, pages):
    router.include_router(page.router, prefix="/me")

__all__ = ["HANDLERS", "router"]
