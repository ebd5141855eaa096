"""``ntk schema customer``: the record's shape, from the vault's own categories."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Ntk

POLICY = (Path(__file__).parents[2] / "policies" / "nextraone.yaml").read_text("utf-8")


def test_the_schema_names_every_category_and_a_deployments_own(ntk: Ntk, tmp_path: Path) -> None:
    schema = ntk.json("schema", "customer", "--json")
    assert schema["$schema"].endswith("2020-12/schema")
    assert {"address", "identity_number", "email"} <= set(schema["properties"])
    own = tmp_path / "own.yaml"
    own.write_text(
        POLICY.replace(
            "categories:\n",
            "categories:\n  customer_number:\n    label: Customer number\n"
            "    validator: text\n    transforms: [full, token]\n",
            1,
        ),
        "utf-8",
    )
    theirs = ntk.json("schema", "customer", "--policy", str(own), "--json")
    assert theirs["properties"]["customer_number"]["title"] == "Customer number"
    text = ntk("schema", "customer").stdout
    assert "## `address` — Postal address" in text and "one line: street, city" in text


def test_a_one_line_address_and_a_typed_identity_are_accepted_at_the_command_line(
    ntk: Ntk,
) -> None:
    record = {
        "name": "Asha Verma",
        "address": "Flat 4B, 17 MG Road, Pune, Maharashtra 411001",
        "identity_number": "pan:AFZPK7190K",
        "email": "Asha Verma <asha.verma@example.in>",
    }
    cid = ntk.json("customer", "add", "-", "--json", stdin=json.dumps(record))["customer_id"]
    got = ntk.json(
        "customer", "get", cid, "--recipient", "billing_team", "--purpose", "billing", "--json"
    )
    assert got["values"]["address"]["pin"] == "411001"
    refused = ntk("customer", "add", "-", "--json", stdin='{"address": "12 MG Road"}', expect=5)
    body = json.loads(refused.stderr)
    assert body["rule"] == "one_line_address" and "12 MG Road" not in refused.stderr


def test_the_policy_schema_accepts_the_demo_policy_and_catches_a_typo(ntk: Ntk) -> None:
    import jsonschema_rs
    import yaml

    schema = jsonschema_rs.Draft202012Validator(ntk.json("schema", "policy"))

    def as_json(text: str) -> object:
        return json.loads(json.dumps(yaml.safe_load(text), default=str))

    assert schema.is_valid(as_json(POLICY))
    for broken in (
        POLICY.replace("legal_basis: voluntarily_provided", "legal_basis: contrakt", 1),
        POLICY.replace("card_number: last4", "card_number: last_four", 1),
        POLICY.replace("\nrules:\n", "\nrulez:\n", 1),
        POLICY.replace("retention: 90 days", "retention: ninety days", 1),
    ):
        assert broken != POLICY and not schema.is_valid(as_json(broken))
