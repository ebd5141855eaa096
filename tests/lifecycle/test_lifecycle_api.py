"""Accounts and legal holds over HTTP (staff scope ``accounts:manage``) through the
Python client, on SQLite and PostgreSQL: the same calls as ``ntk account`` and
``ntk hold``, refused to a recipient that is not the company's own."""

from __future__ import annotations

from datetime import date

import pytest

from needtoknow.client import VaultClient
from needtoknow.errors import ScopeDenied, ValidationError
from needtoknow.vault import Vault
from tests.customers import ASHA, ASHA_CATEGORIES


def test_close_reopen_services_and_holds_over_http(vault: Vault, url: str) -> None:
    cid = vault.add(ASHA).customer_id
    key = vault.api_keys.create("support_team", ("accounts:manage",)).token
    with VaultClient(url, key) as staff:
        assert staff.set_services(cid, ["vps"])["services"] == ["vps"]
        with pytest.raises(ValidationError):
            staff.set_services(cid, ["spaceships"])
        closed = staff.close_account(cid, "non_payment")
        assert (closed["status"], closed["closed_reason"]) == ("closed", "non_payment")
        assert staff.reopen_account(cid)["status"] == "open"
        hold = staff.place_hold(cid, ["email"], "Civil suit CS 44/2026", date(2099, 12, 31))
        assert [h["hold_id"] for h in staff.holds(cid, active=True)] == [hold["hold_id"]]
        assert staff.release_hold(hold["hold_id"])["released_by"] == f"api:{key.split('_')[1]}"
        assert staff.holds(cid, active=True) == []
        assert staff.account(cid)["categories"] == ASHA_CATEGORIES
    outsider = vault.api_keys.create("collection_agency", ("customers:read",)).token
    with VaultClient(url, outsider) as agency, pytest.raises(ScopeDenied):
        agency.close_account(cid)
    with pytest.raises(ValidationError, match="staff_only"):
        vault.api_keys.create("collection_agency", ("accounts:manage",))
