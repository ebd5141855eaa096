"""Every call the service offers, described once; the clients only send them.

A description is sans-IO, like httpx's own ``build_request`` before ``send``: it checks
the arguments and says what to send and how to read the answer, but sends nothing. So one
description serves both :class:`~needtoknow.client.VaultClient` (``httpx.Client``) and
:class:`~needtoknow.client.AsyncVaultClient` (``httpx.AsyncClient``), and a new call, or
a change to one, is made in one place.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, ParamSpec, Protocol, TypeVar, overload

import httpx

from needtoknow import errors
from needtoknow.client import answers
from needtoknow.client.problems import raise_for
from needtoknow.ledger.heads import TreeHead
from needtoknow.records.disclosures import Package
from needtoknow.types import Disclosure
from needtoknow.vault.vault import Erasure, WriteResult

P = ParamSpec("P")
T = TypeVar("T")
Http = TypeVar("Http", httpx.Client, httpx.AsyncClient)


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request to the service and how its answer is read."""

    method: str
    path: str
    read: Callable[[httpx.Response], T]
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None

    def request(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        """Built by the sending client so that its base URL, key and timeout apply."""
        return http.build_request(self.method, self.path, params=self.params, json=self.body)

    def answer(self, response: httpx.Response) -> T:
        """A problem response raises the library's error before any reading is tried."""
        raise_for(response)
        return self.read(response)


class _Blocking(Protocol):
    def _send(self, describe: Callable[P, Call[T]], /, *args: P.args, **kwargs: P.kwargs) -> T: ...


class _Awaiting(Protocol):
    def _send(
        self, describe: Callable[P, Call[T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> Coroutine[Any, Any, T]: ...


class Endpoint(Generic[P, T]):
    """A description as a method of both clients, with the description's parameters.

    Looked up on a client whose ``_send`` answers at once, it is a method returning the
    answer; on one whose ``_send`` is a coroutine, a method returning that coroutine —
    what an ``async def`` method is. So each call's signature is written once, and mypy
    still sees the exact parameters and return type on each client.
    """

    def __init__(self, describe: Callable[P, Call[T]]) -> None:
        self._describe = describe

    @overload
    def __get__(self, client: None, owner: type[object]) -> Endpoint[P, T]: ...

    @overload
    def __get__(self, client: _Blocking, owner: type[object]) -> Callable[P, T]: ...

    @overload
    def __get__(
        self, client: _Awaiting, owner: type[object]
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...

    def __get__(
        self, client: _Blocking | _Awaiting | None, owner: type[object]
    ) -> Endpoint[P, T] | Callable[P, T | Coroutine[Any, Any, T]]:
        if client is None:  # looked up on the class: help(), mock.patch.object
            return self
        describe = self._describe

        @functools.wraps(describe)  # help() and inspect.signature show the call's own
        def send(*args: P.args, **kwargs: P.kwargs) -> T | Coroutine[Any, Any, T]:
            return client._send(describe, *args, **kwargs)

        return send


class Calls(Generic[Http]):
    """The service's calls and the connection they are sent over, the base of both
    clients, which say only which httpx client to connect with and how to send.

    Each function here takes the call's arguments and no ``self``: ``@Endpoint`` makes it
    a method of the client it is looked up on.
    """

    _connect: type[Http]

    def __init__(
        self, base_url: str, api_key: str, timeout: float = 10.0, **httpx_options: Any
    ) -> None:
        self._http: Http = self._connect(
            base_url=base_url, headers={"X-API-Key": api_key}, timeout=timeout, **httpx_options
        )

    @Endpoint
    def create_customer(fields: dict[str, Any]) -> Call[WriteResult]:
        return Call("POST", "/v1/customers", answers.written, body={"fields": fields})

    @Endpoint
    def get_customer(
        customer_id: str,
        *,
        purpose: str,
        categories: Iterable[str] | None = None,
        legal_reference: str | None = None,
        case_id: str | None = None,
    ) -> Call[Disclosure]:
        params: dict[str, Any] = {"purpose": purpose}
        if categories is not None:
            params["categories"] = list(categories)
        if legal_reference is not None:
            params["legal_reference"] = legal_reference
        if case_id is not None:
            params["case_id"] = case_id
        path = f"/v1/customers/{_segment(customer_id)}"
        return Call("GET", path, answers.disclosed, params)

    @Endpoint
    def find(category: str, value: Any, *, purpose: str) -> Call[list[str]]:
        body = {"category": category, "value": value, "purpose": purpose}
        return Call("POST", "/v1/customers/lookup", answers.customer_ids, body=body)

    @Endpoint
    def correct(customer_id: str, fields: dict[str, Any]) -> Call[WriteResult]:
        path = f"/v1/customers/{_segment(customer_id)}"
        return Call("PATCH", path, answers.written, body={"fields": fields})

    @Endpoint
    def erase(customer_id: str) -> Call[Erasure]:
        path = f"/v1/customers/{_segment(customer_id)}"
        return Call("DELETE", path, answers.erased)

    @Endpoint
    def policy() -> Call[dict[str, Any]]:
        return Call("GET", "/v1/policy", answers.as_json)

    @Endpoint
    def decide(purpose: str, categories: Iterable[str] | None = None) -> Call[dict[str, Any]]:
        body = {"purpose": purpose, "categories": None if categories is None else list(categories)}
        return Call("POST", "/v1/policy/decide", answers.as_json, body=body)

    @Endpoint
    def sth() -> Call[TreeHead]:
        return Call("GET", "/v1/ledger/sth", answers.head)

    @Endpoint
    def history(customer_id: str) -> Call[dict[str, Any]]:
        return Call("GET", f"/v1/ledger/customers/{_segment(customer_id)}", answers.as_json)

    @Endpoint
    def consistency(first: int, second: int) -> Call[dict[str, Any]]:
        params = {"first": first, "second": second}
        return Call("GET", "/v1/ledger/consistency", answers.as_json, params)

    @Endpoint
    def agreements() -> Call[list[dict[str, Any]]]:
        return Call("GET", "/v1/agreements", answers.as_json)

    @Endpoint
    def create_agreement(**fields: Any) -> Call[dict[str, Any]]:
        """id, recipient, purposes, expires (a date), starts, reference, customer_scoped."""
        return Call("POST", "/v1/agreements", answers.as_json, body=_jsonable(fields))

    @Endpoint
    def amend_agreement(agreement_id: str, **changes: Any) -> Call[dict[str, Any]]:
        path = f"/v1/agreements/{_segment(agreement_id)}"
        return Call("PATCH", path, answers.as_json, body=_jsonable(changes))

    @Endpoint
    def revoke_agreement(agreement_id: str, reason: str) -> Call[dict[str, Any]]:
        path = f"/v1/agreements/{_segment(agreement_id)}/revoke"
        return Call("POST", path, answers.as_json, body={"reason": reason})

    @Endpoint
    def assign(agreement_id: str, customer_ids: Iterable[str]) -> Call[int]:
        return _membership(agreement_id, "customers", customer_ids)

    @Endpoint
    def unassign(agreement_id: str, customer_ids: Iterable[str]) -> Call[int]:
        return _membership(agreement_id, "customers/remove", customer_ids)

    @Endpoint
    def request_disclosure(**fields: Any) -> Call[dict[str, Any]]:
        """authority, purpose, legal_basis, reference, customer_ids, categories,
        case_owner; optionally period_from, period_to, non_disclosure_until (dates)."""
        return Call("POST", "/v1/disclosures", answers.as_json, body=_jsonable(fields))

    @Endpoint
    def disclosures() -> Call[list[dict[str, Any]]]:
        return Call("GET", "/v1/disclosures", answers.as_json)

    @Endpoint
    def approve(request_id: str) -> Call[dict[str, Any]]:
        return _review(request_id, "approve", None)

    @Endpoint
    def reject(request_id: str, reason: str) -> Call[dict[str, Any]]:
        return _review(request_id, "reject", {"reason": reason})

    @Endpoint
    def release(request_id: str, public_key: bytes | None = None) -> Call[Package]:
        path = f"/v1/disclosures/{_segment(request_id)}/release"
        body = {"public_key": None if public_key is None else public_key.hex()}
        return Call("POST", path, answers.released, body=body)

    @Endpoint
    def account(customer_id: str) -> Call[dict[str, Any]]:
        """Open or closed, services, held categories (staff scope ``accounts:manage``)."""
        return Call("GET", f"/v1/customers/{_segment(customer_id)}/account", answers.as_json)

    @Endpoint
    def close_account(customer_id: str, reason: str = "customer_request") -> Call[dict[str, Any]]:
        path = f"/v1/customers/{_segment(customer_id)}/account/close"
        return Call("POST", path, answers.as_json, body={"reason": reason})

    @Endpoint
    def reopen_account(customer_id: str) -> Call[dict[str, Any]]:
        path = f"/v1/customers/{_segment(customer_id)}/account/reopen"
        return Call("POST", path, answers.as_json)

    @Endpoint
    def set_services(customer_id: str, services: Iterable[str]) -> Call[dict[str, Any]]:
        path = f"/v1/customers/{_segment(customer_id)}/account/services"
        return Call("PUT", path, answers.as_json, body={"services": list(services)})

    @Endpoint
    def place_hold(
        customer_id: str,
        categories: Iterable[str],
        basis: str,
        until: date,
        readable_for: Iterable[str] = ("legal_process",),
    ) -> Call[dict[str, Any]]:
        body = {
            "customer_id": customer_id,
            "categories": list(categories),
            "basis": basis,
            "until": until.isoformat(),
            "readable_for": list(readable_for),
        }
        return Call("POST", "/v1/holds", answers.as_json, body=body)

    @Endpoint
    def release_hold(hold_id: str) -> Call[dict[str, Any]]:
        return Call("POST", f"/v1/holds/{_segment(hold_id)}/release", answers.as_json)

    @Endpoint
    def holds(customer_id: str | None = None, active: bool = False) -> Call[list[dict[str, Any]]]:
        params: dict[str, Any] = {"active": active}
        if customer_id is not None:
            params["customer_id"] = customer_id
        return Call("GET", "/v1/holds", answers.listed("holds"), params)

    @Endpoint
    def consents(customer_id: str) -> Call[list[dict[str, Any]]]:
        """Every consent of the customer, standing and withdrawn (``consents:manage``)."""
        path = f"/v1/customers/{_segment(customer_id)}/consents"
        return Call("GET", path, answers.listed("consents"))

    @Endpoint
    def record_consent(
        customer_id: str,
        purpose: str,
        evidence: str,
        channel: str = "api",
        notice_version: str | None = None,
    ) -> Call[dict[str, Any]]:
        """The customer's consent to ``purpose``, given on ``channel``; ``evidence``
        (where it is recorded) is kept as SHA-256 only."""
        body = {
            "purpose": purpose,
            "evidence": evidence,
            "channel": channel,
            "notice_version": notice_version,
        }
        path = f"/v1/customers/{_segment(customer_id)}/consents"
        return Call("POST", path, answers.as_json, body=body)

    @Endpoint
    def withdraw_consents(
        customer_id: str, purpose: str, channel: str = "api"
    ) -> Call[list[dict[str, Any]]]:
        """Withdraw the customer's consent to ``purpose`` now (never refused)."""
        path = f"/v1/customers/{_segment(customer_id)}/consents/{_segment(purpose)}/withdraw"
        return Call("POST", path, answers.listed("consents"), body={"channel": channel})

    @Endpoint
    def explain(purpose: str) -> Call[dict[str, Any]]:
        """The rules behind what the key's recipient may receive for ``purpose``."""
        return Call("GET", "/v1/policy/explain", answers.as_json, {"purpose": purpose})

    @Endpoint
    def disclosure(request_id: str) -> Call[dict[str, Any]]:
        return Call("GET", f"/v1/disclosures/{_segment(request_id)}", answers.as_json)

    @Endpoint
    def send_events(events: Iterable[dict[str, Any]]) -> Call[dict[str, Any]]:
        """Usage events (``events:write``): how many were accepted and rejected (by rule),
        and which PII was scrubbed out of free text."""
        return Call("POST", "/v1/events", answers.as_json, body={"events": list(events)})

    @Endpoint
    def run_report(spec: dict[str, Any], purpose: str = "advertising") -> Call[dict[str, Any]]:
        """A differentially private report to the key's recipient, charged to its budget
        first (``BudgetExceeded`` when it does not fit)."""
        body = {"spec": spec, "purpose": purpose}
        return Call("POST", "/v1/reports", answers.as_json, body=body)


def _membership(agreement_id: str, action: str, customer_ids: Iterable[str]) -> Call[int]:
    """Assigning and unassigning differ only in the path."""
    path = f"/v1/agreements/{_segment(agreement_id)}/{action}"
    return Call("POST", path, answers.count, body={"customer_ids": list(customer_ids)})


def _review(request_id: str, action: str, body: dict[str, str] | None) -> Call[dict[str, Any]]:
    """Approving and rejecting differ only in the path and the reason a rejection gives."""
    path = f"/v1/disclosures/{_segment(request_id)}/{action}"
    return Call("POST", path, answers.as_json, body=body)


def _segment(value: str) -> str:
    """A path segment: ids are opaque, so anything that would change the path is refused
    here rather than sent."""
    if not value or any(c in value for c in "/?#%") or value in (".", ".."):
        raise errors.ValidationError("customer_id", "customer", "format")
    return value


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    """Dates as ISO strings; None left out (the service's defaults apply)."""
    return {
        k: v.isoformat() if isinstance(v, date) else sorted(v) if isinstance(v, frozenset) else v
        for k, v in fields.items()
        if v is not None
    }
