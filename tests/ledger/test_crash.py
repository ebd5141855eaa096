"""Kill -9 in the middle of a load: no customer without its ledger entry, nor the reverse."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from needtoknow.config import Settings, init_vault, open_vault
from needtoknow.storage.schema import customers, ledger_entries
from tests.conftest import Clock

LOAD = """
import sys
from needtoknow.demo.customers import customers
from needtoknow.config import Settings, open_vault
vault = open_vault(Settings.from_env())
for i, record in enumerate(customers(100000, seed=int(sys.argv[1]))):
    cid = vault.add(record).customer_id
    vault.get(cid, recipient="billing_team", purpose="billing")
    if i == 20:
        print("loading", flush=True)
"""


@pytest.mark.slow
def test_killing_the_process_mid_load_leaves_operations_and_entries_together(
    tmp_path: Path, database_url: str
) -> None:
    settings = Settings(home=tmp_path / "home", database_url=database_url)
    init_vault(settings, clock=Clock()).close()
    env = {**os.environ, "NTK_HOME": str(settings.home), "NTK_DATABASE_URL": database_url}
    for seed in (1, 2):  # twice: the second run appends after a crashed one
        process = subprocess.Popen(
            [sys.executable, "-c", LOAD, str(seed)], env=env, stdout=subprocess.PIPE, text=True
        )
        assert process.stdout is not None and process.stdout.readline().strip() == "loading"
        time.sleep(0.3)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    vault = open_vault(settings)
    with vault.db.connect() as conn:
        stored: set[str] = set(conn.execute(sa.select(customers.c.id)).scalars())
        blobs: list[bytes] = list(conn.execute(sa.select(ledger_entries.c.entry)).scalars())
    logged = [json.loads(bytes(blob)) for blob in blobs]
    written = {e["customer_id"] for e in logged if e["kind"] == "write"}
    assert len(stored) > 40
    assert written == stored
    read = {e["customer_id"] for e in logged if e["kind"] == "read"}
    assert read <= stored
    report = vault.ledger.verify()
    assert report.ok, report.problems
    assert report.entries == len(logged)
    vault.close()
