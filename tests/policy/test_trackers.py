"""Trackers (cookies, web beacons) in the policy and the notice (DPDP Rules r.3; the
seed's third parties' cookies and web beacons): each names whose it is and what for, a
third party's serves only a purpose based on consent, the notice lists them in English
and Hindi, and adding one is a material change."""

from __future__ import annotations

import pytest

from needtoknow.config import demo_policy_text
from needtoknow.errors import PolicyError
from needtoknow.policy import load_policy_text
from needtoknow.policy.diff import diff, is_material
from needtoknow.policy.notice import render

DEMO = demo_policy_text()


def test_the_demo_policy_lists_its_trackers_in_the_notice_in_both_languages() -> None:
    policy, registry = load_policy_text(DEMO, "nextraone.yaml")
    assert policy.trackers["ad_network_pixel"].party == "third"
    english = render(policy, registry, "en").markdown()
    assert "## Cookies, web beacons and other trackers" in english
    assert "ad network pixel — web beacon, a third party's, used only while you consent" in english
    hindi = render(policy, registry, "hi").markdown()
    assert "कुकीज़, वेब बीकन और अन्य ट्रैकर" in hindi and "वेब बीकन" in hindi


def test_a_third_partys_tracker_needs_a_purpose_based_on_consent() -> None:
    wrong = DEMO.replace(
        "usage_beacon: {kind: web_beacon, party: first",
        "usage_beacon: {kind: web_beacon, party: third",
    )
    with pytest.raises(PolicyError, match="based on consent"):
        load_policy_text(wrong, "p.yaml")
    with pytest.raises(PolicyError, match="web_beacon"):  # the valid kinds are named
        load_policy_text(DEMO.replace("kind: cookie", "kind: biscuit"), "p.yaml")


def test_adding_a_tracker_is_material_and_removing_one_is_not() -> None:
    before, _ = load_policy_text(DEMO, "p.yaml")
    more = DEMO + "  chat_widget: {kind: sdk, party: third, purpose: marketing_contact}\n"
    after, _ = load_policy_text(more, "p.yaml")
    added = diff(before, after)
    assert [c.kind for c in added] == ["tracker_added"] and is_material(added)
    removed = diff(after, before)
    assert [c.kind for c in removed] == ["tracker_removed"] and not is_material(removed)
