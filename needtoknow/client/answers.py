"""How each answer of the service is read from its response — as the library's own
types (:class:`~needtoknow.types.Disclosure`, :class:`~needtoknow.vault.WriteResult`…),
so code written against the vault works unchanged against the client.

Readers are plain functions of the response so that a call's description can name one
without caring whether the response came from a sync or an async client.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import httpx

from needtoknow.ledger.heads import TreeHead
from needtoknow.records.disclosures import Package
from needtoknow.types import Disclosure
from needtoknow.vault.vault import Erasure, WriteResult


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


def disclosed(response: httpx.Response) -> Disclosure:
    return Disclosure.from_json(response.json(), response.headers.get("x-request-id"))


def written(response: httpx.Response) -> WriteResult:
    return WriteResult.from_json(response.json())


def erased(response: httpx.Response) -> Erasure:
    return Erasure.from_json(response.json())


def released(response: httpx.Response) -> Package:
    data = response.json()
    return Package(base64.b64decode(data["payload"]), data["manifest"])
