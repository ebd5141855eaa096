"""The clients for asyncio code: the same calls, each awaited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

import httpx

from needtoknow.client.calls import Call, Calls, P, T
from needtoknow.client.customer import CustomerCalls


class Awaiting:
    """Sending over an ``httpx.AsyncClient``: each call is a coroutine."""

    _http: httpx.AsyncClient

    async def _send(
        self, describe: Callable[P, Call[T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Describing inside the coroutine means a refused argument (an id that would
        change the path) raises when awaited, as from any ``async def`` method."""
        call = describe(*args, **kwargs)
        return call.answer(await self._http.send(call.request(self._http)))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()


class AsyncVaultClient(Awaiting, Calls[httpx.AsyncClient]):
    """The same calls for asyncio code: ``await client.get_customer(...)``."""

    _connect = httpx.AsyncClient


class AsyncCustomerClient(Awaiting, CustomerCalls[httpx.AsyncClient]):
    """The customer's own API for asyncio code."""

    _connect = httpx.AsyncClient

    async def sign_in(self, session_id: str, code: str) -> dict[str, Any]:
        token = await self.verify_session(session_id, code)
        self.use_token(token["token"])
        return token
