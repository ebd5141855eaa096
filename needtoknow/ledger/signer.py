"""A tree head signed every so often while a server runs, on a thread of its own.

``ntk serve`` runs one in a process of its own for all its workers
(``cli/signing.py``); an app embedded under another server (``create_app`` with
``sth_every``) runs one in its lifespan.
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
