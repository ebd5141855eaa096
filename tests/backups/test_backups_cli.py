"""``ntk backup`` and ``ntk restore`` as an operator runs them."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Ntk
from tests.customers import ASHA


def test_backup_then_restore_from_the_command_line(ntk: Ntk, tmp_path: Path) -> None:
    import json

    asha = ntk.json("customer", "add", "-", stdin=json.dumps(ASHA))["customer_id"]
    path = tmp_path / "nightly.backup"
    taken = ntk.json("backup", str(path))
    assert taken["path"] == str(path) and len(taken["sha256"]) == 64
    assert set(taken) == {
        "path",
        "sha256",
        "dialect",
        "tree_size",
        "root_hash",
        "ledger_index",
        "taken_at",
    }
    ntk.json("customer", "erase", asha)
    refused = ntk("restore", str(path), stdin="n\n", expect=1)  # asked, and declined
    assert "Aborted" in refused.stdout + refused.stderr
    restored = ntk.json("restore", str(path), "--yes")
    assert restored["sha256"] == taken["sha256"] and restored["erasures"] == 1
    plain = ntk("backup", str(path), expect=5)  # an existing file is never overwritten
    assert "dest" in plain.stderr
    told = ntk("restore", str(tmp_path / "missing.backup"), "--yes", expect=5)
    assert "unreadable" in told.stderr
