"""A Python client for the HTTP service, sync (:class:`VaultClient`) and async
(:class:`AsyncVaultClient`), raising the library's own errors.

Each call is described once, as an :class:`_Call` (method, path, parameters, body and
how to read the answer); the two clients differ only in how they send it. A problem
response becomes the library error its ``type`` names — ``PolicyDenied`` with the
recipient, purpose and reasons, ``NotFound``, ``ValidationError``… — and anything the
library has no error for (429, 413, 5xx) a :class:`ServiceError` carrying status and type.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, Generic, TypeVar

import httpx

from needtoknow import errors
from needtoknow.ledger.heads import TreeHead

T = TypeVar("T")
TYPE_BASE = "urn:needtoknow:problem:"


class ServiceError(errors.NeedToKnowError):
    """A refusal with no library counterpart: rate limited, too large, server error."""

    def __init__(self, status: int, type_: str, detail: str, request_id: str | None) -> None:
        self.status = status
        self.type = type_
        self.request_id = request_id
        super().__init__(f"{status} {type_}: {detail}")


@dataclass(frozen=True)
class Written:
    customer_id: str
    categories: list[str]
    notices: list[str]
    policy_version: str | None = None  # None from a service older than the field


@dataclass(frozen=True)
class Erased:
    customer_id: str
    # The deleted bytes are gone from the service's database files (see Vault.erase);
    # None from a service older than the field.
    scrubbed: bool | None


@dataclass(frozen=True)
class Disclosed:
    """What the key's recipient received, and under which policy version."""

    customer_id: str
    values: dict[str, Any]
    purpose: str
    policy_version: str
    denied: dict[str, str]
    obligations: list[str]
    request_id: str


@dataclass(frozen=True)
class Released:
    """A disclosure package: its bytes (HPKE-sealed if a key was given) and manifest."""

    payload: bytes
    manifest: dict[str, Any]


@dataclass(frozen=True)
class _Call(Generic[T]):
    method: str
    path: str
    read: Callable[[httpx.Response], T]
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None


def _json(response: httpx.Response) -> Any:
    return response.json()


def _disclosed(response: httpx.Response) -> Disclosed:
    data = response.json()
    return Disclosed(
        customer_id=data["customer_id"],
        values=data["values"],
        purpose=data["purpose"],
        policy_version=data["policy_version"],
        denied=data["denied"],
        obligations=data["obligations"],
        request_id=response.headers["x-request-id"],
    )


def _written(response: httpx.Response) -> Written:
    body = response.json()  # fields a newer service adds are left out, not an error
    return Written(**{f.name: body[f.name] for f in fields(Written) if f.name in body})


def _head(response: httpx.Response) -> TreeHead:
    return TreeHead.from_json(response.json())


def _erased(customer_id: str) -> Callable[[httpx.Response], Erased]:
    def parse(response: httpx.Response) -> Erased:
        body = response.json() if response.content else {}
        return Erased(customer_id, body.get("scrubbed"))

    return parse


def _nothing(_: httpx.Response) -> None:
    return None


def _count(response: httpx.Response) -> int:
    return int(response.json()["count"])


def _released(response: httpx.Response) -> Released:
    data = response.json()
    return Released(base64.b64decode(data["payload"]), data["manifest"])


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    """Dates as ISO strings; None left out (the service's defaults apply)."""
    return {
        k: v.isoformat() if isinstance(v, date) else sorted(v) if isinstance(v, frozenset) else v
        for k, v in fields.items()
        if v is not None
    }


class _Calls:
    """Every call the service offers, described once."""

    @staticmethod
    def create_customer(fields: dict[str, Any]) -> _Call[Written]:
        return _Call("POST", "/v1/customers", _written, body={"fields": fields})

    @staticmethod
    def get_customer(
        customer_id: str,
        purpose: str,
        categories: Iterable[str] | None,
        legal_reference: str | None,
        case_id: str | None,
    ) -> _Call[Disclosed]:
        params: dict[str, Any] = {"purpose": purpose}
        if categories is not None:
            params["categories"] = list(categories)
        if legal_reference is not None:
            params["legal_reference"] = legal_reference
        if case_id is not None:
            params["case_id"] = case_id
        return _Call("GET", f"/v1/customers/{_segment(customer_id)}", _disclosed, params)

    @staticmethod
    def find(category: str, value: Any, purpose: str) -> _Call[list[str]]:
        body = {"category": category, "value": value, "purpose": purpose}
        return _Call(
            "POST", "/v1/customers/lookup", lambda r: list(r.json()["customer_ids"]), body=body
        )

    @staticmethod
    def correct(customer_id: str, fields: dict[str, Any]) -> _Call[Written]:
        path = f"/v1/customers/{_segment(customer_id)}"
        return _Call("PATCH", path, _written, body={"fields": fields})

    @staticmethod
    def erase(customer_id: str) -> _Call[Erased]:
        path = f"/v1/customers/{_segment(customer_id)}"
        return _Call("DELETE", path, _erased(customer_id))

    @staticmethod
    def policy() -> _Call[dict[str, Any]]:
        return _Call("GET", "/v1/policy", _json)

    @staticmethod
    def decide(purpose: str, categories: Iterable[str] | None) -> _Call[dict[str, Any]]:
        body = {"purpose": purpose, "categories": None if categories is None else list(categories)}
        return _Call("POST", "/v1/policy/decide", _json, body=body)

    @staticmethod
    def sth() -> _Call[TreeHead]:
        return _Call("GET", "/v1/ledger/sth", _head)

    @staticmethod
    def history(customer_id: str) -> _Call[dict[str, Any]]:
        return _Call("GET", f"/v1/ledger/customers/{_segment(customer_id)}", _json)

    @staticmethod
    def consistency(first: int, second: int) -> _Call[dict[str, Any]]:
        params = {"first": first, "second": second}
        return _Call("GET", "/v1/ledger/consistency", _json, params)

    @staticmethod
    def agreements() -> _Call[list[dict[str, Any]]]:
        return _Call("GET", "/v1/agreements", _json)

    @staticmethod
    def create_agreement(fields: dict[str, Any]) -> _Call[dict[str, Any]]:
        return _Call("POST", "/v1/agreements", _json, body=_jsonable(fields))

    @staticmethod
    def amend_agreement(agreement_id: str, changes: dict[str, Any]) -> _Call[dict[str, Any]]:
        path = f"/v1/agreements/{_segment(agreement_id)}"
        return _Call("PATCH", path, _json, body=_jsonable(changes))

    @staticmethod
    def revoke_agreement(agreement_id: str, reason: str) -> _Call[None]:
        path = f"/v1/agreements/{_segment(agreement_id)}/revoke"
        return _Call("POST", path, _nothing, body={"reason": reason})

    @staticmethod
    def assign(agreement_id: str, customer_ids: Iterable[str], remove: bool) -> _Call[int]:
        path = f"/v1/agreements/{_segment(agreement_id)}/customers" + ("/remove" if remove else "")
        return _Call("POST", path, _count, body={"customer_ids": list(customer_ids)})

    @staticmethod
    def request_disclosure(fields: dict[str, Any]) -> _Call[dict[str, Any]]:
        return _Call("POST", "/v1/disclosures", _json, body=_jsonable(fields))

    @staticmethod
    def disclosures() -> _Call[list[dict[str, Any]]]:
        return _Call("GET", "/v1/disclosures", _json)

    @staticmethod
    def decide_disclosure(request_id: str, reason: str | None) -> _Call[dict[str, Any]]:
        action = "approve" if reason is None else "reject"
        path = f"/v1/disclosures/{_segment(request_id)}/{action}"
        return _Call("POST", path, _json, body=None if reason is None else {"reason": reason})

    @staticmethod
    def release(request_id: str, public_key: bytes | None) -> _Call[Released]:
        path = f"/v1/disclosures/{_segment(request_id)}/release"
        body = {"public_key": None if public_key is None else public_key.hex()}
        return _Call("POST", path, _released, body=body)


def _segment(value: str) -> str:
    """A path segment: ids are opaque, so anything that would change the path is refused
    here rather than sent."""
    if not value or any(c in value for c in "/?#%") or value in (".", ".."):
        raise errors.ValidationError("customer_id", "customer", "format")
    return value


def raise_for(response: httpx.Response) -> None:
    """Raise the library error (or ServiceError) a problem response stands for."""
    if response.is_success:
        return
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if not isinstance(problem, dict):
        problem = {}
    kind = str(problem.get("type", "")).removeprefix(TYPE_BASE)
    detail = str(problem.get("detail", response.reason_phrase))
    if kind == "policy-denied":
        raise errors.PolicyDenied(problem["recipient"], problem["purpose"], problem["reasons"])
    if kind == "validation" and problem.get("rule") == "not_collected":
        raise errors.NotCollected(
            problem["categories"], problem.get("policy", ""), problem.get("consent_needed")
        )
    if kind == "validation":
        listed = problem.get("errors") or [{}]
        location = ".".join(str(p) for p in listed[0].get("loc", []))
        raise errors.ValidationError(
            problem.get("field") or location or "request",
            problem.get("category", "request"),
            problem.get("rule", "schema"),
        )
    if kind == "unauthenticated":
        raise errors.AuthenticationError(problem.get("reason", "unknown"))
    if kind == "scope-denied":
        raise errors.ScopeDenied(_key_id(response), problem.get("scope", ""))
    if kind == "integrity":
        raise errors.IntegrityError()
    if kind == "policy":
        raise errors.PolicyError("service", None, detail)
    simple: dict[str, type[errors.NeedToKnowError]] = {
        "not-found": errors.NotFound,
        "unknown-category": errors.CategoryError,
        "key-provider": errors.KeyProviderError,
        "unavailable": errors.Unavailable,
        "conflict": errors.NeedToKnowError,
    }
    if kind in simple:
        raise simple[kind](detail)
    raise ServiceError(response.status_code, kind or "http", detail, problem.get("request_id"))


def _key_id(response: httpx.Response) -> str:
    token = str(response.request.headers.get("x-api-key", ""))
    return token.removeprefix("ntk_").split("_", 1)[0]


def _request(client: httpx.Client | httpx.AsyncClient, call: _Call[Any]) -> httpx.Request:
    return client.build_request(call.method, call.path, params=call.params, json=call.body)


class VaultClient:
    """The service over HTTP, synchronously. Use as a context manager, or ``close()``."""

    def __init__(
        self, base_url: str, api_key: str, timeout: float = 10.0, **httpx_options: Any
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url, headers={"X-API-Key": api_key}, timeout=timeout, **httpx_options
        )

    def _run(self, call: _Call[T]) -> T:
        response = self._http.send(_request(self._http, call))
        raise_for(response)
        return call.read(response)

    def create_customer(self, fields: dict[str, Any]) -> Written:
        return self._run(_Calls.create_customer(fields))

    def get_customer(
        self,
        customer_id: str,
        *,
        purpose: str,
        categories: Iterable[str] | None = None,
        legal_reference: str | None = None,
        case_id: str | None = None,
    ) -> Disclosed:
        call = _Calls.get_customer(customer_id, purpose, categories, legal_reference, case_id)
        return self._run(call)

    def find(self, category: str, value: Any, *, purpose: str) -> list[str]:
        return self._run(_Calls.find(category, value, purpose))

    def correct(self, customer_id: str, fields: dict[str, Any]) -> Written:
        return self._run(_Calls.correct(customer_id, fields))

    def erase(self, customer_id: str) -> Erased:
        return self._run(_Calls.erase(customer_id))

    def policy(self) -> dict[str, Any]:
        return self._run(_Calls.policy())

    def decide(self, purpose: str, categories: Iterable[str] | None = None) -> dict[str, Any]:
        return self._run(_Calls.decide(purpose, categories))

    def sth(self) -> TreeHead:
        return self._run(_Calls.sth())

    def history(self, customer_id: str) -> dict[str, Any]:
        return self._run(_Calls.history(customer_id))

    def consistency(self, first: int, second: int) -> dict[str, Any]:
        return self._run(_Calls.consistency(first, second))

    def agreements(self) -> list[dict[str, Any]]:
        return self._run(_Calls.agreements())

    def create_agreement(self, **fields: Any) -> dict[str, Any]:
        """id, recipient, purposes, expires (a date), starts, reference, customer_scoped."""
        return self._run(_Calls.create_agreement(fields))

    def amend_agreement(self, agreement_id: str, **changes: Any) -> dict[str, Any]:
        return self._run(_Calls.amend_agreement(agreement_id, changes))

    def revoke_agreement(self, agreement_id: str, reason: str) -> None:
        self._run(_Calls.revoke_agreement(agreement_id, reason))

    def assign(self, agreement_id: str, customer_ids: Iterable[str]) -> int:
        return self._run(_Calls.assign(agreement_id, customer_ids, remove=False))

    def unassign(self, agreement_id: str, customer_ids: Iterable[str]) -> int:
        return self._run(_Calls.assign(agreement_id, customer_ids, remove=True))

    def request_disclosure(self, **fields: Any) -> dict[str, Any]:
        """authority, purpose, legal_basis, reference, customer_ids, categories,
        case_owner; optionally period_from, period_to, non_disclosure_until (dates)."""
        return self._run(_Calls.request_disclosure(fields))

    def disclosures(self) -> list[dict[str, Any]]:
        return self._run(_Calls.disclosures())

    def approve(self, request_id: str) -> dict[str, Any]:
        return self._run(_Calls.decide_disclosure(request_id, None))

    def reject(self, request_id: str, reason: str) -> dict[str, Any]:
        return self._run(_Calls.decide_disclosure(request_id, reason))

    def release(self, request_id: str, public_key: bytes | None = None) -> Released:
        return self._run(_Calls.release(request_id, public_key))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> VaultClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class AsyncVaultClient:
    """The same calls for asyncio code: ``await client.get_customer(...)``."""

    def __init__(
        self, base_url: str, api_key: str, timeout: float = 10.0, **httpx_options: Any
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url, headers={"X-API-Key": api_key}, timeout=timeout, **httpx_options
        )

    async def _run(self, call: _Call[T]) -> T:
        response = await self._http.send(_request(self._http, call))
        raise_for(response)
        return call.read(response)

    async def create_customer(self, fields: dict[str, Any]) -> Written:
        return await self._run(_Calls.create_customer(fields))

    async def get_customer(
        self,
        customer_id: str,
        *,
        purpose: str,
        categories: Iterable[str] | None = None,
        legal_reference: str | None = None,
        case_id: str | None = None,
    ) -> Disclosed:
        call = _Calls.get_customer(customer_id, purpose, categories, legal_reference, case_id)
        return await self._run(call)

    async def find(self, category: str, value: Any, *, purpose: str) -> list[str]:
        return await self._run(_Calls.find(category, value, purpose))

    async def correct(self, customer_id: str, fields: dict[str, Any]) -> Written:
        return await self._run(_Calls.correct(customer_id, fields))

    async def erase(self, customer_id: str) -> Erased:
        return await self._run(_Calls.erase(customer_id))

    async def policy(self) -> dict[str, Any]:
        return await self._run(_Calls.policy())

    async def decide(self, purpose: str, categories: Iterable[str] | None = None) -> dict[str, Any]:
        return await self._run(_Calls.decide(purpose, categories))

    async def sth(self) -> TreeHead:
        return await self._run(_Calls.sth())

    async def history(self, customer_id: str) -> dict[str, Any]:
        return await self._run(_Calls.history(customer_id))

    async def consistency(self, first: int, second: int) -> dict[str, Any]:
        return await self._run(_Calls.consistency(first, second))

    async def agreements(self) -> list[dict[str, Any]]:
        return await self._run(_Calls.agreements())

    async def create_agreement(self, **fields: Any) -> dict[str, Any]:
        """id, recipient, purposes, expires (a date), starts, reference, customer_scoped."""
        return await self._run(_Calls.create_agreement(fields))

    async def amend_agreement(self, agreement_id: str, **changes: Any) -> dict[str, Any]:
        return await self._run(_Calls.amend_agreement(agreement_id, changes))

    async def revoke_agreement(self, agreement_id: str, reason: str) -> None:
        await self._run(_Calls.revoke_agreement(agreement_id, reason))

    async def assign(self, agreement_id: str, customer_ids: Iterable[str]) -> int:
        return await self._run(_Calls.assign(agreement_id, customer_ids, remove=False))

    async def unassign(self, agreement_id: str, customer_ids: Iterable[str]) -> int:
        return await self._run(_Calls.assign(agreement_id, customer_ids, remove=True))

    async def request_disclosure(self, **fields: Any) -> dict[str, Any]:
        """authority, purpose, legal_basis, reference, customer_ids, categories,
        case_owner; optionally period_from, period_to, non_disclosure_until (dates)."""
        return await self._run(_Calls.request_disclosure(fields))

    async def disclosures(self) -> list[dict[str, Any]]:
        return await self._run(_Calls.disclosures())

    async def approve(self, request_id: str) -> dict[str, Any]:
        return await self._run(_Calls.decide_disclosure(request_id, None))

    async def reject(self, request_id: str, reason: str) -> dict[str, Any]:
        return await self._run(_Calls.decide_disclosure(request_id, reason))

    async def release(self, request_id: str, public_key: bytes | None = None) -> Released:
        return await self._run(_Calls.release(request_id, public_key))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncVaultClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()
