"""Policy versions: a material change is posted and cannot take effect before its notice
period ends; a narrowing one may apply at once; every process switches at its next
decision; decisions can be replayed under the version active at a moment. The clock is
moved by hand: nothing sleeps."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from needtoknow.config import Settings, open_vault
from needtoknow.errors import NotFound, NoticePending, ValidationError
from needtoknow.storage.schema import ledger_entries, policies
from needtoknow.types import Context
from needtoknow.vault import Vault
from tests.conftest import Clock, Ntk

TEXT = (Path(__file__).parents[1] / "policies" / "nextraone.yaml").read_text("utf-8")
SUPPORT = "address: city_only, digital_identity: full}"
WIDER = TEXT.replace(SUPPORT, "address: full, digital_identity: full}")
NARROWER = TEXT.replace("telephone: full, " + SUPPORT, SUPPORT)


def address(vault: Vault) -> str | None:
    decision = vault.engine.decide(
        "support_team", "service_delivery", ["address"], Context(now=vault.clock())
    )
    grant = decision.allowed.get("address")
    return grant.transform if grant else None


def policy_changes(vault: Vault) -> list[dict[str, Any]]:
    with vault.db.connect() as conn:
        rows = conn.execute(sa.select(ledger_entries.c.entry).order_by(ledger_entries.c.idx))
        entries = [json.loads(bytes(row.entry)) for row in rows]
    return [e["detail"] for e in entries if e["kind"] == "policy_change"]


def test_a_widening_waits_for_its_notice_period(vault: Vault, clock: Clock) -> None:
    versions = vault.versions
    posted = versions.propose(WIDER, "wider.yaml")
    assert posted.material and not posted.active
    assert posted.effective_at == clock.now + timedelta(days=30)
    assert [c["kind"] for c in posted.changes] == ["transform_widened"]
    clock.now += timedelta(days=30) - timedelta(seconds=1)
    with pytest.raises(NoticePending) as refused:
        versions.activate(posted.version)
    assert refused.value.effective_at == posted.effective_at
    assert address(vault) == "city_only"  # still the old rules
    clock.now += timedelta(seconds=1)
    versions.activate(posted.version)
    assert vault.policy.version == posted.version and address(vault) == "full"
    changes = [d["change"] for d in policy_changes(vault)]
    assert changes == ["initial", "posted", "activation_refused", "activated"]


def test_a_narrowing_applies_at_once_and_reaches_other_processes(
    vault: Vault, settings: Settings, clock: Clock
) -> None:
    other = open_vault(settings, clock=clock)  # another process, already running
    try:
        assert other.engine.decide(
            "support_team", "service_delivery", ["telephone"], Context(now=clock.now)
        ).allowed
        posted = vault.versions.propose(NARROWER)
        assert not posted.material and posted.effective_at == clock.now
        vault.versions.activate(posted.version)
        decision = other.engine.decide(
            "support_team", "service_delivery", ["telephone"], Context(now=clock.now)
        )
        assert not decision.allowed and decision.policy_version == posted.version
    finally:
        other.close()


def test_proposals_are_judged_against_what_another_process_activated(
    vault: Vault, settings: Settings, clock: Clock
) -> None:
    other = open_vault(settings, clock=clock)
    try:
        versions = other.versions
        versions.activate(versions.propose(NARROWER).version)
        # this vault has made no decision since: it must not judge against its old copy
        with pytest.raises(ValidationError, match="unchanged"):
            vault.versions.propose(NARROWER)
    finally:
        other.close()


def test_decisions_replay_under_the_version_active_then(vault: Vault, clock: Clock) -> None:
    versions = vault.versions
    before = clock.now
    posted = versions.propose(WIDER)
    clock.now += timedelta(days=31)
    versions.activate(posted.version)
    old = versions.engine_at(before + timedelta(days=1))
    new = versions.engine_at(clock.now)
    ask = ("support_team", "service_delivery", ["address"])
    assert old.decide(*ask, Context(now=clock.now)).allowed["address"].transform == "city_only"
    assert new.decide(*ask, Context(now=clock.now)).allowed["address"].transform == "full"
    with pytest.raises(NotFound):
        versions.at(before - timedelta(days=1))
    history = versions.history()
    assert [v.active for v in history] == [False, True]
    assert history[0].retired_at == history[1].activated_at == clock.now


def test_proposals_are_checked_and_idempotent(vault: Vault) -> None:
    versions = vault.versions
    with pytest.raises(ValidationError, match="unchanged"):
        versions.propose(TEXT)
    first = versions.propose(WIDER)
    assert versions.propose(WIDER) == first
    assert [d["change"] for d in policy_changes(vault)] == ["initial", "posted"]
    with pytest.raises(NotFound):
        versions.activate("0" * 64)


def test_ntk_policy_propose_and_activate(ntk: Ntk, tmp_path: Path) -> None:
    (tmp_path / "wider.yaml").write_text(WIDER)
    (tmp_path / "narrower.yaml").write_text(NARROWER)
    posted = ntk.json("policy", "propose", str(tmp_path / "wider.yaml"), "--json")
    assert posted["material"] is True and set(posted) >= {"version", "changes", "effective_at"}
    refused = ntk("policy", "activate", posted["version"], "--json", expect=12)
    assert json.loads(refused.stderr)["effective_at"] == posted["effective_at"]
    notice = ntk("notice", "render", "--version", posted["version"]).stdout
    assert "## What changed" in notice and "[widens] transform widened" in notice
    page = tmp_path / "notice.html"
    ntk("notice", "render", "--lang", "hi", "--html", "--out", str(page))
    assert page.read_text("utf-8").startswith('<!doctype html><html lang="hi">')
    narrow = ntk.json("policy", "propose", str(tmp_path / "narrower.yaml"), "--json")
    assert narrow["material"] is False
    ntk("policy", "activate", narrow["version"][:8])  # a unique prefix, as git takes
    listed = ntk.json("policy", "versions", "--json")
    assert [v["active"] for v in listed] == [False, False, True]


def test_shortening_the_notice_period_is_material_and_the_longer_period_applies(
    vault: Vault, clock: Clock
) -> None:
    """Review finding: `notice_period_days: 0` was not compared, activated at once, and
    the next widening then took effect immediately."""
    versions = vault.versions
    zero = TEXT.replace("notice_period_days: 30", "notice_period_days: 0")
    posted = versions.propose(zero)
    assert posted.material and posted.effective_at == clock.now + timedelta(days=30)
    assert [c["kind"] for c in posted.changes] == ["notice_period_shortened"]
    with pytest.raises(NoticePending):
        versions.activate(posted.version)
    longer = TEXT.replace("notice_period_days: 30", "notice_period_days: 60")
    assert not versions.propose(longer).material  # a longer period narrows
    # Widening and lengthening together: the longer (proposed) period applies.
    both = versions.propose(WIDER.replace("notice_period_days: 30", "notice_period_days: 45"))
    assert both.effective_at == clock.now + timedelta(days=45)


def test_rewording_a_purpose_that_uses_data_is_a_material_change(vault: Vault) -> None:
    """Review finding: rewording service improvement as "train models licensed to
    partners" produced no change at all."""
    versions = vault.versions
    reworded = TEXT.replace(
        "en: Enhance the experience of the services from usage data",
        "en: Train models licensed to partners",
    )
    posted = versions.propose(reworded)
    assert posted.material
    assert [(c["kind"], c["purpose"]) for c in posted.changes] == [
        ("description_changed", "service_improvement")
    ]
    contact = TEXT.replace("grievance@nextraone.example", "complaints@nextraone.example")
    moved = versions.propose(contact)
    assert not moved.material and moved.changes[0]["kind"] == "grievance_contact_changed"


def test_a_version_posted_against_another_policy_must_be_posted_again(
    vault: Vault, clock: Clock
) -> None:
    """Review finding: after a narrowing, activating an older posted version re-widened
    access while the notice customers received described a different change."""
    versions = vault.versions
    wider = versions.propose(WIDER)  # support: address city_only → full (posted)
    versions.activate(versions.propose(NARROWER).version)  # support loses telephone
    clock.now += timedelta(days=31)
    with pytest.raises(NoticePending, match="propose it again"):
        versions.activate(wider.version)  # would also give telephone back, unannounced
    assert address(vault) == "city_only"
    again = versions.propose(WIDER)
    assert again.version == wider.version and again.effective_at == clock.now + timedelta(days=30)
    kinds = {(c["kind"], c.get("category")) for c in again.changes}
    assert ("grant_added", "telephone") in kinds
    assert [d["change"] for d in policy_changes(vault)][-1] == "reposted"
    clock.now += timedelta(days=30)
    versions.activate(wider.version)
    assert address(vault) == "full"


def test_a_version_prefix_names_one_version_or_is_refused(vault: Vault) -> None:
    from needtoknow.records.versions import resolve

    active = vault.policy.version
    with vault.db.connect() as conn:
        assert resolve(conn, active[:6]) == active
        assert resolve(conn, "not-hex") == "not-hex"  # found by no one: NotFound later
        row = dict(conn.execute(sa.select(policies)).mappings().first() or {})
    with vault.db.begin() as conn:
        for twin in ("abcd" + "1" * 60, "abcd" + "2" * 60):
            conn.execute(policies.insert().values({**row, "version": twin, "active": False}))
    with vault.db.connect() as conn, pytest.raises(ValidationError, match="ambiguous_prefix"):
        resolve(conn, "abcd")
    with pytest.raises(NotFound):
        vault.versions.activate("fedc0000")
