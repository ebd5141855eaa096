"""Usage events in and DP reports out, over real HTTP: events only from the company's
own systems, reports charged to the key's own recipient, refusals as problems."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from needtoknow.errors import ValidationError
from needtoknow.storage.schema import ledger_entries
from tests.api.conftest import Server

SPEC: dict[str, Any] = {
    "name": "pages",
    "measure": "count",
    "by": ["page"],
    "window": {"from": "2026-11-01", "to": "2026-11-30"},
    "kinds": ["page_view"],
    "keys": {"page": ["/a", "/b"]},
    "bounds": {"max_partitions": 2, "max_per_partition": 1},
    "privacy": {"epsilon": 1.5},
}


def events(customers: list[str] | None = None) -> list[dict[str, Any]]:
    ids = customers or [f"c{n}" for n in range(300)]
    rows: list[dict[str, Any]] = [
        {"kind": "page_view", "day": "2026-11-05", "customer_id": cid, "page": page}
        for n, cid in enumerate(ids)
        for page in ("/a", "/b")[: 1 + n % 2]
    ]
    rows.append(
        {
            "kind": "search",
            "day": "2026-11-05",
            "customer_id": "c1",
            "search": "invoice for asha@example.in",
        }
    )
    rows.append({"kind": "page_view", "day": "someday", "customer_id": "c1", "page": "/a"})
    return rows


def consenting(server: Server, count: int) -> list[str]:
    """Customers who consented to advertising: its legal basis is consent, so only their
    events are counted in advertisers' aggregates."""
    ids = [
        server.vault.add({"name": f"Customer {n}", "email": f"c{n}@example.in"}).customer_id
        for n in range(count)
    ]
    for cid in ids:
        server.vault.consents.grant(cid, "advertising", "web", f"sign-up form {cid}")
    return ids


def test_events_in_then_a_report_out_charged_to_the_keys_recipient(server: Server) -> None:
    with server.client("frontend") as frontend:
        sent = frontend.post("/v1/events", json={"events": events(consenting(server, 300))})
    assert sent.status_code == 201, sent.text
    assert sent.json() == {
        "accepted": 451,
        "rejected": 1,
        "redacted": {"EMAIL_ADDRESS": 1},
        "rejected_because": {"iso_date": 1},
    }
    with server.client("buyer") as buyer:
        first = buyer.post("/v1/reports", json={"spec": SPEC})
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["recipient"] == "ad_network" and body["spent"]["epsilon"] == 1.5
        assert body["policy_version"] == server.vault.policy.version
        counts = {row["page"]: row["count"] for row in body["rows"]}
        assert abs(counts["/a"] - 300) < 40 and abs(counts["/b"] - 150) < 40
        buyer.post("/v1/reports", json={"spec": SPEC})
        refused = buyer.post("/v1/reports", json={"spec": SPEC})
    assert refused.status_code == 403
    problem = refused.json()
    assert problem["type"].endswith("budget-exceeded")
    assert problem["remaining"]["epsilon"] == pytest.approx(1.0)
    request_id = first.headers["X-Request-ID"]
    with server.vault.db.connect() as conn:
        rows = conn.execute(sa.select(ledger_entries.c.entry).order_by(ledger_entries.c.idx))
        entries = [json.loads(bytes(row.entry)) for row in rows]
    mine = [e["detail"]["action"] for e in entries if e.get("request_id") == request_id]
    assert mine == ["charge", "release"]
    assert "asha@example.in" not in json.dumps(entries)


def test_bad_specs_and_batches_are_named_problems(server: Server) -> None:
    with server.client("buyer") as buyer:
        bad = buyer.post("/v1/reports", json={"spec": {**SPEC, "measure": "median"}})
        assert bad.status_code == 422 and bad.json()["field"] == "measure"
        keyless = {**SPEC, "keys": {"page": {"file": "/etc/passwd"}}}
        assert buyer.post("/v1/reports", json={"spec": keyless}).json()["field"] == "keys.page"
        wrong_scope = buyer.post("/v1/events", json={"events": events()})
        assert wrong_scope.status_code == 403
    with server.client("frontend") as frontend:
        assert frontend.post("/v1/events", json={"events": []}).status_code == 422


def test_only_the_companys_own_teams_may_send_events(server: Server) -> None:
    with pytest.raises(ValidationError, match="staff_only"):
        server.vault.api_keys.create("ad_network", ("events:write",))


def test_report_spec_sent_over_http_cannot_name_a_file(server: Server) -> None:
    """Issue 15 (high): a spec sent over HTTP has no folder, so ``file:`` is refused
    outright (422 naming the field), before anything is charged."""
    charges = len([e for e in entries(server) if e.get("detail", {}).get("action") == "charge"])
    with server.client("buyer") as buyer:
        for named in ("../keys.json", "/etc/passwd", "pages.txt"):
            spec = {**SPEC, "keys": {"page": {"file": named}}}
            refused = buyer.post("/v1/reports", json={"spec": spec})
            assert refused.status_code == 422, refused.text
            problem = refused.json()
            assert (problem["field"], problem["rule"]) == ("keys.page", "file_not_allowed")
            assert "root:" not in refused.text
    assert (
        len([e for e in entries(server) if e.get("detail", {}).get("action") == "charge"])
        == charges
    )


def entries(server: Server) -> list[dict[str, Any]]:
    with server.vault.db.connect() as conn:
        rows = conn.execute(sa.select(ledger_entries.c.entry).order_by(ledger_entries.c.idx))
        return [json.loads(bytes(row.entry)) for row in rows]
