"""A lock that serves its waiters in the order they came.

``threading.Lock`` hands itself to whichever thread asks first after a release, and
the thread that released it is usually still running: a loop of short write
transactions (the ledger sealing a backlog in batches) can take the lock again before a
thread queued behind it wakes. Here a release hands the lock straight to the longest
waiter.
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
        try:
            if turn.acquire(timeout=timeout):
                return True  # handed over by release(): the lock is ours, still held
        except BaseException:
            # Interrupted while waiting (Ctrl-C, SIGTERM): leave the queue, or pass on a
            # turn handed over meanwhile, so no release goes to a waiter who has left.
            if not self._left(turn):
                self.release()
            raise
        return not self._left(turn)  # handed over after the timeout: keep it

    def try_acquire(self) -> bool:
        """The lock if nobody holds it (nor waits for it); False at once otherwise."""
        with self._mutex:
            if self._held:
                return False
            self._held = True
            return True

    def release(self) -> None:
        with self._mutex:
            if not self._held:
                raise RuntimeError("release of a lock nobody holds")
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._held = False

    def _left(self, turn: threading.Lock) -> bool:
        """Take ``turn`` out of the queue: False if it is no longer there (the lock was
        handed to it)."""
        with self._mutex:
            if turn in self._waiting:
                self._waiting.remove(turn)
                return True
            return False
