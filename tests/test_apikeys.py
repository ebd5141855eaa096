"""API keys in the library: issuing, scopes by recipient kind, expiry, revocation."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta, timezone

import pytest
import sqlalchemy as sa

from needtoknow.errors import AuthenticationError, ScopeDenied, ValidationError
from needtoknow.storage.schema import ledger_entries
from needtoknow.vault import Vault
from tests.conftest import Clock


def test_staff_scopes_are_only_for_the_companys_own_teams(vault: Vault) -> None:
    keys = vault.api_keys
    for recipient, scope in (
        ("collection_agency", "agreements:manage"),
        ("law_enforcement", "disclosures:release"),
        ("credit_bureau", "ledger:read"),
    ):
        with pytest.raises(ValidationError, match="staff_only"):
            keys.create(recipient, ("customers:read", scope))
    assert keys.create("legal_team", ("agreements:manage",)).key.recipient == "legal_team"


def test_an_expiry_given_in_ist_expires_at_that_instant(vault: Vault, clock: Clock) -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    expires = (clock.now + timedelta(hours=2)).astimezone(ist)
    issued = vault.api_keys.create("billing_team", expires_at=expires)
    assert vault.api_keys.authenticate(issued.token).expires_at == expires
    clock.now += timedelta(hours=1, minutes=59)
    vault.api_keys.authenticate(issued.token)
    clock.now += timedelta(minutes=2)
    with pytest.raises(AuthenticationError, match="expired"):
        vault.api_keys.authenticate(issued.token)


def test_only_a_digest_of_the_secret_is_stored(vault: Vault) -> None:
    from needtoknow.storage.schema import api_keys

    issued = vault.api_keys.create("billing_team")
    secret = issued.token.split("_", 2)[2]
    with vault.db.connect() as conn:
        row = conn.execute(api_keys.select()).one()
    assert secret.encode() not in b"".join(
        v if isinstance(v, bytes) else str(v).encode() for v in row
    )


def test_customers_write_is_a_staff_scope_for_any_recipient(vault: Vault) -> None:
    """Issue 15 (medium): any recipient could be given ``customers:write`` and overwrite
    any customer's e-mail and phone. Writes are for the company's own teams; a key that
    carries the scope for anyone else (issued before) is refused at use, too."""
    keys = vault.api_keys
    for recipient in ("collection_agency", "collection_field_agent", "partner_bank"):
        with pytest.raises(ValidationError, match=r"staff_only.*customers:write"):
            keys.create(recipient, ("customers:read", "customers:write"))
    staff = keys.create("support_team", ("customers:write",)).key
    assert keys.permits(staff, "customers:write")
    outsider = dataclasses.replace(staff, recipient="collection_agency")  # as if issued before
    assert not keys.permits(outsider, "customers:write")
    with pytest.raises(ScopeDenied, match="company's own teams"):
        keys.authorise(outsider, "customers:write")


def test_a_key_id_with_a_wrong_secret_is_refused(vault: Vault) -> None:
    """Key ids are not secret (they are in the ledger and in listings): only the secret
    proves the holder. A wrong one is refused and ledgered against nobody's key."""
    keys = vault.api_keys
    issued = keys.create("billing_team")
    forged = f"ntk_{issued.key.id}_{'A' * len(issued.token.split('_', 2)[2])}"
    assert forged != issued.token
    with pytest.raises(AuthenticationError, match="unknown"):
        keys.authenticate(forged)
    with vault.db.connect() as conn:
        row: bytes = conn.execute(
            sa.select(ledger_entries.c.entry).order_by(ledger_entries.c.idx.desc()).limit(1)
        ).scalar_one()
    entry = json.loads(bytes(row))
    assert entry["detail"] == {
        "action": "refused",
        "key": issued.key.id,
        "scopes": sorted(issued.key.scopes),
        "reason": "unknown",
    }
    assert entry["actor"] == "api:unauthenticated"
    assert keys.authenticate(issued.token) == issued.key
