"""The privacy notice, rendered from the policy itself — so it can never say something the
code does not enforce (DPDP Rules 2025, rule 3: an itemised notice in clear language, in
English or a language of the Eighth Schedule).

The notice lists what the policy lets anyone collect and have: every category some
purpose collects, and for which purposes; every purpose with its legal basis and how long
its data is kept; the kinds of recipients and what each receives it for; the usage data
advertisers get (aggregates only, under a privacy budget); the customer's rights and how
to exercise them; the grievance contact; and — for a new version — what changed. Fixed
text comes from one phrase table per language (English, Hindi); a purpose's description
comes from the policy in that language when it gives one (``description: {en: …, hi:
…}``); other names appear as the policy writes them.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from needtoknow.categories import Registry
from needtoknow.policy.engine import Engine
from needtoknow.policy.model import LEGAL_GROUNDS, Policy, Retention

LANGUAGES = ("en", "hi")

PHRASES: Mapping[str, Mapping[str, str]] = {
    "en": {
        "title": "Privacy notice",
        "version": "Policy {name}, version {version}.",
        "collect": "What personal data we hold",
        "collect_intro": "We collect only these kinds of personal data, each only for the "
        "purposes named, and use each only as set out below:",
        "collected_for": "{category} — collected for {purposes}",
        "purposes": "Why we use it",
        "basis": "legal basis",
        "kept": "kept {period} after your account closes",
        "day": "{n} day|{n} days",
        "month": "{n} month|{n} months",
        "year": "{n} year|{n} years",
        "never": "We never use personal data for: {names}. It is never sold or rented.",
        "recipients": "Who receives it",
        "receives": "{kind}: {categories} — for {purposes}",
        "usage": "Usage data and advertisers",
        "usage_text": "Pages viewed, links and advertisements clicked, searches and plans "
        "are stored without your identity. Advertisers receive them only as "
        "differentially private aggregates, within a privacy budget of ε = {epsilon} "
        "per month of data.",
        "rights": "Your rights",
        "rights_list": "Ask what personal data we hold about you and who received it|"
        "Ask us to correct or complete it|Ask us to erase it|"
        "Withdraw a consent at any time, as easily as you gave it|"
        "Nominate someone to exercise these rights for you|"
        "Raise a grievance with us, and then with the Data Protection Board of India",
        "grievance": "Grievances: {contact}.",
        "within": "{right} (answered within {days} days)",
        "how": "How to exercise them: {how}.",
        "identifier": "To identify yourself, give {identifier}; we send a one-time code to it.",
        "trackers": "Cookies, web beacons and other trackers",
        "trackers_intro": "These follow your visits to our sites, each for one purpose only:",
        "tracker": "{name} — {kind}, {party}: {purpose}",
        "first": "ours",
        "third": "a third party's, used only while you consent",
        "trackers_withdraw": "Withdrawing a consent stops the trackers that serve it.",
        "children": "Children",
        "children_text": "We keep the data of a child (under 18) only with the verifiable "
        "consent of a parent, who acts for the child on every right above (DPDP Act s.9).",
        "children_never": "We never track a child, monitor a child's behaviour or direct "
        "advertising at a child (s.9(3)). These purposes are never served for a child: "
        "{purposes}.",
        "changed": "What changed",
        "changed_none": "Nothing that widens what anyone may receive.",
        "widens": "widens",
        "narrows": "narrows",
    },
    "hi": {
        "title": "गोपनीयता सूचना",
        "version": "नीति {name}, संस्करण {version}।",
        "collect": "हम कौन-सा व्यक्तिगत डेटा रखते हैं",
        "collect_intro": "हम केवल इन प्रकार के व्यक्तिगत डेटा एकत्र करते हैं, हर एक केवल बताए गए "
        "उद्देश्यों के लिए, और हर एक का उपयोग केवल नीचे बताए अनुसार करते हैं:",
        "collected_for": "{category} — {purposes} के लिए एकत्र",
        "purposes": "हम इसका उपयोग क्यों करते हैं",
        "basis": "कानूनी आधार",
        "kept": "खाता बंद होने के बाद {period} तक रखा जाता है",
        "day": "{n} दिन|{n} दिन",
        "month": "{n} महीने|{n} महीने",  # oblique before तक
        "year": "{n} वर्ष|{n} वर्ष",
        "never": "हम व्यक्तिगत डेटा का उपयोग कभी नहीं करते: {names}। इसे कभी बेचा या किराए "
        "पर नहीं दिया जाता।",
        "recipients": "इसे कौन प्राप्त करता है",
        "receives": "{kind}: {categories} — {purposes} के लिए",
        "usage": "उपयोग डेटा और विज्ञापनदाता",
        "usage_text": "देखे गए पेज, क्लिक किए गए लिंक और विज्ञापन, खोजें और प्लान आपकी "
        "पहचान के बिना रखे जाते हैं। विज्ञापनदाताओं को ये केवल डिफरेंशियल प्राइवेसी वाले "
        "समग्र आँकड़ों के रूप में, हर महीने के डेटा पर ε = {epsilon} के गोपनीयता बजट के भीतर "
        "मिलते हैं।",
        "rights": "आपके अधिकार",
        "rights_list": "पूछें कि हम आपके बारे में कौन-सा व्यक्तिगत डेटा रखते हैं और इसे किसने "
        "प्राप्त किया|इसे सुधारने या पूरा करने के लिए कहें|इसे मिटाने के लिए कहें|"
        "किसी भी सहमति को कभी भी, उतनी ही आसानी से वापस लें जितनी आसानी से दी थी|"
        "अपनी ओर से इन अधिकारों का प्रयोग करने के लिए किसी को नामित करें|"
        "हमसे, और फिर भारतीय डेटा संरक्षण बोर्ड से शिकायत करें",
        "grievance": "शिकायतें: {contact}।",
        "within": "{right} ({days} दिनों के भीतर उत्तर)",
        "how": "इनका प्रयोग कैसे करें: {how}।",
        "identifier": "अपनी पहचान के लिए {identifier} दें; हम उस पर एक बार का कोड भेजते हैं।",
        "trackers": "कुकीज़, वेब बीकन और अन्य ट्रैकर",
        "trackers_intro": "ये हमारी साइटों पर आपके आने को ट्रैक करते हैं, हर एक केवल एक उद्देश्य के लिए:",
        "tracker": "{name} — {kind}, {party}: {purpose}",
        "first": "हमारा",
        "third": "किसी अन्य कंपनी का, केवल आपकी सहमति रहने तक उपयोग किया जाता है",
        "trackers_withdraw": "सहमति वापस लेने पर उससे जुड़े ट्रैकर बंद हो जाते हैं।",
        "children": "बच्चे",
        "children_text": "हम किसी बच्चे (18 वर्ष से कम) का डेटा केवल माता-पिता की सत्यापन-योग्य "
        "सहमति से रखते हैं, और ऊपर दिए हर अधिकार का प्रयोग बच्चे की ओर से माता-पिता करते हैं "
        "(DPDP अधिनियम धारा 9)।",
        "children_never": "हम कभी किसी बच्चे को ट्रैक नहीं करते, उसके व्यवहार की निगरानी नहीं करते और "
        "उसे लक्षित विज्ञापन नहीं दिखाते (धारा 9(3))। ये उद्देश्य किसी बच्चे के लिए कभी पूरे नहीं "
        "किए जाते: {purposes}।",
        "changed": "क्या बदला",
        "changed_none": "ऐसा कुछ नहीं जो किसी को मिलने वाले डेटा को बढ़ाए।",
        "widens": "बढ़ाता है",
        "narrows": "घटाता है",
    },
}

# Names the notice translates; anything else (a purpose's description, a deployment's
# own categories) appears as the policy writes it.
TERMS: Mapping[str, Mapping[str, str]] = {
    "hi": {
        "name": "नाम",
        "date_of_birth": "जन्म तिथि",
        "birthplace": "जन्म स्थान",
        "genetic_information": "आनुवंशिक जानकारी",
        "address": "डाक पता",
        "telephone": "टेलीफ़ोन नंबर",
        "email": "ईमेल पता",
        "bank_account": "बैंक खाता",
        "card_number": "भुगतान कार्ड",
        "identity_number": "पहचान संख्या",
        "vehicle_registration": "वाहन पंजीकरण संख्या",
        "driving_licence": "ड्राइविंग लाइसेंस संख्या",
        "photograph": "चेहरा/फ़ोटो",
        "digital_identity": "डिजिटल पहचान",
        "internal_team": "हमारी आंतरिक टीमें",
        "affiliate": "सहयोगी कंपनियाँ",
        "contractor": "ठेकेदार",
        "subcontractor": "उप-ठेकेदार",
        "bank": "बैंक",
        "credit_bureau": "क्रेडिट ब्यूरो",
        "clearing_network": "क्लियरिंग नेटवर्क",
        "authority": "सरकारी प्राधिकरण",
        "advertiser": "विज्ञापनदाता",
        "data_principal": "आप स्वयं (अनुरोध पर आपके अपने डेटा की प्रति)",
        "cookie": "कुकी",
        "web_beacon": "वेब बीकन",
        "local_storage": "ब्राउज़र में संग्रह",
        "sdk": "ऐप में लगा सॉफ़्टवेयर",
        **{
            name: ground.hi
            + ("" if name == "none" else f", DPDP अधिनियम धारा {ground.section[2:]}")
            for name, ground in LEGAL_GROUNDS.items()
        },
    },
    "en": {
        "internal_team": "our own teams",
        "affiliate": "affiliates",
        "contractor": "contractors",
        "subcontractor": "sub-contractors",
        "bank": "banks",
        "credit_bureau": "credit bureaus",
        "clearing_network": "clearing networks",
        "authority": "authorities",
        "advertiser": "advertisers",
        "data_principal": "you (a copy of your own data, when you ask)",
        **{
            name: ground.en + ("" if name == "none" else f", DPDP Act {ground.section}")
            for name, ground in LEGAL_GROUNDS.items()
        },
        "local_storage": "browser storage",
        "sdk": "software kit in our app",
    },
}


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)


@dataclass
class Notice:
    title: str
    sections: list[Section]
    language: str

    def markdown(self) -> str:
        lines = [f"# {self.title}", ""]
        for section in self.sections:
            lines += [f"## {section.heading}", ""]
            for paragraph in section.paragraphs:
                lines += [paragraph, ""]
            if section.items:
                lines += [f"- {item}" for item in section.items] + [""]
        return "\n".join(lines)

    def html(self) -> str:
        parts = [
            f'<!doctype html><html lang="{self.language}"><head><meta charset="utf-8">',
            f"<title>{html.escape(self.title)}</title></head><body>",
            f"<h1>{html.escape(self.title)}</h1>",
        ]
        for section in self.sections:
            parts.append(f"<section><h2>{html.escape(section.heading)}</h2>")
            parts += [f"<p>{html.escape(p)}</p>" for p in section.paragraphs]
            if section.items:
                listed = "".join(f"<li>{html.escape(item)}</li>" for item in section.items)
                parts.append(f"<ul>{listed}</ul>")
            parts.append("</section>")
        parts.append("</body></html>\n")
        return "".join(parts)


def render(
    policy: Policy,
    registry: Registry,
    language: str = "en",
    changes: Sequence[Mapping[str, Any]] | None = None,
) -> Notice:
    """The notice for ``policy``; with ``changes`` (policy.diff, as JSON) it says what
    changed from the version before."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    say = PHRASES[language]
    terms = TERMS[language]

    def term(name: str, fallback: str | None = None) -> str:
        return terms.get(name, fallback if fallback is not None else name.replace("_", " "))

    def category(name: str) -> str:
        return terms.get(name) or (registry[name].label if name in registry else name)

    collected = policy.collected()
    # What a recipient can receive is what it is granted of what is collected at all.
    served = {
        pair: ({c: t for c, t in grants.items() if c in collected}, duties)
        for pair, (grants, duties) in Engine(policy, ()).served().items()
    }
    held = [
        say["collected_for"].format(
            category=category(name), purposes=", ".join(p.replace("_", " ") for p in purposes)
        )
        for name, purposes in sorted(collected.items(), key=lambda item: category(item[0]))
    ]
    sections = [
        Section(say["collect"], [say["collect_intro"]], held),
        Section(
            say["purposes"],
            items=[
                f"{name.replace('_', ' ')} — {p.translations.get(language, p.description)} "
                f"({say['basis']}: {term(p.legal_basis)}{_kept(p.retention, say)})"
                for name, p in policy.purposes.items()
                if name not in policy.prohibited_purposes
            ],
            paragraphs=[say["never"].format(names=", ".join(sorted(policy.prohibited_purposes)))],
        ),
        Section(say["recipients"], items=_recipients(policy, served, term, category, say)),
    ]
    aggregate = [rule for rule in policy.usage if rule.form == "aggregate"]
    if aggregate:
        budget = max(rule.epsilon for rule in aggregate)
        sections.append(Section(say["usage"], [say["usage_text"].format(epsilon=f"{budget:g}")]))
    if policy.trackers:
        sections.append(_trackers(policy, language, say, term))
    sections.append(_children(policy, language, say))
    rights = Section(say["rights"], items=_rights(policy, say))
    if policy.rights_how:
        rights.paragraphs.append(say["how"].format(how=policy.rights_how))
    if policy.rights_identifier:
        rights.paragraphs.append(say["identifier"].format(identifier=policy.rights_identifier))
    if policy.grievance_contact:
        rights.paragraphs.append(say["grievance"].format(contact=policy.grievance_contact))
    sections.append(rights)
    if changes is not None:
        sections.append(Section(say["changed"], *_changes(changes, say, term, category)))
    title = f"{say['title']} — {policy.name}"
    version = say["version"].format(name=policy.name, version=policy.version[:12])
    sections[0].paragraphs.insert(0, version)
    return Notice(title, sections, language)


def _trackers(policy: Policy, language: str, say: Mapping[str, str], term: Any) -> Section:
    items = []
    for name, tracker in sorted(policy.trackers.items()):
        purpose = policy.purposes[tracker.purpose]
        items.append(
            say["tracker"].format(
                name=name.replace("_", " "),
                kind=term(tracker.kind),
                party=say[tracker.party],
                purpose=purpose.translations.get(language, purpose.description)
                or tracker.purpose.replace("_", " "),
            )
        )
    return Section(say["trackers"], [say["trackers_intro"], say["trackers_withdraw"]], items)


def _children(policy: Policy, language: str, say: Mapping[str, str]) -> Section:
    paragraphs = [say["children_text"]]
    if policy.tracking_purposes:
        names = [
            policy.purposes[p].translations.get(language, policy.purposes[p].description)
            or p.replace("_", " ")
            for p in sorted(policy.tracking_purposes)
        ]
        paragraphs.append(say["children_never"].format(purposes="; ".join(names)))
    return Section(say["children"], paragraphs)


def _kept(retention: Retention | None, say: Mapping[str, str]) -> str:
    if retention is None:
        return ""
    one, many = say[retention.unit].split("|")
    period = (one if retention.count == 1 else many).format(n=retention.count)
    return "; " + say["kept"].format(period=period)


# The rights in the order of ``rights_list``: each request kind is answered within the
# policy's published period; withdrawing a consent (None) takes effect at once.
_RIGHTS_ORDER = ("access", "correction", "erasure", None, "nomination", "grievance")


def _rights(policy: Policy, say: Mapping[str, str]) -> list[str]:
    return [
        text if kind is None else say["within"].format(right=text, days=policy.response_days[kind])
        for kind, text in zip(_RIGHTS_ORDER, say["rights_list"].split("|"), strict=True)
    ]


def _recipients(
    policy: Policy,
    served: Mapping[tuple[str, str], tuple[dict[str, str], frozenset[str]]],
    term: Any,
    category: Any,
    say: Mapping[str, str],
) -> list[str]:
    """One line per kind of recipient: what it may receive, for which purposes."""
    kinds: dict[str, tuple[set[str], set[str]]] = {}
    for (recipient, purpose), (grants, _) in served.items():
        if not grants:
            continue
        kind = policy.recipients[recipient].kind
        categories, purposes = kinds.setdefault(kind, (set(), set()))
        categories.update(grants)
        purposes.add(purpose)
    for rule in policy.usage:
        for recipient in rule.recipients:
            kind = policy.recipients[recipient].kind
            categories, purposes = kinds.setdefault(kind, (set(), set()))
            purposes.update(rule.purposes)
    return [
        say["receives"].format(
            kind=term(kind),
            categories=", ".join(sorted(category(c) for c in categories)) or say["usage"],
            purposes=", ".join(p.replace("_", " ") for p in sorted(purposes)),
        )
        for kind, (categories, purposes) in sorted(kinds.items())
    ]


def _changes(
    changes: Sequence[Mapping[str, Any]], say: Mapping[str, str], term: Any, category: Any
) -> tuple[list[str], list[str]]:
    if not any(c["widens"] for c in changes):
        return [say["changed_none"]], [_describe(c, say, term, category) for c in changes]
    return [], [_describe(c, say, term, category) for c in changes]


def _describe(change: Mapping[str, Any], say: Mapping[str, str], term: Any, category: Any) -> str:
    what = [
        str(change[k]).replace("_", " ") if k != "category" else category(change[k])
        for k in ("recipient", "purpose", "category")
        if k in change
    ]
    moved = ""
    if "before" in change or "after" in change:
        moved = f": {change.get('before', '—')} → {change.get('after', '—')}"
    direction = say["widens"] if change["widens"] else say["narrows"]
    return f"[{direction}] {change['kind'].replace('_', ' ')} — {', '.join(what)}{moved}"
