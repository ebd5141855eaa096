"""``ntk incident``: open with the clocks, scope from the ledger, list, show, close —
each printing the same JSON document, and refusals naming what is valid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import Ntk
from tests.customers import ASHA


def open_leak(ntk: Ntk, noticed_at: str, summary: str) -> dict[str, Any]:
    """``ntk incident open`` of a data leak: the incident's document."""
    opened: dict[str, Any] = ntk.json(
        "incident", "open", "--kind", "data_leak", "--noticed-at", noticed_at, "--summary", summary
    )
    return opened


def test_open_scope_list_and_close_from_the_command_line(ntk: Ntk) -> None:
    cid = ntk.json("customer", "add", "-", stdin=json.dumps(ASHA))["customer_id"]
    opened = open_leak(
        ntk, "2026-12-05T09:30+05:30", "A support export was mailed to the wrong address"
    )
    incident = opened["incident_id"]
    assert opened["deadlines"]["cert_in"]["due"] == "2026-12-05T10:00:00Z"
    assert opened["deadlines"]["board_report"]["due_ist"] == "2026-12-08T09:30:00+05:30"
    scoped = ntk.json("incident", "scope", incident, "--category", "email")
    assert (scoped["version"], scoped["customers"], scoped["categories"]) == (1, 1, ["email"])
    listed = ntk.json("incident", "list", "--open")["incidents"]
    assert [i["incident_id"] for i in listed] == [incident]
    assert listed[0]["scope"]["customers"] == 1
    windowed = ntk(
        "incident",
        "scope",
        incident,
        "--category",
        "email",
        "--from",
        "2026-12-05T00:00Z",
        "--json",
        expect=5,
    )
    assert json.loads(windowed.stderr)["field"] == "from"  # a window means nothing here
    filed = ntk.json(
        "incident",
        "filed",
        incident,
        "--report",
        "cert_in",
        "--at",
        "2026-12-05T09:50+05:30",
        "--reference",
        "CERTIN-77",
    )
    assert filed["deadlines"]["cert_in"]["filed_at"] == "2026-12-05T04:20:00Z"
    wrong = ntk("incident", "filed", incident, "--report", "board", "--json", expect=5)
    assert "board_intimation" in json.loads(wrong.stderr)["message"]
    human = ntk("incident", "show", incident).stdout
    assert "cert_in" in human and "A support export" not in human  # the summary stays sealed
    closed = ntk.json("incident", "close", incident)
    assert closed["status"] == "closed" and ntk.json("incident", "list", "--open") == {
        "incidents": []
    }
    assert cid not in json.dumps(closed)


def test_refusals_name_what_is_valid(ntk: Ntk) -> None:
    wrong = ntk(
        "incident",
        "open",
        "--kind",
        "breach",
        "--noticed-at",
        "2026-12-05T09:30Z",
        "--summary",
        "x",
        "--json",
        expect=5,
    )
    error = json.loads(wrong.stderr)
    assert error["field"] == "kind" and "data_breach" in error["message"]
    no_zone = ntk(
        "incident",
        "open",
        "--kind",
        "data_leak",
        "--noticed-at",
        "2026-12-05T09:30",
        "--summary",
        "x",
        "--json",
        expect=5,
    )
    assert json.loads(no_zone.stderr)["field"] == "noticed_at"


def test_a_leaked_file_scopes_from_the_command_line(ntk: Ntk, tmp_path: Path) -> None:
    cid = ntk.json("customer", "add", "-", stdin=json.dumps(ASHA))["customer_id"]
    opened = open_leak(ntk, "2026-11-26T10:00Z", "A CSV on a paste site")
    leaked = tmp_path / "leak.csv"
    leaked.write_text(f"who,mail\nAsha,{ASHA['email']}\n", "utf-8")
    scoped = ntk.json("incident", "scope", opened["incident_id"], "--file", str(leaked))
    assert (scoped["found"], scoped["basis"]["file"]) == (1, "leak.csv")
    assert cid not in json.dumps(scoped) and ASHA["email"] not in json.dumps(scoped)
