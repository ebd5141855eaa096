"""Consents over real HTTP: recorded and withdrawn by the company's own teams, effective
at once for the marketing team's reads."""

from __future__ import annotations

import pytest

from needtoknow.errors import ValidationError
from tests.api.conftest import Server
from tests.customers import ASHA


def test_consent_granted_then_withdrawn_over_http(server: Server) -> None:
    customer_id = server.vault.add(ASHA).customer_id
    read = f"/v1/customers/{customer_id}"
    with server.client("consents") as staff, server.client("marketing") as marketing:
        assert marketing.get(read, params={"purpose": "marketing_contact"}).status_code == 403
        body = {"purpose": "marketing_contact", "channel": "web", "evidence": "form 9"}
        given = staff.post(f"{read}/consents", json=body)
        assert given.status_code == 201 and given.json()["active"] is True
        allowed = marketing.get(read, params={"purpose": "marketing_contact"})
        assert allowed.status_code == 200 and set(allowed.json()["values"]) == {
            "name",
            "email",
            "telephone",
        }
        closed = staff.post(f"{read}/consents/marketing_contact/withdraw", json={})
        assert [c["active"] for c in closed.json()["consents"]] == [False]
        denied = marketing.get(read, params={"purpose": "marketing_contact"})
        assert denied.status_code == 403 and "consented" in denied.json()["detail"]
        wrong = staff.post(f"{read}/consents", json={"purpose": "billing", "evidence": "x"})
        assert wrong.status_code == 422 and wrong.json()["rule"] == "not_consent_based"
        listed = staff.get(f"{read}/consents").json()["consents"]
        assert [c["purpose"] for c in listed] == ["marketing_contact"]


def test_only_the_companys_own_teams_record_consents(server: Server) -> None:
    with pytest.raises(ValidationError, match="staff_only"):
        server.vault.api_keys.create("ad_network", ("consents:manage",))
