"""The library's types for the service's answers, and how each is read from a response.

Readers are plain functions of the response so that a call's description can name one
without caring whether the response came from a sync or an async client.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import httpx

from needtoknow.ledger.heads import TreeHead


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


def as_json(response: httpx.Response) -> Any:
    return response.json()


def listed(key: str) -> Callable[[httpx.Response], list[dict[str, Any]]]:
    """A list the API wraps in an object (``{"holds": […]}``), unwrapped."""

    def read(response: httpx.Response) -> list[dict[str, Any]]:
        return list(response.json()[key])

    return read


def nothing(_: httpx.Response) -> None:
    return None


def count(response: httpx.Response) -> int:
    return int(response.json()["count"])


def customer_ids(response: httpx.Response) -> list[str]:
    return list(response.json()["customer_ids"])


def head(response: httpx.Response) -> TreeHead:
    return TreeHead.from_json(response.json())


def disclosed(response: httpx.Response) -> Disclosed:
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


def written(response: httpx.Response) -> Written:
    body = response.json()  # fields a newer service adds are left out, not an error
    return Written(**{f.name: body[f.name] for f in fields(Written) if f.name in body})


def erased(customer_id: str) -> Callable[[httpx.Response], Erased]:
    """The id comes from the request: an older service answers 204 with no body."""

    def read(response: httpx.Response) -> Erased:
        body = response.json() if response.content else {}
        return Erased(customer_id, body.get("scrubbed"))

    return read


def released(response: httpx.Response) -> Released:
    data = response.json()
    return Released(base64.b64decode(data["payload"]), data["manifest"])
