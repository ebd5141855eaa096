"""Usage data for personalised advertising comes only from customers who consented to it:
each event notes the consents standing when it came in, and a usage_data rule with
``requires_consent`` counts only those events."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from needtoknow.analytics import EventStore
from needtoknow.analytics.reports import Reports
from needtoknow.analytics.spec import parse_spec
from needtoknow.vault import Vault
from tests.customers import ASHA, RAVI

SPEC = {
    "name": "pages",
    "measure": "count",
    "by": ["page"],
    "window": {"from": "2026-11-01", "to": "2026-11-30"},
    "keys": {"page": ["/vps"]},
    "bounds": {"max_partitions": 1, "max_per_partition": 100},
    "privacy": {"epsilon": 1.0},
}


def test_only_consenting_customers_events_count_where_the_policy_says_so(
    vault: Vault, tmp_path: Path
) -> None:
    asha, ravi = vault.add(ASHA).customer_id, vault.add(RAVI).customer_id
    vault.consents.grant(ravi, "personalised_advertising", "app", "ads toggle 3")
    store = EventStore(tmp_path / "events", vault.keys, consented=vault.consents.standing)
    views = [
        {"kind": "page_view", "day": "2026-11-05", "customer_id": cid, "page": "/vps"}
        for cid in (asha, ravi)
        for _ in range(40)
    ]
    store.ingest(views)
    vault.consents.withdraw(ravi, "personalised_advertising")
    store.ingest(views[40:])  # after the withdrawal: not counted
    spec = parse_spec(SPEC)
    assert store.bound(spec, 1).counts == [120]  # every event, for plain aggregates
    assert store.bound(replace(spec, consent="personalised_advertising"), 1).counts == [40]
    reports = Reports(vault.scope, store)
    personalised = reports.run(spec, "ad_network", "personalised_advertising")
    assert abs(personalised.rows[0]["count"] - 40) < 1000  # scale 100: e^-10 to miss
    assert personalised.remaining["2026-11"][0] == 1.0  # its own rule's budget: 2 - 1
    assert "asha" not in str(store.query("SELECT * FROM events")).lower()
