"""Writers in one process queue on the WriterLock, never in SQLite's sleeping busy handler."""

from __future__ import annotations

import ctypes
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from needtoknow.config import Settings, init_vault
from needtoknow.storage.database import WriterLock
from needtoknow.storage.turns import Turns
from tests.customers import ASHA


def test_concurrent_reads_and_writes_never_meet_sqlites_lock(tmp_path: Path) -> None:
    """With SQLite's busy timeout at zero, any two writers of this process meeting at
    SQLite's lock would fail at once with "database is locked"; none may."""
    vault = init_vault(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path}/v.db"))
    ids = [vault.add(ASHA).customer_id for _ in range(4)]
    vault.connections.close()
    vault.db.dispose()

    @sa.event.listens_for(vault.db, "connect")
    def impatient(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    failures: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(30):
                cid = ids[(n + i) % len(ids)]
                if i % 3 == 0:
                    vault.correct(cid, {"email": f"asha{n}.{i}@example.in"})
                else:
                    vault.get(cid, recipient="billing_team", purpose="billing")
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert vault.ledger.verify().ok
    vault.close()


IMPATIENT_WRITER = """
import sys
from pathlib import Path
import sqlalchemy as sa
from needtoknow.config import Settings, open_vault
vault = open_vault(Settings(home=Path(sys.argv[1]), database_url=sys.argv[2]))

@sa.event.listens_for(vault.db, "connect")
def impatient(dbapi_connection, _record):
    dbapi_connection.execute("PRAGMA busy_timeout=0")

vault.connections.close()
vault.db.dispose()
ids = sys.argv[3].split(",")
for i in range(60):
    cid = ids[i % len(ids)]
    if i % 3 == 0:
        vault.correct(cid, {"email": f"p{i}@example.in"})
    else:
        vault.get(cid, recipient="billing_team", purpose="billing")
vault.close()
"""


def test_writer_processes_queue_on_the_lock_file_too(tmp_path: Path) -> None:
    """Two processes (``ntk serve --workers 2``) with SQLite's busy timeout at zero: any
    meeting at SQLite's lock would fail with "database is locked"; none may."""
    url = f"sqlite:///{tmp_path}/v.db"
    vault = init_vault(Settings(home=tmp_path, database_url=url))
    ids = ",".join(vault.add(ASHA).customer_id for _ in range(4))
    vault.close()
    workers = [
        subprocess.Popen([sys.executable, "-c", IMPATIENT_WRITER, str(tmp_path), url, ids])
        for _ in range(3)
    ]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0, 0]
    assert (tmp_path / "v.db.writer").exists()


def test_a_writer_that_loops_lets_a_waiting_writer_in_at_its_next_release() -> None:
    """A loop of short write transactions (the ledger sealing a backlog in batches) must
    not keep the lock from a writer already waiting: it gets the next turn."""
    lock = WriterLock(None)
    turns_taken: list[int] = []
    started = threading.Event()
    entered_at: list[int] = []

    def waiter() -> None:
        started.wait()
        lock.acquire()
        entered_at.append(len(turns_taken))
        lock.release()

    thread = threading.Thread(target=waiter)
    thread.start()
    for turn in range(200):
        lock.acquire()
        if turn == 0:
            started.set()
            while not lock._turns._waiting:  # the waiter is queued
                time.sleep(0.001)
        time.sleep(0.0005)
        turns_taken.append(turn)
        lock.release()
    thread.join()
    assert entered_at == [1]


def test_a_writer_that_gives_up_or_is_interrupted_leaves_the_queue() -> None:
    """A waiter that times out, or is interrupted (Ctrl-C, SIGTERM) while it waits, must
    not be handed the lock later: the next writer would wait for a release that never
    comes."""
    turns = Turns()
    assert turns.acquire(timeout=1)
    assert not turns.acquire(timeout=0.01)  # timed out: gone from the queue

    interrupted: list[BaseException] = []

    def waiter() -> None:
        try:
            turns.acquire(timeout=1)  # the interruption lands when the wait returns
        except KeyboardInterrupt as exc:
            interrupted.append(exc)

    thread = threading.Thread(target=waiter)
    thread.start()
    while not turns._waiting:  # queued
        time.sleep(0.001)
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread.ident or 0), ctypes.py_object(KeyboardInterrupt)
    )
    thread.join()
    assert interrupted and not turns._waiting
    turns.release()
    assert turns.acquire(timeout=0.1)  # free again, nobody's turn pending
    turns.release()
    with pytest.raises(RuntimeError):
        turns.release()
