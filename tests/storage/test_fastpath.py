"""The hot paths' own transactions (storage/fastpath.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from needtoknow.errors import NotFound
from needtoknow.vault import Vault

BUMP = "UPDATE registry_state SET version = version + 1 WHERE id = 1"


def test_a_read_inside_a_write_transaction_is_part_of_it(vault: Vault) -> None:
    """A correction reads the registry version under its row lock, on the same thread's
    connection: on PostgreSQL that read ended the transaction, dropping the lock and
    what was written before it."""
    before = vault.agreements.version()
    with vault.connections.transaction() as cursor:
        cursor.execute(BUMP)
        seen = vault.agreements.version()  # a snapshot, on this thread's connection
        cursor.execute(BUMP)
    assert seen == before + 1
    assert vault.agreements.version() == before + 2


def test_a_refusal_rolls_back_and_keeps_the_connection(vault: Vault) -> None:
    """A refusal of ours (a customer not found) rolls the transaction back; the thread's
    connection stays (opening another costs more than the refusal). A driver's error
    still replaces it."""
    before = vault.agreements.version()
    connections = vault.connections
    with connections.transaction() as cursor:
        cursor.execute("SELECT 1")
    kept = connections._local.connection
    with pytest.raises(NotFound), connections.transaction() as cursor:
        cursor.execute(BUMP)
        raise NotFound("no customer")
    assert connections._local.connection is kept
    assert vault.agreements.version() == before
    with (
        pytest.raises(Exception, match=r"no_such_table|does not exist"),
        connections.transaction() as cursor,
    ):
        cursor.execute("SELECT * FROM no_such_table")
    assert connections._local.connection is None
