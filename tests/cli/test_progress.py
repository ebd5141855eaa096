"""Long work shows progress — on stderr, at a terminal only: each command below, run
on a pseudo-terminal, draws its progress line; with ``--json`` (or stderr not a
terminal, as in every other test) it draws nothing."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

import pytest

from tests.conftest import NTK, Ntk
from tests.customers import ASHA


def at_a_terminal(ntk: Ntk, *args: str) -> tuple[int, str]:
    """Run ``ntk`` with stderr on a pseudo-terminal: its exit code and what it drew."""
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [NTK, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=secondary,
        env={**ntk.env, "COLUMNS": "120"},
    )
    os.close(secondary)
    drawn = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the process closed the terminal
            break
        if not chunk:
            break
        drawn += chunk
    os.close(primary)
    return process.wait(timeout=60), drawn.decode("utf-8", "replace")


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (("ledger", "verify"), "verifying entries"),
        (("ledger", "export", "--output", "{tmp}/export.jsonl"), "exporting entries"),
        (("keys", "rotate"), "rewrapping data keys"),
        (("customer", "import", "{tmp}/rows.jsonl"), "importing"),
    ],
)
def test_long_commands_draw_progress_at_a_terminal_and_not_with_json(
    ntk_process: Ntk, tmp_path: Path, command: tuple[str, ...], says: str
) -> None:
    ntk_process("customer", "add", "-", stdin=json.dumps(ASHA))
    (tmp_path / "rows.jsonl").write_text(json.dumps({"name": "Ravi Kumar"}) + "\n")
    args = [part.format(tmp=tmp_path) for part in command]
    code, drawn = at_a_terminal(ntk_process, *args)
    assert code == 0 and says in drawn, drawn
    if command[0] != "ledger" or command[1] != "export":  # its output is the export itself
        (tmp_path / "export.jsonl").unlink(missing_ok=True)
        code, drawn = at_a_terminal(ntk_process, *args, "--json")
        assert code == 0 and says not in drawn, drawn
