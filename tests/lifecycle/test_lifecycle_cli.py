"""``ntk account``, ``hold``, ``retention`` and ``instruct`` as a user runs them."""

from __future__ import annotations

import json

from tests.conftest import Ntk
from tests.customers import ASHA


def test_close_hold_run_and_erase_from_the_command_line(ntk: Ntk) -> None:
    cid = ntk.json("customer", "add", "-", "--json", stdin=json.dumps(ASHA))["customer_id"]
    bad = ntk("account", "close", cid, "--reason", "bored", "--json", expect=5)
    assert "customer_request, erasure_request" in json.loads(bad.stderr)["message"]
    assert ntk.json("account", "services", cid, "--service", "vps", "--json")["services"] == ["vps"]
    closed = ntk.json("account", "close", cid, "--reason", "non_payment", "--json")
    assert closed["status"] == "closed" and closed["closed_reason"] == "non_payment"
    placed = ntk.json(
        "hold",
        "place",
        "--customer",
        cid,
        "--category",
        "card_number",
        "--basis",
        "Chargeback dispute 2026/88",
        "--until",
        "2099-12-31",
        "--json",
    )
    assert [h["hold_id"] for h in ntk.json("hold", "list", "--active", "--json")["holds"]] == [
        placed["hold_id"]
    ]
    preview = ntk.json("retention", "run", "--dry-run", "--as-of", "2029-01-01T00:00Z", "--json")
    (plan,) = preview["customers"]
    assert "date_of_birth" in plan["erased"] and "card_number" not in plan["erased"]
    assert preview["dry_run"] is True
    refused = ntk("retention", "run", "--as-of", "2029-01-01T00:00Z", "--json", expect=5)
    assert json.loads(refused.stderr)["rule"] == "dry_run_only"
    now = ntk.json("retention", "run", "--json")
    assert now["examined"] == 0 and now["customers"] == []  # closed today: nothing due
    erased = ntk.json("customer", "erase", cid)
    assert {k["category"] for k in erased["kept"]} >= {"card_number", "email"}
    assert ntk.json("account", "show", cid, "--json")["held"]["card_number"]["under"] == [
        placed["hold_id"]
    ]
    assert ntk.json("instruct", "list", "--overdue", "--json") == []
    released = ntk.json("hold", "release", placed["hold_id"], "--json")
    assert released["released_by"]
