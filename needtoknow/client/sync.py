"""The clients for code that waits on each call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

import httpx

from needtoknow.client.calls import Call, Calls, P, T
from needtoknow.client.customer import CustomerCalls


class Blocking:
    """Sending over an ``httpx.Client``: each call answers at once."""

    _http: httpx.Client

    def _send(self, describe: Callable[P, Call[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
        call = describe(*args, **kwargs)
        return call.answer(self._http.send(call.request(self._http)))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class VaultClient(Blocking, Calls[httpx.Client]):
    """The service over HTTP, synchronously. Use as a context manager, or ``close()``."""

    _connect = httpx.Client


class CustomerClient(Blocking, CustomerCalls[httpx.Client]):
    """The customer's own API, synchronously: ``start_session``, then ``sign_in`` with
    the code received; the token is then sent with every call."""

    _connect = httpx.Client

    def sign_in(self, session_id: str, code: str) -> dict[str, Any]:
        token = self.verify_session(session_id, code)
        self.use_token(token["token"])
        return token
