"""``ntk serve``'s head signer, in a process of its own.

Sealing costs ~15 µs an entry, a minute's backlog at a time: on a worker's event loop
(its GIL) it took a third of the requests served in the seconds it ran, and with
several workers each sealed for itself, racing the others for the same backlog
(docs/benchmarks.md, sessions 23 and 24). One signer process serves them all.

The server tells it to finish by closing a pipe, which the operating system also
closes if the server dies (SIGKILL, the OOM killer): either way the signer signs the
last head, covering every request answered, and ends — never an orphan signing on.
It ignores Ctrl-C and SIGTERM, which reach every process of the server at once, so
that it outlives the workers. Should it die while the server runs, the server logs it
and starts another.
"""

from __future__ import annotations

import logging
import logging.config
import multiprocessing
import multiprocessing.connection
import signal
import threading
import time
from multiprocessing import resource_tracker
from multiprocessing.connection import Connection

from needtoknow.api.logs import uvicorn_log_config
from needtoknow.config import Settings, open_vault
from needtoknow.ledger.signer import HeadSigner

log = logging.getLogger(__name__)

# How long the server waits at shutdown for the last head: a minute's backlog takes
# seconds; a signer stuck longer (a database that never answers) is killed, and said so.
LAST_HEAD_TIMEOUT = 120.0
# A signer that keeps dying (a vault it cannot open) is started again after a pause
# that doubles each time, up to this; one that lived longer than it starts the count anew.
LONGEST_PAUSE = 300.0
# What the signer ignores, blocked from before it is spawned until it ignores them: a
# Ctrl-C while it imports would otherwise kill it (multiprocessing's resource tracker
# does the same).
SIGNALS = {signal.SIGINT, signal.SIGTERM}


class SignerProcess:
    """The signer process, started again if it dies."""

    def __init__(self, every: float) -> None:
        self._every = every
        self._spawning = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()  # whoever reaps or replaces the process holds it
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="ntk-signer-watch", daemon=True)

    def start(self) -> None:
        self._launch()
        self._watcher.start()

    def stop(self) -> None:
        """Tell the signer to sign the last head and end; wait for it (bounded). If it
        had died, a new one is told at once: the last head is signed either way."""
        with self._lock:
            self._stopping.set()
            if not self._process.is_alive():
                self._died("head_signer_died: starting one for the last head")
            self._told.close()
            process = self._process
        process.join(LAST_HEAD_TIMEOUT)
        if process.is_alive():
            process.kill()
            process.join()
            log.error("head_signer_stuck: killed; the last head was not signed")
        elif process.exitcode:
            log.error("head_signer_failed", extra={"fields": {"exit_code": process.exitcode}})
        self._watcher.join()

    def _launch(self) -> None:
        listening, self._told = self._spawning.Pipe(duplex=False)
        self._process = self._spawning.Process(
            target=_sign, args=(self._every, listening), name="ntk-head-signer"
        )
        self._started = time.monotonic()
        # Starting multiprocessing's resource tracker unblocks both signals (it blocks
        # and unblocks them around its own spawn): have it running before blocking.
        resource_tracker.ensure_running()
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        try:
            self._process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        listening.close()  # the signer's end only: its EOF is this process's end

    def _died(self, event: str) -> None:
        """Reap the dead signer, say so, and start another (under the lock)."""
        self._process.join()
        log.error(event, extra={"fields": {"exit_code": self._process.exitcode}})
        self._told.close()
        self._launch()

    def _watch(self) -> None:
        pause = max(self._every, 1.0)
        while True:
            # Wait without reaping: stop() may be joining the same process, and two
            # waitpid() calls on one child leave the loser believing it alive.
            multiprocessing.connection.wait([self._process.sentinel])
            lived = time.monotonic() - self._started
            pause = max(self._every, 1.0) if lived > LONGEST_PAUSE else pause
            if self._stopping.wait(pause):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                self._died("head_signer_died: starting another")
            pause = min(pause * 2, LONGEST_PAUSE)


def _sign(every: float, told: Connection) -> None:
    """The signer process: a head every ``every`` seconds until the server closes its
    end of the pipe (or dies), then the last one."""
    for number in SIGNALS:
        signal.signal(number, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)  # blocked by the server at spawn
    logging.config.dictConfig(uvicorn_log_config())
    try:
        vault = open_vault(Settings.from_env())
    except Exception as exc:  # a line of the log, not a traceback on stderr
        log.error("head_signer_failed: %s", type(exc).__name__)
        raise SystemExit(1) from None
    try:
        signer = HeadSigner(vault.ledger, every)
        signer.start()
        told.poll(None)  # returns at EOF: the server is done, or gone
        signer.stop()
        head = vault.ledger.sign_head()
        log.info("head_signer_stopped", extra={"fields": {"tree_size": head.tree_size}})
    except Exception as exc:
        log.error("last_head_not_signed: %s", type(exc).__name__)
        raise SystemExit(1) from None
    finally:
        vault.close()
