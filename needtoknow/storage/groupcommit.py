"""Group commit: ledger entries from concurrent threads share one transaction and commit.

A disclosure must not return before its entry is committed, and every commit takes the
database's write lock. When many threads commit at once (a web server's thread pool),
SQLite makes the losers sleep in its busy handler — 1, 2, 5, 10… ms at a time — and each
winner pays its own fsync. Here the first thread becomes the leader and commits what
every waiting thread has queued in one transaction, while the others wait on a condition
that wakes them the moment their batch is durable (or, if it failed, raises Unavailable
in each, chained to the leader's error: nothing is disclosed without its entry). A lone
caller waits for nobody.

Callers on an event loop (the HTTP service, on a local database) use
:meth:`GroupCommit.submit_async`: the loop itself commits, once per turn, what every
request that ran in that turn queued, and wakes them — no thread is held per waiting
request. A committer thread did this until session 18; but each SQLite query on the
loop then handed the GIL to it and waited to get it back, and a read cost 741 to 1,004 µs
of CPU instead of 556 to 583 (docs/benchmarks.md). The loop stalls for the commit's fsync,
once per batch of tens of requests — but never waits for another writer: when the
database is taken (``commit_now`` returns None), the loop tries again on each of its
next :data:`RETRIES` iterations (each serves whatever I/O is ready first) with whatever
queued meanwhile; when it is still taken, or someone leads or waits to, the batch
joins the queue a worker thread (or a waiting caller of :meth:`submit`) commits, and
the loop serves on. Never ahead of the queue: a loop that took the lead whenever it
was free won every race against the thread woken to commit an earlier batch — the
thread needs the GIL the loop holds — and under load (two ``ntk serve`` workers, each
batch waiting for the other's commits) requests waited 11 s for as long as the load
lasted.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import Generic, TypeVar

from needtoknow.errors import Unavailable

# A turn whose commit finds another writer holding the database tries again on this
# many of the loop's next iterations before a worker thread waits for it. Handing each
# such batch to a thread at once made two `ntk serve` workers trade the GIL between the
# loop and that thread (7.7 futex calls a request against none with one worker, session
# 21). Iterations, not a delay: uvloop's timers count whole milliseconds.
RETRIES = 8

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Slot(Generic[Item, Result]):
    __slots__ = ("done", "error", "items", "result", "wake")

    def __init__(self, items: Sequence[Item], wake: Callable[[], None] | None = None) -> None:
        self.items = items
        self.result: list[Result] = []
        self.error: BaseException | None = None
        self.done = False
        self.wake = wake  # for an event-loop caller: called (any thread) once done


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():  # the request may have been cancelled meanwhile
        future.set_result(None)


def _wake(loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> None:
    """Settle ``future`` now if this is its loop's thread, else on its loop."""
    try:
        here = asyncio.get_running_loop()
    except RuntimeError:
        here = None
    if here is loop:
        _settle(future)
    else:
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(_settle, future)


class GroupCommit(Generic[Item, Result]):
    """Runs ``commit`` once for the items of every caller queued meanwhile.

    ``commit`` gets the items in queue order and returns one result per item; it must
    commit all of them or raise.
    """

    def __init__(
        self,
        commit: Callable[[list[Item]], list[Result]],
        commit_now: Callable[[list[Item]], list[Result] | None] | None = None,
    ) -> None:
        """``commit_now``: ``commit`` if it can start at once, else None (nothing done):
        what the event loop tries; without it the loop always hands its batch over."""
        self._commit = commit
        self._commit_now = commit_now
        self._ready = threading.Condition()
        self._queue: list[_Slot[Item, Result]] = []
        self._leading = False
        self._turns: dict[asyncio.AbstractEventLoop, list[_Slot[Item, Result]]] = {}
        self._helping = False  # a worker thread is on its way to commit the queue
        self._closing = False

    def submit(self, items: Sequence[Item]) -> list[Result]:
        """Commit ``items`` (with whatever else is queued); their results, in order."""
        mine: _Slot[Item, Result] = _Slot(items)
        with self._ready:
            self._queue.append(mine)
            while self._leading and not mine.done:
                self._ready.wait()
            if mine.done:
                batch: list[_Slot[Item, Result]] = []
            else:
                self._leading = True
                batch, self._queue = self._queue, []
        if batch:
            self._lead(batch)
            if mine.error is not None:
                raise mine.error
        elif mine.error is not None:  # a fresh error per follower, chained to the cause
            raise Unavailable("the ledger commit this entry shared failed") from mine.error
        return mine.result

    async def submit_async(self, items: Sequence[Item]) -> list[Result]:
        """:meth:`submit` for a coroutine: the loop commits ``items`` with those of every
        other request that queued in the same turn, then wakes them."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        mine: _Slot[Item, Result] = _Slot(items, partial(_wake, loop, future))
        with self._ready:  # close() may take the turns from another thread
            if self._closing:
                raise Unavailable("the ledger is closed")
            turn = self._turns.setdefault(loop, [])
            turn.append(mine)
            first = len(turn) == 1
        if first:  # commit after the turn's other callbacks have queued theirs
            loop.call_soon(self._commit_turn, loop)
        await future
        if mine.error is not None:
            raise Unavailable("the ledger commit this entry shared failed") from mine.error
        return mine.result

    def _commit_turn(self, loop: asyncio.AbstractEventLoop, tries: int = 0) -> None:
        """On ``loop``: commit what its requests queued this turn, if the database is
        free at once and nobody leads or waits. If another writer holds the database
        (mostly another ``ntk serve`` worker's commit), try again on the loop's next
        iterations with whatever queues meanwhile; else queue the batch behind them, for
        a worker thread to commit. The loop never waits either way."""
        with self._ready:
            batch = self._turns.pop(loop, [])
            if not batch:  # close() committed it already
                return
            free = not self._leading and not self._queue and self._commit_now is not None
            if free:
                self._leading = True
        if free and self._lead(batch, now=True):
            return
        with self._ready:
            if free and tries < RETRIES and not self._closing:
                self._turns[loop] = batch  # this loop's thread alone adds to its turn
                loop.call_soon(self._commit_turn, loop, tries + 1)
                return
            self._queue.extend(batch)
            helping, self._helping = self._helping, True
            closing = self._closing
        if not helping:
            if not closing:
                try:
                    loop.run_in_executor(None, self._lead_queue)
                    return
                except RuntimeError:  # the loop is shutting its executor down
                    pass
            self._lead_queue()  # here, then: no thread after close() or without executor

    def _lead_queue(self) -> None:
        """Wait until nobody leads, then commit whatever is queued (waiting for the
        database): the worker thread's part, and close()'s."""
        with self._ready:
            self._helping = False
            while self._leading:
                self._ready.wait()
            if not self._queue:  # a caller of submit() led it meanwhile
                return
            self._leading = True
            batch, self._queue = self._queue, []
        self._lead(batch)

    def close(self) -> None:
        """Commit what coroutines queued and have not seen committed yet; none are taken
        after this."""
        with self._ready:
            self._closing = True
            for loop in list(self._turns):
                self._queue.extend(self._turns.pop(loop))
        self._lead_queue()

    def _lead(self, batch: list[_Slot[Item, Result]], now: bool = False) -> bool:
        """Commit ``batch`` (the caller leads) and wake its callers; with ``now``, only
        if the commit can start at once: False, nobody leading, nothing done, if not."""
        items = [item for slot in batch for item in slot.items]
        try:
            if now:
                assert self._commit_now is not None
                committed = self._commit_now(items)
                if committed is None:
                    with self._ready:
                        self._leading = False
                        self._ready.notify_all()
                    return False
                results = committed
            else:
                results = self._commit(items)
        except BaseException as error:  # every caller in the batch learns it failed
            for slot in batch:
                slot.error = error
        else:
            start = 0
            for slot in batch:
                slot.result = results[start : start + len(slot.items)]
                start += len(slot.items)
        with self._ready:
            for slot in batch:
                slot.done = True
            self._leading = False
            self._ready.notify_all()
        for slot in batch:
            if slot.wake is not None:
                slot.wake()
        return True
