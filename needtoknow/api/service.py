"""What one running service holds: the vault, its key registry, the rate limiter, limits.

Each request acts through a *view* of the vault (``Vault.acting``) naming the API key as
actor and the request id, so the ledger says who asked, through which request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from needtoknow.apikeys import ApiKey, ApiKeys
from needtoknow.vault import Vault


class RateLimited(Exception):
    """A key made more requests than its limit allows; retry after ``retry_after`` s."""

    def __init__(self, key_id: str, limit: str, retry_after: int) -> None:
        self.key_id = key_id
        self.limit = limit
        self.retry_after = retry_after
        super().__init__(f"API key {key_id} is over its limit of {limit}")


@dataclass(frozen=True)
class Limits:
    rate: str = "1000/second"  # per API key, per process (limits' syntax)
    max_body: int = 1 << 20  # bytes per request body


class Service:
    def __init__(self, vault: Vault, limits: Limits) -> None:
        self.vault = vault
        self.keys = ApiKeys(vault)
        self.limits = limits
        self._rate: RateLimitItem = parse(limits.rate)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def admit(self, key: ApiKey) -> None:
        if not self._limiter.hit(self._rate, key.id):
            reset = self._limiter.get_window_stats(self._rate, key.id).reset_time
            raise RateLimited(key.id, self.limits.rate, max(1, int(reset - time.time())))


@dataclass(frozen=True)
class Caller:
    """The authenticated key and the vault as it acts for this request."""

    key: ApiKey
    vault: Vault
    request_id: str


_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer ntk_<id>_<secret>")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="ntk_<id>_<secret>")


def _authorised(scope: str) -> Callable[..., Caller]:
    """A dependency: the request's key, which must carry ``scope``, within its rate."""

    def authorised(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        header: Annotated[str | None, Depends(_header)],
    ) -> Caller:
        service: Service = request.app.state.service
        request_id: str = request.state.request_id
        token = bearer.credentials if bearer is not None else header
        keys = ApiKeys(service.vault.acting("api:unauthenticated", request_id))
        key = keys.authenticate(token)
        request.state.key = key
        keys.authorise(key, scope)
        service.admit(key)
        return Caller(key, service.vault.acting(key.actor, request_id), request_id)

    return authorised


CustomersRead = Annotated[Caller, Depends(_authorised("customers:read"))]
CustomersWrite = Annotated[Caller, Depends(_authorised("customers:write"))]
CustomersErase = Annotated[Caller, Depends(_authorised("customers:erase"))]
PolicyRead = Annotated[Caller, Depends(_authorised("policy:read"))]
LedgerRead = Annotated[Caller, Depends(_authorised("ledger:read"))]
AgreementsManage = Annotated[Caller, Depends(_authorised("agreements:manage"))]
DisclosuresRequest = Annotated[Caller, Depends(_authorised("disclosures:request"))]
DisclosuresDecide = Annotated[Caller, Depends(_authorised("disclosures:decide"))]
DisclosuresRelease = Annotated[Caller, Depends(_authorised("disclosures:release"))]
