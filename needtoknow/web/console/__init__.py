"""The privacy officer's console (``/console``): each module a page or two."""

from fastapi import APIRouter

from needtoknow.web.console import (
    advertisers,
    customers,
    disclosures,
    ledger,
    policy,
    signin,
    today,
)
from needtoknow.web.console.access import HANDLERS

router = APIRouter(include_in_schema=False)
for page in (signin, today, disclosures, customers, policy, ledger, advertisers):
    router.include_router(page.router, prefix="/console")

__all__ = ["HANDLERS", "router"]
