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


def test_a_tracker_changed_widens_only_when_it_reaches_further() -> None:
    """Another purpose, or the company's own tracker handed to a third party, widens;
    a change of kind alone does not."""
    before, _ = load_policy_text(DEMO, "p.yaml")
    kind_only = DEMO.replace(
        "usage_beacon: {kind: web_beacon, party: first", "usage_beacon: {kind: sdk, party: first"
    )
    after, _ = load_policy_text(kind_only, "p.yaml")
    changed = diff(before, after)
    assert [c.kind for c in changed] == ["tracker_changed"] and not is_material(changed)
    given_away = DEMO.replace(
        "ad_network_pixel: {kind: web_beacon, party: third",
        "ad_network_pixel: {kind: web_beacon, party: first",
    )
    first, _ = load_policy_text(given_away, "p.yaml")
    assert not is_material(diff(before, first)) and is_material(diff(first, before))


def test_registering_a_consent_manager_or_changing_its_key_is_material() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    def key() -> str:
        public = Ed25519PrivateKey.generate().public_key()
        return public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()

    def with_manager(public: str, description: str = "registered") -> str:
        return DEMO + (
            "\nconsent_managers:\n  consentra:\n    registration: CM-2026-0001\n"
            f"    public_key: {public}\n    description: {description}\n"
        )

    plain, _ = load_policy_text(DEMO, "p.yaml")
    first_key = key()
    managed, _ = load_policy_text(with_manager(first_key), "p.yaml")
    added = diff(plain, managed)
    assert [c.kind for c in added] == ["consent_manager_added"] and is_material(added)
    assert not is_material(diff(managed, plain))  # removed
    rekeyed, _ = load_policy_text(with_manager(key()), "p.yaml")
    assert is_material(diff(managed, rekeyed))
    reworded, _ = load_policy_text(with_manager(first_key, "renamed"), "p.yaml")
    assert [c.kind for c in diff(managed, reworded)] == ["consent_manager_changed"]
    assert not is_material(diff(managed, reworded))
