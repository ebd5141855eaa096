"""A tree head signed every so often while a server runs, on a thread of its own.

One per server, whatever its number of workers: ``ntk serve --workers N`` runs it in
uvicorn's supervising process, which otherwise only watches the workers, so sealing
never takes a serving process's time (its GIL, its event loop) and two signers never
race each other for the same backlog; with one worker the worker's lifespan runs it.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from needtoknow.ledger.ledger import Ledger

log = logging.getLogger(__name__)

# Seconds between seal batches: the requests waiting for the database commit first,
# instead of racing the next batch for it (docs/benchmarks.md, session 23).
PAUSE = 0.002


class HeadSigner:
    """Signs a head every ``every`` seconds (a no-op while nothing was added) until
    :meth:`stop`; the caller signs the last one, covering everything served until then.
    A failure (the database busy or restarting) is logged and tried again next time."""

    def __init__(self, ledger: Ledger, every: float) -> None:
        self._ledger = ledger
        self._every = every
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ntk-head-signer", daemon=True)

    def start(self) -> None:
        fields = {"every_seconds": self._every, "pid": os.getpid()}
        log.info("head_signer_started", extra={"fields": fields})
        self._thread.start()

    def stop(self) -> None:
        """Stop, after the signing under way if any (again: a no-op)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stopping.wait(self._every):
            try:
                self._ledger.sign_head(pause=PAUSE)
            except Exception as exc:  # keep serving; the next round signs what this missed
                log.warning("no tree head this time: %s", type(exc).__name__)
