"""What one running service holds: the vault, its key registry, the rate limiter, limits.

Each request acts through a *view* of the vault (``Vault.acting``) naming the API key as
actor and the request id, so the ledger says who asked, through which request.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from limits import parse

from needtoknow.analytics import EventStore
from needtoknow.api.ratelimit import MovingWindow
from needtoknow.errors import AuthenticationError
from needtoknow.records.apikeys import ApiKey, Refusal
from needtoknow.rights.requests import RightsRequests
from needtoknow.rights.senders import Sender
from needtoknow.rights.sessions import CustomerSessions
from needtoknow.storage.database import writer_busy
from needtoknow.vault import Vault

Done = TypeVar("Done")


class RateLimited(Exception):
    """More requests than a limit allows (``what`` says whose); retry after
    ``retry_after`` s."""

    def __init__(self, what: str, limit: str, retry_after: int) -> None:
        self.limit = limit
        self.retry_after = retry_after
        super().__init__(f"{what} over the limit of {limit}")


@dataclass(frozen=True)
class Limits:
    rate: str = "1000/second"  # per API key, per process (limits' syntax)
    max_body: int = 1 << 20  # bytes per request body
    # Refused attempts on one key id from one client address, per process: enough for a
    # holder's typo, not for guessing, and spent apart from the key's own rate.
    refusals: str = "10/minute"


class Service:
    def __init__(
        self,
        vault: Vault,
        limits: Limits,
        events: EventStore | None = None,
        messenger: Sender | None = None,
    ) -> None:
        self.vault = vault
        self.messenger = messenger  # one-time codes to customers (None: none are sent)
        self.sessions = CustomerSessions(vault)  # checks customers' tokens
        self.events = events  # usage events; None: this server takes none
        self.keys = vault.api_keys
        self.limits = limits
        self._rate = MovingWindow(parse(limits.rate))
        self._refusals = MovingWindow(parse(limits.refusals))
        # A local database answers a read in microseconds: cheaper on the event loop than
        # a hop to a worker thread. A server's round trips go to threads instead.
        self.inline = vault.db.dialect.name == "sqlite"

    def admit(self, key_id: str) -> None:
        """Count one request against the key's rate; RateLimited when over it."""
        self._hit(self._rate, self.limits.rate, key_id, f"API key {key_id} is")

    def admit_refusal(self, client: str, key_id: str) -> None:
        """Count one refused attempt on ``key_id`` from ``client`` (an address) in their
        own bucket; RateLimited when over it. Refusals are ledger writes, so they must be
        limited — but never out of the key's own rate: key ids are public, and whoever
        knows one could otherwise lock its real holder out with wrong secrets."""
        self._hit(
            self._refusals,
            self.limits.refusals,
            f"refused {client} {key_id}",
            f"refused attempts on {key_id} from this address are",
        )

    def over_refusals(self, client: str, key_id: str) -> None:
        """Raise RateLimited if ``client`` is over its refusals on ``key_id`` already,
        counting nothing: checked before costly work (a password hash), while only
        refusals count (:meth:`admit_refusal`), so those who get it right are never
        slowed down by it."""
        wait = self._refusals.wait(f"refused {client} {key_id}")
        if wait is not None:
            what = f"refused attempts on {key_id} from this address are"
            raise RateLimited(what, self.limits.refusals, max(1, math.ceil(wait)))

    @staticmethod
    def _hit(window: MovingWindow, limit: str, bucket: str, what: str) -> None:
        wait = window.hit(bucket)
        if wait is not None:
            raise RateLimited(what, limit, max(1, math.ceil(wait)))


@dataclass(frozen=True)
class Caller:
    """The authenticated key and the vault as it acts for this request."""

    key: ApiKey
    vault: Vault  # acting as the key, for this request's id
    inline: bool  # whether reads run on the event loop (Service.inline)
    events: EventStore | None = None

    async def run(self, work: Callable[..., Done], *args: Any) -> Done:
        """``work(*args)`` on the event loop on SQLite, else in a worker thread. A local
        write takes about a millisecond; in a thread it would trade the GIL with the
        loop at every query, and made a correction cost ~5 ms of CPU under load. But the
        loop serves everyone and must not wait for another writer: while one holds the
        database, the work goes to a thread too."""
        if self.inline and not writer_busy(self.vault.db):
            return work(*args)
        return await run_in_threadpool(work, *args)


# How a key may travel (published in the OpenAPI schema by api.app).
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "ntk_<id>_<secret>"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "customerSession": {
        "type": "http",
        "scheme": "bearer",
        "description": "ntkc_<token> from POST /v1/me/session/verify (the customer's own routes)",
    },
}


def _one_token(request: Request) -> str | None:
    """The key from ``Authorization: Bearer`` or ``X-API-Key``; any other Authorization
    scheme, both headers at once, or either header twice is malformed rather than
    silently passed over (whichever copy a proxy or a server read would decide)."""
    headers = request.headers
    if len(headers.getlist("x-api-key")) > 1 or len(headers.getlist("authorization")) > 1:
        raise AuthenticationError("malformed")
    header = headers.get("x-api-key")
    authorization = headers.get("authorization")
    if authorization is None:
        return header
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip() or header is not None:
        raise AuthenticationError("malformed")
    return credentials.strip()


class Authorised:
    """A dependency: the request's key, which must carry ``scope``, within its rate.
    The scope is also published in the OpenAPI schema (``x-required-scope``)."""

    def __init__(self, scope: str) -> None:
        self.scope = scope

    async def __call__(self, request: Request) -> Caller:
        """Runs on the event loop: the accepted path only reads (one indexed row, on the
        loop thread's own connection). Refusals, which write to the ledger, and rate
        checks go to a worker thread or stay cheap."""
        service: Service = request.app.state.service
        request_id: str = request.state.request_id
        token = _one_token(request)
        if service.inline:
            checked = service.keys.check(token)
        else:
            checked = await run_in_threadpool(service.keys.check, token)
        if isinstance(checked, Refusal):
            if checked.key is not None:
                # Each refusal of a known key is a ledger write: limited, or anyone who
                # knows a (public) key id could flood the ledger.
                client = request.client.host if request.client else "unknown"
                service.admit_refusal(client, checked.key.id)
            refusing = service.vault.acting("api:unauthenticated", request_id).api_keys
            await run_in_threadpool(refusing.refuse, checked)  # raises AuthenticationError
        request.state.key = checked
        service.admit(checked.id)
        vault = service.vault.acting(checked.actor, request_id)
        if not service.keys.permits(checked, self.scope):
            await run_in_threadpool(vault.api_keys.authorise, checked, self.scope)
        return Caller(checked, vault, service.inline, service.events)


CustomersRead = Annotated[Caller, Depends(Authorised("customers:read"))]
CustomersWrite = Annotated[Caller, Depends(Authorised("customers:write"))]
CustomersErase = Annotated[Caller, Depends(Authorised("customers:erase"))]
PolicyRead = Annotated[Caller, Depends(Authorised("policy:read"))]
LedgerRead = Annotated[Caller, Depends(Authorised("ledger:read"))]
AgreementsManage = Annotated[Caller, Depends(Authorised("agreements:manage"))]
DisclosuresRequest = Annotated[Caller, Depends(Authorised("disclosures:request"))]
DisclosuresDecide = Annotated[Caller, Depends(Authorised("disclosures:decide"))]
DisclosuresRelease = Annotated[Caller, Depends(Authorised("disclosures:release"))]
EventsWrite = Annotated[Caller, Depends(Authorised("events:write"))]
ReportsRun = Annotated[Caller, Depends(Authorised("reports:run"))]
ConsentsManage = Annotated[Caller, Depends(Authorised("consents:manage"))]
AccountsManage = Annotated[Caller, Depends(Authorised("accounts:manage"))]


@dataclass(frozen=True)
class Me:
    """A customer signed in with a one-time code: the vault acts as them."""

    customer_id: str
    vault: Vault  # acting as ``customer:<id>``, for this request's id
    desk: RightsRequests
    token: str


async def signed_in(request: Request) -> Me:
    """A dependency: the customer whose session token the request carries (in
    ``Authorization: Bearer``); API keys are not accepted here, nor tokens there."""
    service: Service = request.app.state.service
    token = _one_token(request)
    if token is None:
        raise AuthenticationError("missing", "session token")
    customer = await run_in_threadpool(service.sessions.customer, token)
    vault = service.vault.acting(f"customer:{customer}", request.state.request_id)
    return Me(customer, vault, RightsRequests(vault, service.messenger), token)


SignedIn = Annotated[Me, Depends(signed_in)]
