"""One shape everywhere: for every operation the CLI and the HTTP API both offer, the
document ``ntk … --json`` prints has the shape of the API's answer — the same keys, all
the way down — on one vault, served while the CLI works on it. A command whose output
drifted from its route (``fields`` here, ``values`` there) fails here by name."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from needtoknow.api.app import create_app
from needtoknow.config import Settings, open_vault
from tests.conftest import Ntk
from tests.customers import ASHA, RAVI
from tests.serving import serving

ZULU = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
MOMENT = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d")


# Maps keyed by data, not by the format: a customer's categories, a ledger entry's fields.
KEYED_BY_DATA = frozenset({"values", "transforms", "rules", "denied", "allowed", "entry"})


def keys(document: Any) -> Any:
    """The shape of a document: its keys all the way down (values left out; a list by
    the union of its items' shapes, as lengths differ between two runs)."""
    if isinstance(document, dict):
        return {
            k: (isinstance(v, dict) if k in KEYED_BY_DATA else keys(v))
            for k, v in sorted(document.items())
        }
    if isinstance(document, list):
        merged: dict[str, Any] = {}
        for item in document:
            shape = keys(item)
            if isinstance(shape, dict):
                merged |= shape
        return [merged] if merged else []
    return None


def moments(document: Any) -> Iterator[str]:
    """Every string in the document that reads as a date and time."""
    if isinstance(document, dict):
        for value in document.values():
            yield from moments(value)
    elif isinstance(document, list):
        for value in document:
            yield from moments(value)
    elif isinstance(document, str) and MOMENT.match(document):
        yield document


class Api:
    """The API on the ntk fixture's vault, as a staff team with every scope."""

    def __init__(self, url: str, token: str, second: str) -> None:
        self.http = httpx.Client(base_url=url, headers={"X-API-Key": token})
        self.second = second  # another key: the second pair of eyes

    def __call__(self, method: str, path: str, second: bool = False, **kwargs: Any) -> Any:
        if second:
            kwargs["headers"] = {"X-API-Key": self.second}
        answer = self.http.request(method, path, **kwargs)
        assert answer.status_code < 300, (method, path, answer.text)
        return answer.json()


@pytest.fixture
def api(ntk: Ntk) -> Iterator[Api]:
    vault = open_vault(Settings.from_env(ntk.env))
    staff = vault.api_keys.create("support_team", tuple(_scopes())).token
    second = vault.api_keys.create("legal_team", tuple(_scopes())).token
    with serving(create_app(vault)) as url:
        yield Api(url, staff, second)
    vault.close()


def _scopes() -> list[str]:
    from needtoknow.records.apikeys import SCOPES

    return [s for s in SCOPES if s not in ("reports:run", "events:write")]


def test_every_operation_both_offer_prints_the_apis_shape(ntk: Ntk, api: Api) -> None:
    pairs: list[tuple[str, Any, Any]] = []

    def same(name: str, by_cli: Any, by_http: Any) -> None:
        pairs.append((name, by_cli, by_http))

    # customers
    cli_id = ntk.json("customer", "add", "-", stdin=json.dumps(ASHA))
    http_id = api("POST", "/v1/customers", json={"fields": RAVI})
    same("customer add", cli_id, http_id)
    a, b = cli_id["customer_id"], http_id["customer_id"]
    read = ("--recipient", "support_team", "--purpose", "service_delivery")
    same(
        "customer get",
        ntk.json("customer", "get", a, *read),
        api("GET", f"/v1/customers/{b}", params={"purpose": "service_delivery"}),
    )
    same(
        "customer find",
        ntk.json("customer", "find", *read, "--email", ASHA["email"]),
        api(
            "POST",
            "/v1/customers/lookup",
            json={"category": "email", "value": RAVI["email"], "purpose": "service_delivery"},
        ),
    )
    change = {"telephone": "+91 98200 00000"}
    same(
        "customer correct",
        ntk.json("customer", "correct", a, "-", stdin=json.dumps(change)),
        api("PATCH", f"/v1/customers/{b}", json={"fields": change}),
    )
    # consents
    grant = ("--purpose", "marketing_contact", "--evidence", "form 7")
    same(
        "consent grant",
        ntk.json("consent", "grant", a, *grant),
        api(
            "POST",
            f"/v1/customers/{b}/consents",
            json={"purpose": "marketing_contact", "evidence": "form 7"},
        ),
    )
    same(
        "consent list",
        ntk.json("consent", "list", a),
        api("GET", f"/v1/customers/{b}/consents"),
    )
    same(
        "consent withdraw",
        ntk.json("consent", "withdraw", a, "--purpose", "marketing_contact"),
        api("POST", f"/v1/customers/{b}/consents/marketing_contact/withdraw", json={}),
    )
    # accounts and holds
    same("account show", ntk.json("account", "show", a), api("GET", f"/v1/customers/{b}/account"))
    same(
        "account services",
        ntk.json("account", "services", a, "--service", "hosting"),
        api("PUT", f"/v1/customers/{b}/account/services", json={"services": ["hosting"]}),
    )
    hold = {"categories": ["email"], "basis": "Order 5/2026", "until": "2027-06-30"}
    cli_hold = ntk.json(
        "hold", "place", "--customer", a, "--category", "email", "--basis", "Order 5/2026",
        "--until", "2027-06-30",
    )  # fmt: skip
    http_hold = api("POST", "/v1/holds", json={"customer_id": b, **hold})
    same("hold place", cli_hold, http_hold)
    same("hold list", ntk.json("hold", "list"), api("GET", "/v1/holds"))
    same(
        "hold release",
        ntk.json("hold", "release", cli_hold["hold_id"]),
        api("POST", f"/v1/holds/{http_hold['hold_id']}/release"),
    )
    same(
        "account close",
        ntk.json("account", "close", a),
        api("POST", f"/v1/customers/{b}/account/close", json={}),
    )
    same(
        "account reopen",
        ntk.json("account", "reopen", a),
        api("POST", f"/v1/customers/{b}/account/reopen"),
    )
    # agreements
    same("agreement list", ntk.json("agreement", "list"), api("GET", "/v1/agreements"))
    for name in ("AGR-CLI-1", "AGR-HTTP-1"):
        if name == "AGR-CLI-1":
            created = ntk.json(
                "agreement", "create", name, "--recipient", "collection_agency", "--purpose",
                "bill_collection", "--expires", "2027-12-31", "--reference", "R",
                "--customer-scoped",
            )  # fmt: skip
        else:
            created = api(
                "POST",
                "/v1/agreements",
                json={
                    "id": name,
                    "recipient": "collection_agency",
                    "purposes": ["bill_collection"],
                    "expires": "2027-12-31",
                    "reference": "R",
                    "customer_scoped": True,
                },
            )
        pairs.append(("agreement create", created, None))
    same("agreement create", pairs.pop()[1], pairs.pop()[1])
    same(
        "agreement amend",
        ntk.json("agreement", "amend", "AGR-CLI-1", "--reference", "R2"),
        api("PATCH", "/v1/agreements/AGR-HTTP-1", json={"reference": "R2"}),
    )
    same(
        "agreement assign",
        ntk.json("agreement", "assign", "AGR-CLI-1", a),
        api("POST", "/v1/agreements/AGR-HTTP-1/customers", json={"customer_ids": [b]}),
    )
    same(
        "agreement unassign",
        ntk.json("agreement", "unassign", "AGR-CLI-1", a),
        api("POST", "/v1/agreements/AGR-HTTP-1/customers/remove", json={"customer_ids": [b]}),
    )
    same(
        "agreement revoke",
        ntk.json("agreement", "revoke", "AGR-CLI-1", "--reason", "ended"),
        api("POST", "/v1/agreements/AGR-HTTP-1/revoke", json={"reason": "ended"}),
    )
    # disclosures
    scope = {
        "authority": "law_enforcement",
        "purpose": "legal_process",
        "legal_basis": "BNSS 2023 s.94",
        "reference": "Summons 1",
        "categories": ["name"],
        "case_owner": "Priya",
    }
    cli_made = ntk.json(
        "disclosure", "request", "--authority", "law_enforcement", "--purpose", "legal_process",
        "--legal-basis", "BNSS 2023 s.94", "--reference", "Summons 1", "--customer", a,
        "--category", "name", "--case-owner", "Priya",
    )  # fmt: skip
    http_made = api("POST", "/v1/disclosures", json={**scope, "customer_ids": [b]})
    same("disclosure request", cli_made, http_made)
    same("disclosure list", ntk.json("disclosure", "list"), api("GET", "/v1/disclosures"))
    ntk.env["NTK_ACTOR"] = "dpo:arun"
    same(
        "disclosure reject",
        ntk.json("disclosure", "reject", cli_made["id"], "--reason", "no basis"),
        api(
            "POST",
            f"/v1/disclosures/{http_made['id']}/reject",
            second=True,
            json={"reason": "no basis"},
        ),
    )
    # the ledger and the policy
    same("ledger sth", ntk.json("ledger", "sth"), api("GET", "/v1/ledger/sth"))
    same(
        "ledger customer",
        ntk.json("ledger", "customer", a),
        api("GET", f"/v1/ledger/customers/{b}"),
    )
    same(
        "policy explain",
        ntk.json("policy", "explain", "--recipient", "support_team", "--purpose", "billing"),
        api("GET", "/v1/policy/explain", params={"purpose": "billing"}),
    )
    same(
        "customer erase",
        ntk.json("customer", "erase", a),
        api("DELETE", f"/v1/customers/{b}"),
    )

    drifted = [name for name, by_cli, by_http in pairs if keys(by_cli) != keys(by_http)]
    assert drifted == [], json.dumps(
        {n: (keys(c), keys(h)) for n, c, h in pairs if n in drifted}, indent=1
    )
    for name, by_cli, by_http in pairs:
        odd = [m for m in [*moments(by_cli), *moments(by_http)] if not ZULU.match(m)]
        assert odd == [], (name, odd)
