"""Group read: the rows one turn of an event loop asks for, fetched by one statement.

A customer's row is a primary-key SELECT that takes SQLite ~6 µs while its code and pages
are hot in the CPU's caches. On a server each read follows a request's worth of other
Python work, which evicts them, and the same SELECT took ~25 µs (docs/benchmarks.md,
session 22). Here the requests a loop serves in one turn queue their keys; the first
schedules one callback after theirs, which fetches every key in one statement and wakes
them all. The same idea as the group commit (storage.groupcommit), on the read side,
for callers on an event loop over a local database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from needtoknow.errors import Unavailable

Key = TypeVar("Key")
Value = TypeVar("Value")


class GroupRead(Generic[Key, Value]):
    """``get`` answers from one call of ``fetch_many`` per loop turn, which returns the
    values of the keys it found (a missing key: None). ``fetch_many`` should return what
    is wrong with one key's value as that value, not raise it: whatever it raises fails
    every read of the turn."""

    def __init__(self, fetch_many: Callable[[list[Key]], Mapping[Key, Value]]) -> None:
        self._fetch_many = fetch_many
        # Each loop's own thread alone touches its turn.
        self._turns: dict[asyncio.AbstractEventLoop, dict[Key, list[asyncio.Future[Value | None]]]]
        self._turns = {}

    async def get(self, key: Key) -> Value | None:
        loop = asyncio.get_running_loop()
        turn = self._turns.get(loop)
        if turn is None:  # fetch after the turn's other callbacks have asked theirs
            turn = self._turns[loop] = {}
            loop.call_soon(self._fetch_turn, loop)
        future: asyncio.Future[Value | None] = loop.create_future()
        turn.setdefault(key, []).append(future)
        return await future

    def _fetch_turn(self, loop: asyncio.AbstractEventLoop) -> None:
        turn = self._turns.pop(loop)
        try:
            found = self._fetch_many(list(turn))
        except BaseException as error:
            # Every waiter learns the read failed: the first as a read of its own would
            # have, the others each with a fresh error chained to it (as the group commit
            # tells its followers). A cancelled request is not waiting any more. An
            # interrupt or exit goes on out of the loop, its waiters told it failed.
            waiting = [f for futures in turn.values() for f in futures if not f.done()]
            for n, future in enumerate(waiting):
                if n == 0 and isinstance(error, Exception):
                    future.set_exception(error)
                    continue
                shared = Unavailable("the read this request shared failed")
                shared.__cause__ = error
                future.set_exception(shared)
            if not isinstance(error, Exception):
                raise
            return
        for key, futures in turn.items():
            value = found.get(key)
            for future in futures:
                if not future.done():
                    future.set_result(value)
