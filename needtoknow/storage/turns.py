"""A lock that serves its waiters in the order they came.

``threading.Lock`` hands itself to whichever thread asks first after a release, and
the thread that released it is usually still running: a loop of short write
transactions (the ledger sealing a backlog in batches) takes the lock again before any
thread queued behind it wakes, and they wait for the whole loop (a 4 s stall of every
correction at 1 M customers, docs/scale.md). Here a release hands the lock straight to
the longest waiter.
"""

from __future__ import annotations

import threading
from collections import deque


class Turns:
    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()
        self._held = False

    def acquire(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the lock; False if it did not come."""
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        if turn.acquire(timeout=timeout):
            return True  # handed over by release(): the lock is ours, still held
        with self._mutex:
            if turn in self._waiting:
                self._waiting.remove(turn)
                return False
        return True  # handed over between the timeout and the mutex

    def release(self) -> None:
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._held = False
