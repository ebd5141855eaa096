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


def test_a_read_is_written_as_its_model_would_write_it(vault: Vault) -> None:
    """The read route encodes with orjson instead of its pydantic model (speed): the
    same bytes, non-ASCII, quotes, backslashes and markup included."""
    from needtoknow.api.models import Disclosed, disclosure_response

    record = {
        **ASHA,
        "name": 'आशा "Asha" \\ Verma </script> 😀',
        "address": {
            "line1": "Flat 4B, 17 MG Road",
            "city": "Pune",
            "state": "Maharashtra",
            "pin": "411001",
        },
    }
    cid = vault.add(record).customer_id
    read = vault.get(cid, recipient="billing_team", purpose="billing")
    assert read.to_json()["transforms"] and read.to_json()["values"]["name"] == record["name"]
    model = Disclosed(**read.to_json()).model_dump_json().encode()
    assert disclosure_response(read).body == model
