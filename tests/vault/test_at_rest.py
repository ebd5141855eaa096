"""No plaintext PII at rest: the database file, its WAL, the key file and the logs hold none
of a customer's values, in any common encoding."""

from __future__ import annotations

import base64
import logging
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from needtoknow.config import Settings, demo_policy_text, init_vault, open_vault
from needtoknow.storage.schema import customers
from needtoknow.storage.store import unpack_fields
from needtoknow.vault import Vault
from tests.conftest import Clock
from tests.customers import ASHA, NOT_COLLECTED, RAVI, lookup

# The demo policy with a purpose that collects the categories it otherwise refuses, so
# every seed category but the photograph is planted.
EVERYTHING = demo_policy_text().replace(
    "\npurposes:\n",
    "\npurposes:\n  archive: {legal_basis: voluntarily_provided, description: canaries,"
    " collects: [birthplace, genetic_information, vehicle_registration]}\n",
    1,
)

CANARIES = [
    "Asha Canarywala",
    "Canarywala",
    "1987-04-12",
    "17 Canary Lane",
    "9876543210",
    "asha.canary@example.in",
    "123456789012",
    "4111111111111111",
    "234567890124",
    "ABCPE1234F",
    "MH12AB1234",
    "MH1420110062821",
    "ashacanary",
    "198.51.100.23",
    "rs4680",
    "Ravi Sentinelkar",
    "ravi.sentinel@example.in",
    "9123456780",
    "5555555555554444",
    "9 Sentinel Road",
]


def encodings(value: str) -> list[bytes]:
    raw = value.encode()
    return [
        raw,
        raw.lower(),
        raw.upper(),
        value.encode("utf-16-le"),
        raw.hex().encode(),
        base64.b64encode(raw),
        base64.b64encode(raw).rstrip(b"="),
    ]


def erased_secrets(vault: Vault, customer_id: str) -> list[bytes]:
    """The customer's wrapped key and ciphertexts, as stored before an erasure."""
    with vault.db.connect() as conn:
        row = conn.execute(sa.select(customers).where(customers.c.id == customer_id)).one()
    return [bytes(row.wrapped_dek), *unpack_fields(bytes(row.sealed_fields)).values()]


def left_in_files(folder: Path, secrets: list[bytes]) -> list[str]:
    """The database files (main file, WAL) that still hold any of ``secrets``."""
    return sorted(
        path.name
        for path in folder.glob("vault.db*")
        if any(secret in path.read_bytes() for secret in secrets)
    )


def test_erasure_leaves_no_key_or_ciphertext_in_the_database_or_wal(
    sqlite_vault: Vault, tmp_path: Path
) -> None:
    cid = sqlite_vault.add(ASHA).customer_id
    sqlite_vault.add(RAVI)
    secrets = erased_secrets(sqlite_vault, cid)
    assert sqlite_vault.erase(cid).scrubbed
    assert left_in_files(tmp_path, secrets) == []
    assert sqlite_vault.pending_scrubs() == []


def test_erasure_blocked_by_a_reader_snapshot_is_reported_pending_and_scrubbed_later(
    sqlite_vault: Vault, tmp_path: Path, clock: Clock
) -> None:
    """Issue 15, medium: a reader holding a snapshot during the WAL checkpoint left the
    wrapped key and ciphertext on disk while erase said nothing. Now erase reports it,
    the scrub stays pending, and a retry once the reader is gone removes the bytes."""
    cid = sqlite_vault.add(ASHA).customer_id
    sqlite_vault.add(RAVI)
    secrets = erased_secrets(sqlite_vault, cid)
    reader = sqlite3.connect(tmp_path / "vault.db", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM customers").fetchone()  # a snapshot from before
    try:
        erased = sqlite_vault.erase(cid)
        assert not erased.scrubbed
        assert [(p.customer_id, p.kind) for p in sqlite_vault.pending_scrubs()] == [(cid, "erase")]
        assert left_in_files(tmp_path, secrets) != []  # what the report is about
        assert not sqlite_vault.scrub_pending()  # still held: still pending
    finally:
        reader.rollback()
        reader.close()
    assert sqlite_vault.scrub_pending()
    assert sqlite_vault.pending_scrubs() == []
    assert left_in_files(tmp_path, secrets) == []


def test_a_pending_scrub_is_retried_when_the_vault_is_opened(
    sqlite_vault: Vault, tmp_path: Path, clock: Clock
) -> None:
    cid = sqlite_vault.add(ASHA).customer_id
    secrets = erased_secrets(sqlite_vault, cid)
    reader = sqlite3.connect(tmp_path / "vault.db", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM customers").fetchone()
    assert not sqlite_vault.erase(cid).scrubbed
    reader.rollback()
    reader.close()
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'vault.db'}")
    reopened = open_vault(settings, clock=clock)
    try:
        assert reopened.pending_scrubs() == sqlite_vault.pending_scrubs() == []
        assert left_in_files(tmp_path, secrets) == []
    finally:
        reopened.close()


def test_no_plaintext_pii_in_database_wal_keys_or_logs(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'vault.db'}")
    vault = init_vault(settings, EVERYTHING, clock=clock)
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # log every SQL statement
    try:
        asha = vault.add({**ASHA, **NOT_COLLECTED}).customer_id
        vault.add(RAVI)
        vault.get(asha, recipient="billing_team", purpose="billing")
        lookup(vault, "email", ASHA["email"])
        vault.rotate_keys()
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name.endswith("-wal") for p in files), "expected a WAL file to scan"
    blobs = {str(p): p.read_bytes() for p in files}
    vault.close()
    blobs["logs"] = caplog.text.encode()
    assert len(caplog.text) > 1000, "SQL logging should have produced records to scan"
    for canary in CANARIES:
        for encoded in encodings(canary):
            for where, blob in blobs.items():
                assert encoded not in blob, f"{canary!r} found in {where}"
