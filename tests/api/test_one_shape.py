"""One shape everywhere: a read and a consent listing answer over HTTP exactly what the
library returns and the CLI prints with --json (both print ``to_json()`` of the same
objects), on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx

from needtoknow.vault import Vault
from tests.customers import ASHA


def test_a_read_and_a_consent_list_have_one_shape(vault: Vault, url: str) -> None:
    cid = vault.add(ASHA).customer_id
    vault.consents.grant(cid, "marketing_contact", "web", "form 7")
    billing = vault.api_keys.create("billing_team", ("customers:read",)).token
    staff = vault.api_keys.create("support_team", ("consents:manage",)).token
    over_http = httpx.get(
        f"{url}/v1/customers/{cid}", params={"purpose": "billing"}, headers={"X-API-Key": billing}
    ).json()
    in_process = vault.get(cid, recipient="billing_team", purpose="billing").to_json()
    assert over_http == in_process
    assert set(over_http) >= {"values", "transforms", "denied", "obligations"}
    listed = httpx.get(f"{url}/v1/customers/{cid}/consents", headers={"X-API-Key": staff}).json()
    assert listed == {"consents": [c.to_json() for c in vault.consents.listing(cid)]}
