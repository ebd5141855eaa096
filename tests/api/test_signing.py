"""`ntk serve`'s head signer: one process for all workers, a head while serving and a
last one whatever stops the server (cli/signing.py, ledger/signer.py)."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from needtoknow.config import Settings, init_vault
from needtoknow.demo.customers import customers
from needtoknow.ledger.log import SEAL_BATCH, state
from needtoknow.storage.schema import ledger_heads
from needtoknow.vault import Vault
from tests.api.conftest import start, stop
from tests.customers import ASHA


class Fresh(NamedTuple):
    home: Path
    log: Path  # where the server's JSON lines go
    vault: Vault


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Fresh]:
    """A new vault under its own home, for a server of its own."""
    home = tmp_path / "home"
    vault = init_vault(Settings(home=home, database_url=f"sqlite:///{home}/vault.db"))
    yield Fresh(home, tmp_path / "serve.log", vault)
    vault.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_signs_tree_heads_while_it_runs_and_at_shutdown(fresh: Fresh, workers: int) -> None:
    """Review finding: `ntk serve` signed no head, so nothing it served was covered by a
    signature a witness could keep. Session 24: one signer a server, in a process of
    its own, so no worker seals on its event loop's time or races another for the
    same backlog."""
    home, log, vault = fresh
    assert vault.ledger.heads() == []
    process, _ = start(home, log, "--workers", str(workers), NTK_STH_EVERY="0.2")
    try:
        deadline = time.monotonic() + 20
        while not vault.ledger.heads() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert vault.ledger.heads(), "no head signed while serving"
        vault.add(ASHA)  # an entry the periodic signer may not have reached yet
    finally:
        stop(process)
    report = vault.ledger.verify()
    assert report.ok and report.unsigned == 0
    lines = [json.loads(line) for line in log.read_text().splitlines() if line[:1] == "{"]
    signers = [line["pid"] for line in lines if line["event"] == "head_signer_started"]
    served = re.findall(r"Started server process \[(\d+)\]", log.read_text())
    assert len(served) == workers and len(signers) == 1
    assert signers[0] not in {process.pid, *map(int, served)}


def _signer_pid(log: Path) -> int:
    """The head signer's process, once it has said it started."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            if line[:1] == "{" and (event := json.loads(line))["event"] == "head_signer_started":
                return int(event["pid"])
        time.sleep(0.1)
    raise AssertionError("no head signer started")


def test_a_signal_to_the_whole_server_still_ends_with_a_head_covering_everything(
    fresh: Fresh,
) -> None:
    """Ctrl-C in a terminal, and systemd's default stop, signal every process of the
    server at once: the signer outlives the serving process and signs the last head."""
    home, log, vault = fresh
    process, _ = start(home, log, "--workers", "2", group=True, NTK_STH_EVERY="30")
    try:
        vault.add(ASHA)  # after the signer's first head, if any: only the last covers it
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        stop(process)
    report = vault.ledger.verify()
    assert report.ok and report.unsigned == 0, report.warnings


def _ended(pid: int, within: float) -> bool:
    """Whether process ``pid`` ends (or is left a zombie) within ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if "State:\tZ" in Path(f"/proc/{pid}/status").read_text(errors="replace"):
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.1)
    return False


def test_a_server_killed_outright_leaves_no_orphan_signer_and_a_last_head(fresh: Fresh) -> None:
    """A serving process killed outright (SIGKILL, the OOM killer) cannot tell its
    signer anything, but its end of their pipe closes: the signer signs the last head
    and ends, rather than signing on forever as an orphan."""
    home, log, vault = fresh
    process, _ = start(home, log, NTK_STH_EVERY="30")
    try:
        signer = _signer_pid(log)
        vault.add(ASHA)
        process.kill()
        process.wait(timeout=10)
        assert _ended(signer, 20), "the signer outlived its server"
    finally:
        stop(process)
    assert vault.ledger.verify().unsigned == 0


def test_a_server_stopped_as_it_starts_leaves_no_orphan_signer(fresh: Fresh) -> None:
    """Review of session 24: the signer read its parent's pid only after its imports
    (a second or more); a server stopped before then had already left it an orphan,
    which saw nothing change and signed on forever."""
    home, log, _ = fresh
    process, _ = start(home, log, NTK_STH_EVERY="30")
    try:
        process.terminate()  # the signer may still be importing
        process.wait(timeout=30)
        assert _ended(_signer_pid(log), 20), "the signer outlived its server"
    finally:
        stop(process)


def test_one_worker_stopped_by_sigterm_exits_after_the_last_head(fresh: Fresh) -> None:
    """Review of session 24: `kill PID` (systemd's KillMode=mixed) reaches the serving
    process alone; uvicorn re-raises SIGTERM after its graceful shutdown, and ntk serve
    died before telling the signer — the last head came later, from an orphan."""
    home, log, vault = fresh
    process, _ = start(home, log, NTK_STH_EVERY="30")
    try:
        _signer_pid(log)
        vault.add(ASHA)
        process.terminate()
        assert process.wait(timeout=30) == 0
    finally:
        stop(process)
    assert vault.ledger.verify().unsigned == 0  # at once: signed before ntk serve ended


def test_a_last_head_refused_over_a_tampered_ledger_is_logged_as_a_line(fresh: Fresh) -> None:
    """Review of session 24: a last head that failed (here: heads deleted meanwhile,
    LedgerTampered) left only a raw traceback on stderr; it is a JSON line of the log,
    and the server's own line names the signer's exit."""
    home, log, vault = fresh
    vault.ledger.sign_head()
    process, _ = start(home, log, NTK_STH_EVERY="30")
    try:
        _signer_pid(log)
        vault.add(ASHA)
        with vault.db.begin() as conn:
            conn.execute(ledger_heads.delete())
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    finally:
        stop(process)
    text = log.read_text()
    events = [json.loads(line)["event"] for line in text.splitlines() if line[:1] == "{"]
    assert "last_head_not_signed: LedgerTampered" in events
    assert "head_signer_failed" in events and "Traceback" not in text


def test_a_signer_that_dies_is_logged_and_started_again(fresh: Fresh) -> None:
    """Review of session 24: a signer killed while the server ran (the OOM killer, a
    bug) left it signing nothing, silently, and its shutdown hung."""
    home, log, vault = fresh
    process, _ = start(home, log, "--workers", "2", NTK_STH_EVERY="0.3")
    try:
        first = _signer_pid(log)
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while log.read_text().count('"head_signer_started"') < 2:
            assert time.monotonic() < deadline, "no new signer"
            time.sleep(0.1)
        vault.add(ASHA)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        stop(process)
    assert vault.ledger.verify().unsigned == 0
    assert '"event":"head_signer_died: starting another"' in log.read_text()


def test_the_servers_signer_seals_a_backlog_in_batches_under_one_head(fresh: Fresh) -> None:
    """Session 23: a minute's backlog sealed 5,000 entries a transaction held the
    database ~110 ms at a time, and the reads waiting behind it were the p99; sealed
    1,000 at a time it signed a head for each, ~200 a minute. The server's signer now
    seals log.SEAL_BATCH a transaction (tests/ledger/test_ledger.py counts them) and
    signs one head for the whole backlog."""
    home, log, vault = fresh
    ids = [vault.add(c).customer_id for c in customers(50)]
    before = vault.ledger.sign_head().tree_size
    for _ in range(2 * SEAL_BATCH // len(ids) + 1):
        vault.get_many(ids, recipient="billing_team", purpose="billing")
    with vault.db.connect() as conn:
        backlog = state(conn).size - before
    process, _ = start(home, log, NTK_STH_EVERY="0.2")
    try:
        deadline = time.monotonic() + 30
        while vault.ledger.heads()[-1].tree_size == before:
            assert time.monotonic() < deadline, "the backlog was not sealed"
            time.sleep(0.1)
    finally:
        stop(process)
    sizes = [h.tree_size - before for h in vault.ledger.heads() if h.tree_size > before]
    assert sizes[0] >= backlog > 2 * SEAL_BATCH
    assert vault.ledger.verify().ok


def test_a_signer_dead_when_the_server_stops_is_replaced_for_the_last_head(
    fresh: Fresh,
) -> None:
    """Second review of session 24: a signer killed during the pause before it was
    started again left the stop to close a pipe nobody read — no last head."""
    home, log, vault = fresh
    process, _ = start(home, log, "--workers", "2", NTK_STH_EVERY="30")
    try:
        os.kill(_signer_pid(log), signal.SIGKILL)
        vault.add(ASHA)
        process.send_signal(signal.SIGINT)  # within the 30 s before a new signer
        assert process.wait(timeout=60) == 0
    finally:
        stop(process)
    assert vault.ledger.verify().unsigned == 0
    assert "head_signer_died: starting one for the last head" in log.read_text()


def test_ctrl_c_while_the_signer_starts_does_not_kill_it(fresh: Fresh) -> None:
    """Second review of session 24: the signer ignored Ctrl-C only once its imports
    were done; a Ctrl-C to the whole group before then killed it (a KeyboardInterrupt
    traceback, no last head). The server blocks both signals across the spawn."""
    home, log, vault = fresh
    vault.add(ASHA)
    process, _ = start(home, log, group=True, NTK_STH_EVERY="30")
    try:
        os.killpg(process.pid, signal.SIGINT)  # the signer is likely still importing
        process.wait(timeout=60)
    finally:
        stop(process)
    text = log.read_text()
    assert vault.ledger.verify().unsigned == 0
    assert "KeyboardInterrupt" not in text and "head_signer_failed" not in text
