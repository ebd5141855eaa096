"""The vault's clock, not the caller's, judges agreements and stamps the ledger.

A caller can put any time in a :class:`Context`; if the vault believed it, a contractor
whose agreement has lapsed could read by sending a date inside the agreement, and its
reads would be ledgered at a time of its choosing. On real SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from needtoknow.errors import PolicyDenied
from needtoknow.types import Context
from needtoknow.vault import Vault
from tests.conftest import Clock
from tests.customers import ASHA
from tests.ledgered import last_entry

# AGR-COLL-2026 binds collection_agency to bill_collection until 2027-12-31; the fixtures'
# clock starts on 2026-11-26, so this many days on it has lapsed.
PAST_EXPIRY = timedelta(days=500)

Read = Callable[[Vault, str, Context], object]

READS: dict[str, Read] = {
    "get": lambda vault, cid, context: vault.get(
        cid, recipient="collection_agency", purpose="bill_collection", context=context
    ),
    "get_many": lambda vault, cid, context: vault.get_many(
        [cid], recipient="collection_agency", purpose="bill_collection", context=context
    ),
    "find": lambda vault, cid, context: vault.find(
        "email",
        ASHA["email"],
        recipient="collection_agency",
        purpose="bill_collection",
        context=context,
    ),
}


def assigned_customer(vault: Vault) -> str:
    cid = vault.add(ASHA).customer_id
    vault.agreements.assign("AGR-COLL-2026", [cid])
    return cid


@pytest.mark.parametrize("read", READS)
def test_a_time_the_caller_sends_cannot_revive_a_lapsed_agreement(
    vault: Vault, clock: Clock, read: str
) -> None:
    cid = assigned_customer(vault)
    while_in_force = clock.now
    clock.now += PAST_EXPIRY
    with pytest.raises(PolicyDenied, match="no agreement in force"):
        READS[read](vault, cid, Context(now=while_in_force))
    entry = last_entry(vault)
    assert entry["decision"] == "deny"
    assert datetime.fromisoformat(entry["time"]) == clock.now


@pytest.mark.parametrize("read", READS)
def test_a_time_the_caller_sends_cannot_end_an_agreement_or_restamp_the_ledger(
    vault: Vault, clock: Clock, read: str
) -> None:
    cid = assigned_customer(vault)
    assert READS[read](vault, cid, Context(now=clock.now + PAST_EXPIRY))
    entry = last_entry(vault)
    assert entry["decision"] == "allow" and entry["customer_id"] == cid
    assert datetime.fromisoformat(entry["time"]) == clock.now
