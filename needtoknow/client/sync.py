"""The client for code that waits on each call."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from needtoknow.client.calls import Call, Calls, P, T


class VaultClient(Calls[httpx.Client]):
    """The service over HTTP, synchronously. Use as a context manager, or ``close()``."""

    _connect = httpx.Client

    def _send(self, describe: Callable[P, Call[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
        call = describe(*args, **kwargs)
        return call.answer(self._http.send(call.request(self._http)))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> VaultClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
