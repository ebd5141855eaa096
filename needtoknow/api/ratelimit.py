"""Rate limits in one process: a moving window per bucket, without a timer thread.

A limit such as ``1000/second`` (limits' syntax, parsed by ``limits.parse``) admits at
most that many requests in any window of that length, as limits' moving-window strategy
does. Its in-memory storage expires old events on a ``threading.Timer`` that it starts
again every 10 ms while it holds any: a thread start and a GIL hand-off to the event loop
a hundred times a second, ~30 µs a request under load (docs/benchmarks.md). Here each
bucket keeps the times of its last admitted requests, oldest first; admitting one drops
those older than the window, so each costs O(1) amortised, on the asking thread.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from limits import RateLimitItem

SWEEP_EVERY = 4096  # admissions between sweeps of buckets gone quiet


class MovingWindow:
    def __init__(self, item: RateLimitItem, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.amount = item.amount
        self.seconds = float(item.get_expiry())
        self._buckets: dict[str, deque[float]] = {}
        self._lock = threading.Lock()  # FastAPI runs sync dependencies on worker threads
        self._since_sweep = 0

    def hit(self, bucket: str) -> float | None:
        """Count one request in ``bucket`` if the window has room: None when admitted,
        else the seconds until the oldest request in the window leaves it."""
        with self._lock:
            now = self.clock()  # read under the lock: each bucket's times stay in order
            times = self._buckets.get(bucket)
            if times is None:
                times = self._buckets[bucket] = deque()
            wait = self._wait(times, now)
            if wait is not None:
                return wait
            times.append(now)
            self._since_sweep += 1
            if self._since_sweep >= SWEEP_EVERY:
                self._sweep(now)
            return None

    def wait(self, bucket: str) -> float | None:
        """What :meth:`hit` would answer, counting nothing (and keeping nothing for a
        bucket it has not seen)."""
        with self._lock:
            times = self._buckets.get(bucket)
            return None if times is None else self._wait(times, self.clock())

    def _wait(self, times: deque[float], now: float) -> float | None:
        gone = now - self.seconds
        while times and times[0] <= gone:
            times.popleft()
        return times[0] + self.seconds - now if len(times) >= self.amount else None

    def _sweep(self, now: float) -> None:
        """Forget buckets with nothing left in the window: a bucket per client address
        (refusals) would otherwise be kept for every address ever seen."""
        self._since_sweep = 0
        gone = now - self.seconds
        for bucket in [b for b, times in self._buckets.items() if not times or times[-1] <= gone]:
            del self._buckets[bucket]
