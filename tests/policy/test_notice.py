"""The privacy notice is rendered from the policy, so it cannot drift from what the code
enforces: everything the policy lets anyone have appears in it, in English and Hindi,
and a new version's notice says what widened."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from needtoknow.errors import PolicyError
from needtoknow.policy import Engine, load_policy_text
from needtoknow.policy.diff import diff
from needtoknow.policy.notice import TERMS, render

TEXT = (Path(__file__).parents[2] / "policies" / "nextraone.yaml").read_text("utf-8")
POLICY, REGISTRY = load_policy_text(TEXT)


@pytest.mark.parametrize("language", ["en", "hi"])
def test_every_category_purpose_and_recipient_kind_allowed_is_in_the_notice(
    language: str,
) -> None:
    text = render(POLICY, REGISTRY, language).markdown()
    served = Engine(POLICY, ()).served()
    terms = TERMS[language]
    held = text.split("\n## ")[1]  # what we collect, each with the purposes it is for
    for category, purposes in POLICY.collected().items():
        line = next(
            x for x in held.splitlines() if terms.get(category, REGISTRY[category].label) in x
        )
        assert all(p.replace("_", " ") in line for p in purposes), line
    for category in set(REGISTRY) - set(POLICY.collected()):  # never held, so never shared
        assert terms.get(category, REGISTRY[category].label) not in text, category
    for name, purpose in POLICY.purposes.items():
        assert name.replace("_", " ") in text
        if name in POLICY.prohibited_purposes:  # named only as never done
            continue
        assert purpose.translations.get(language, purpose.description) in text
        assert terms.get(purpose.legal_basis, purpose.legal_basis) in text
    kinds = {POLICY.recipients[r].kind for (r, _), (grants, _) in served.items() if grants}
    kinds |= {POLICY.recipients[r].kind for rule in POLICY.usage for r in rule.recipients}
    for kind in kinds:
        assert terms.get(kind, kind) in text, kind
    assert POLICY.grievance_contact and POLICY.grievance_contact in text
    assert "ε = 4" in text


def test_a_widening_shows_in_the_next_notices_what_changed() -> None:
    wider_text = TEXT.replace(
        "address: city_only, digital_identity", "address: full, digital_identity"
    )
    wider, registry = load_policy_text(wider_text)
    changes = [c.to_json() for c in diff(POLICY, wider)]
    english = render(wider, registry, "en", changes).markdown()
    section = english.split("## What changed", 1)[1]
    assert "[widens] transform widened — support team, service delivery, Postal address" in section
    assert "city_only → full" in section
    hindi = render(wider, registry, "hi", changes).markdown()
    assert "## क्या बदला" in hindi and "[बढ़ाता है]" in hindi and "डाक पता" in hindi


def test_the_html_notice_is_well_formed_and_escaped() -> None:
    page = render(POLICY, REGISTRY, "hi").html()
    assert page.startswith('<!doctype html><html lang="hi">')
    opened: list[str] = []

    class Check(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            assert tag not in ("script", "img", "link")
            if tag not in ("meta",):
                opened.append(tag)

        def handle_endtag(self, tag: str) -> None:
            assert opened.pop() == tag

    Check().feed(page)
    assert opened == []


def test_a_purpose_is_described_in_the_notices_language_when_the_policy_gives_it() -> None:
    assert POLICY.purposes["billing"].translations["hi"]  # the shipped policy has Hindi
    hindi = render(POLICY, REGISTRY, "hi").markdown()
    assert (
        "billing — सेवाओं का बिल बनाना और भुगतान लेना (कानूनी आधार: वह उद्देश्य जिसके लिए आपने "
        "इसे स्वेच्छा से दिया, DPDP अधिनियम धारा 7(a);" in hindi
    )
    english_only = TEXT.replace(
        'description: {en: Invoice and charge for services, hi: "सेवाओं का बिल बनाना और भुगतान लेना"}',
        "description: Invoice and charge for services",
    )
    policy, registry = load_policy_text(english_only)
    assert "billing — Invoice and charge for services" in render(policy, registry, "hi").markdown()


@pytest.mark.parametrize("description", ["{hi: बिल}", "{en: Bill, HI: बिल}", "{en: [Bill]}"])
def test_a_description_is_text_or_languages_including_english(description: str) -> None:
    text = (
        "name: t\npurposes:\n"
        f"  b: {{legal_basis: voluntarily_provided, description: {description}}}\n"
    )
    with pytest.raises(PolicyError, match="'description' is text, or language codes"):
        load_policy_text(text + "recipients: {}\nrules: []\n", "t.yaml")


def test_each_purpose_says_how_long_its_data_is_kept() -> None:
    english = render(POLICY, REGISTRY, "en").markdown()
    assert (
        "(legal basis: the purpose you gave it to us for, DPDP Act s.7(a); kept 180 days "
        "after your account closes)" in english
    )
    assert "kept 90 days after your account closes" in english
    hindi = render(POLICY, REGISTRY, "hi").markdown()
    assert "खाता बंद होने के बाद 1 वर्ष तक रखा जाता है" in hindi
    one, _ = load_policy_text(TEXT.replace("retention: 90 days", "retention: 1 month"))
    assert "धारा 7(a); खाता बंद होने के बाद 1 महीने तक" in render(one, REGISTRY, "hi").markdown()


@pytest.mark.parametrize(
    ("language", "within"), [("en", "(answered within {} days)"), ("hi", "({} दिनों के भीतर उत्तर)")]
)
def test_the_notice_lists_each_right_with_its_period_and_how(language: str, within: str) -> None:
    """DPDP Rules r.14: how to exercise each right, the identifier needed, the periods."""
    shorter, _ = load_policy_text(
        TEXT.replace("grievance: 30}", "grievance: 15}", 1).replace(
            "erasure: 30,", "erasure: 21,", 1
        )
    )
    text = render(shorter, REGISTRY, language).markdown()
    rights = text.split("\n## ")[-1]
    assert within.format(15) in rights and within.format(21) in rights
    assert shorter.rights_how in rights and shorter.rights_identifier in rights
    assert rights.count(within.format(30)) == 3  # access, correction, nomination
    with pytest.raises(PolicyError, match="at most 90 days"):
        load_policy_text(TEXT.replace("grievance: 30}", "grievance: 120}", 1))
    with pytest.raises(PolicyError, match="unknown request kind 'portability'"):
        load_policy_text(TEXT.replace("grievance: 30}", "grievance: 30, portability: 30}", 1))


def test_every_ground_of_the_act_is_named_with_its_section_in_both_languages() -> None:
    """Each legal basis the loader accepts is printed in the notice with the section of
    the Act it comes from, in English and Hindi."""
    from needtoknow.policy.model import LEGAL_GROUNDS

    for basis, ground in LEGAL_GROUNDS.items():
        if basis == "none":
            continue
        text = TEXT.replace(
            "credit_scoring: {legal_basis: consent", f"credit_scoring: {{legal_basis: {basis}"
        )
        policy, registry = load_policy_text(text)
        english = render(policy, registry, "en").markdown()
        assert f"{ground.en}, DPDP Act {ground.section}" in english, basis
        hindi = render(policy, registry, "hi").markdown()
        assert f"{ground.hi}, DPDP अधिनियम धारा {ground.section[2:]}" in hindi, basis
