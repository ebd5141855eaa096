"""The client for asyncio code: the same calls, each awaited."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from needtoknow.client.calls import Call, Calls, P, T


class AsyncVaultClient(Calls[httpx.AsyncClient]):
    """The same calls for asyncio code: ``await client.get_customer(...)``."""

    _connect = httpx.AsyncClient

    async def _send(
        self, describe: Callable[P, Call[T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Describing inside the coroutine means a refused argument (an id that would
        change the path) raises when awaited, as from any ``async def`` method."""
        call = describe(*args, **kwargs)
        return call.answer(await self._http.send(call.request(self._http)))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncVaultClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()
