"""The policy's vocabulary as immutable data: purposes, recipients, agreements, rules."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

RECIPIENT_KINDS = frozenset(
    {
        "internal_team",
        "affiliate",
        "contractor",
        "subcontractor",
        "bank",
        "credit_bureau",
        "clearing_network",
        "authority",
        "advertiser",
        "data_principal",  # the customer themselves (a copy on an access request)
    }
)
# Kinds the seed policy binds by written agreement to the purposes they serve.
BOUND_KINDS = frozenset({"contractor", "subcontractor"})
# Kinds served only one way whatever a rule grants them: a read or lookup outside that
# way is denied with this reason (needtoknow.vault.access), and explain says so.
ONLY_THROUGH: Mapping[str, str] = {
    "authority": (
        "an authority receives customer data only through an approved legal disclosure "
        "request (ntk disclosure request), never by a direct read or lookup"
    ),
    "data_principal": (
        "the customer's own data is read as the customer only to answer their verified "
        "access request (ntk request fulfil --copy-key), and looked up only to start their "
        "session"
    ),
}

# An agreement id: a letter or digit, then letters, digits, '.', '_', ':' or '-', at most
# 100 in all (the id columns' width). It appears in decisions, denials and ledger
# entries, so no control character, space or other look-alike gets in.
AGREEMENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")
AGREEMENT_ID_RULE = "a letter or digit, then up to 99 letters, digits, '.', '_', ':' or '-'"


@dataclass(frozen=True)
class LegalGround:
    """A ground the DPDP Act 2023 gives for processing: its section, and its name in
    the notice's languages (the notice prints both)."""

    section: str
    en: str
    hi: str


# The Act's grounds, and nothing else (s.4): consent (s.6), the legitimate uses of s.7,
# and the exemptions of s.17(1); ``none`` marks a purpose never served (sale, rental).
# There is no "contract" or "legitimate interest" ground in the Act.
LEGAL_GROUNDS: Mapping[str, LegalGround] = {
    "consent": LegalGround("s.6", "your consent", "आपकी सहमति"),
    "voluntarily_provided": LegalGround(
        "s.7(a)",
        "the purpose you gave it to us for",
        "वह उद्देश्य जिसके लिए आपने इसे स्वेच्छा से दिया",
    ),
    "state_benefit": LegalGround(
        "s.7(b)", "a subsidy, benefit or licence from the State", "राज्य से सब्सिडी, लाभ या लाइसेंस"
    ),
    "state_function": LegalGround(
        "s.7(c)", "a function of the State under law", "कानून के अधीन राज्य का कोई कार्य"
    ),
    "legal_obligation": LegalGround(
        "s.7(d)",
        "an obligation under law to disclose information to the State",
        "राज्य को जानकारी देने का कानूनी दायित्व",
    ),
    "court_order": LegalGround(
        "s.7(e)",
        "complying with a judgment, decree or order",
        "किसी निर्णय, डिक्री या आदेश का पालन",
    ),
    "medical_emergency": LegalGround("s.7(f)", "a medical emergency", "चिकित्सा आपातस्थिति"),
    "epidemic": LegalGround(
        "s.7(g)", "health services during an epidemic", "महामारी में स्वास्थ्य सेवाएँ"
    ),
    "disaster": LegalGround(
        "s.7(h)",
        "safety during a disaster or breakdown of public order",
        "आपदा या लोक व्यवस्था भंग होने पर सुरक्षा",
    ),
    "employment": LegalGround("s.7(i)", "employment", "रोज़गार"),
    "legal_claims": LegalGround(
        "s.17(1)(a)", "enforcing a legal right or claim", "किसी कानूनी अधिकार या दावे को लागू करना"
    ),
    "judicial_function": LegalGround(
        "s.17(1)(b)",
        "a court's or regulator's function",
        "किसी न्यायालय या नियामक का कार्य",
    ),
    "offence_investigation": LegalGround(
        "s.17(1)(c)",
        "preventing, detecting, investigating or prosecuting an offence",
        "किसी अपराध की रोकथाम, पता लगाना, जाँच या अभियोजन",
    ),
    "foreign_contract": LegalGround(
        "s.17(1)(d)",
        "a contract with a person outside India, about people outside India",
        "भारत से बाहर के व्यक्तियों के बारे में भारत से बाहर के व्यक्ति से अनुबंध",
    ),
    "merger_scheme": LegalGround(
        "s.17(1)(e)",
        "an approved merger or arrangement of companies",
        "कंपनियों का स्वीकृत विलय या व्यवस्था",
    ),
    "loan_default": LegalGround(
        "s.17(1)(f)",
        "the finances of a defaulter on a loan from a financial institution",
        "किसी वित्तीय संस्था के ऋण के चूककर्ता की वित्तीय जानकारी",
    ),
    "none": LegalGround("—", "none: never done", "कोई नहीं: कभी नहीं किया जाता"),
}
LEGAL_BASES = frozenset(LEGAL_GROUNDS)

# The rights a customer exercises by request (DPDP Act ss.11-14), each answered within
# the policy's published period (settings.response_days), never later than 90 days
# (DPDP Rules 2025, Rule 14(3)); 30 by default, as SPDI Rules 2011 r.5(9) require of
# grievances today.
RIGHT_KINDS = ("access", "correction", "erasure", "nomination", "grievance")
RESPONSE_DAYS_DEFAULT = 30
RESPONSE_DAYS_MAX = 90

OBLIGATIONS = frozenset({"log", "require_legal_reference", "require_case_id", "notify_customer"})

# What each transform reveals at least as much as: a partial order, not a ranking. A token
# is a stable pseudonym (it links records), so it is only "less" than the full value.
COVERS: dict[str, frozenset[str]] = {
    "full": frozenset({"full", "masked", "last4", "year_only", "city_only", "token"}),
    "masked": frozenset({"masked", "last4"}),
    "last4": frozenset({"last4"}),
    "year_only": frozenset({"year_only"}),
    "city_only": frozenset({"city_only"}),
    "token": frozenset({"token"}),
}


RETENTION_UNITS = {"day": 1.0, "month": 365.25 / 12, "year": 365.25}  # days, for comparing


@dataclass(frozen=True)
class Retention:
    """How long data collected for a purpose is kept after the customer's account closes
    (DPDP Act s.8(7): erased once the purpose is no longer served, unless a law says to
    keep it — e.g. 8 years of tax records, 5 years of KYC under the CERT-In Directions)."""

    count: int
    unit: str  # day | month | year

    def days(self) -> tuple[int, int]:
        """The fewest and the most days it can span on the calendar."""
        low, high = {"day": (1, 1), "month": (28, 31), "year": (365, 366)}[self.unit]
        return self.count * low, self.count * high

    def exceeds(self, other: Retention) -> bool:
        """Longer than ``other`` (12 months are a year; a month is a twelfth of 365.25 days)."""
        return self.count * RETENTION_UNITS[self.unit] > other.count * RETENTION_UNITS[other.unit]

    def __str__(self) -> str:
        return f"{self.count} {self.unit}{'' if self.count == 1 else 's'}"


@dataclass(frozen=True)
class Purpose:
    """Why data is used. ``collects`` is what the purpose needs collected: no category
    is stored unless some purpose of the active policy collects it."""

    name: str
    legal_basis: str
    description: str = ""
    collects: frozenset[str] = frozenset()
    # The description in other languages, for the notice (language code → text).
    translations: Mapping[str, str] = field(default_factory=dict)
    # None: no limit stated, so compared as the longest (stating one narrows the policy)
    retention: Retention | None = None
    # Tracking, behavioural monitoring or advertising directed at the person (marketing,
    # third parties' offers): never done to a child, whatever the rules say (DPDP Act
    # s.9(3)); a third party's tracker or an advertiser serves only such a purpose.
    tracking: bool = False


# The purposes held data may still be read for: the law's, never the company's own.
HOLD_BASES = frozenset({"legal_obligation", "court_order", "legal_claims", "offence_investigation"})


@dataclass(frozen=True)
class StatutoryHold:
    """Data a law requires kept after the account closes, whatever the purposes that
    collected it say — CERT-In's subscriber records of VPS customers (5 years), tax
    invoices (8 years). Past its purposes' retention the data is *held*: kept, and
    readable only for ``readable_for`` (legal process, investigations), never again
    for what it was collected for."""

    name: str
    basis: str  # the law, cited: it is shown with every category kept under it
    categories: frozenset[str]
    kept: Retention  # after the account closes (or the erasure, for an open account)
    readable_for: tuple[str, ...]
    services: frozenset[str] = frozenset()  # empty: every customer; else those holding one


@dataclass(frozen=True)
class Recipient:
    name: str
    kind: str
    parent: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Agreement:
    """Binds a contractor (or sub-contractor) to purposes for a period; if
    ``customer_scoped``, only for the customers assigned to it."""

    id: str
    recipient: str
    purposes: frozenset[str]
    expires: date
    starts: date = date.min
    reference: str = ""
    customer_scoped: bool = False

    def in_force(self, day: date) -> bool:
        return self.starts <= day <= self.expires


@dataclass(frozen=True)
class Rule:
    id: str
    recipients: tuple[str, ...]
    purposes: tuple[str, ...]
    grants: Mapping[str, str]
    obligations: frozenset[str]
    clause: str
    line: int | None = None


USAGE_FORMS = frozenset({"raw", "aggregate"})


TRACKER_KINDS = ("cookie", "web_beacon", "local_storage", "sdk")
TRACKER_PARTIES = ("first", "third")


@dataclass(frozen=True)
class Tracker:
    """A cookie, web beacon or other technology the site uses to follow a visit (the
    seed: "third parties may use cookies and web beacons"), listed in the notice with
    whose it is and what for (DPDP Rules r.3). A third party's serves a purpose based on
    consent only: nobody else follows a person who has not agreed."""

    name: str
    kind: str
    party: str
    purpose: str


@dataclass(frozen=True)
class ConsentManager:
    """A consent manager registered with the Board (DPDP Act s.6(7)-(9), Rules r.4):
    consents given or withdrawn through it arrive as events it signs with this key."""

    name: str
    registration: str
    public_key: bytes  # Ed25519, 32 bytes
    description: str = ""


@dataclass(frozen=True)
class WrittenConsent:
    """Categories a law lets the company collect only with the person's consent in
    writing (electronic included), given before collection — the SPDI Rules 2011 r.5(1)
    for sensitive data (r.3: financial and biometric information) — until ``until``,
    when the law stops applying (the DPDP Act replaces these Rules on 13 May 2027)."""

    law: str
    categories: frozenset[str]
    until: date

    def needed(self, categories: frozenset[str] | set[str], today: date) -> frozenset[str]:
        """Those of ``categories`` that need the consent in writing on ``today``."""
        return frozenset(categories) & self.categories if today < self.until else frozenset()


@dataclass(frozen=True)
class AgeVerifier:
    """A provider that verifies a parent is an adult (DPDP Rules r.10: a virtual token
    from a DigiLocker-type service): it signs a token with this key, which is recorded
    as the evidence of a parent's consent — never the document it checked."""

    name: str
    public_key: bytes  # Ed25519, 32 bytes
    description: str = ""


@dataclass(frozen=True)
class UsageRule:
    """Who may have non-personal usage data (pseudonymous events), for what, in which
    form: ``raw`` events, or only ``aggregate`` reports under differential privacy with
    a budget of (ε, δ) per month of data."""

    id: str
    recipients: tuple[str, ...]
    purposes: tuple[str, ...]
    form: str
    epsilon: float = 0.0
    delta: float = 0.0
    clause: str = ""
    line: int | None = None
    # Only events of customers whose consent to this purpose stood when they came in.
    requires_consent: str | None = None


@dataclass(frozen=True)
class Policy:
    """A loaded, checked policy. ``version`` is the SHA-256 of its canonical form."""

    name: str
    version: str
    source: str
    purposes: Mapping[str, Purpose]
    recipients: Mapping[str, Recipient]
    agreements: tuple[Agreement, ...]
    rules: tuple[Rule, ...]
    prohibited_purposes: frozenset[str]
    extra_categories: Mapping[str, Mapping[str, object]]
    store_full_card_numbers: bool = False
    # False for a policy no purpose of which says what it `collects`: it collects
    # everything, as policies did before collection was limited (see policy.load).
    collection_declared: bool = True
    usage: tuple[UsageRule, ...] = ()
    # How long a material change is posted before it may take effect (seed: "prominently
    # post such changes prior to implementing the change").
    notice_period_days: int = 30
    grievance_contact: str = ""  # who hears grievances (DPDP Act s.8(10)), for the notice
    holds: Mapping[str, StatutoryHold] = field(default_factory=dict)
    services: frozenset[str] = frozenset()  # the company's service lines (settings.services)
    # How long a recipient has to confirm it erased its copy (an erasure instruction).
    erasure_ack_days: int = 15
    # Days to answer each kind of rights request (settings.response_days).
    response_days: Mapping[str, int] = field(
        default_factory=lambda: dict.fromkeys(RIGHT_KINDS, RESPONSE_DAYS_DEFAULT)
    )
    # How a customer exercises the rights and identifies themselves (Rule 14(1)).
    rights_how: str = ""
    rights_identifier: str = ""
    consent_managers: Mapping[str, ConsentManager] = field(default_factory=dict)
    trackers: Mapping[str, Tracker] = field(default_factory=dict)
    age_verifiers: Mapping[str, AgeVerifier] = field(default_factory=dict)
    written_consent: WrittenConsent | None = None

    @cached_property
    def tracking_purposes(self) -> frozenset[str]:
        """The purposes never served for a child (s.9(3))."""
        return frozenset(name for name, p in self.purposes.items() if p.tracking)

    def collectors(self, category: str) -> tuple[str, ...]:
        """The purposes that collect ``category``, in name order (none: it may not be
        stored)."""
        return self._collectors.get(category, ())

    def periods(self, category: str) -> tuple[Retention, ...] | None:
        """The ``retention`` periods of the purposes that collect ``category`` that can
        end last — a period surely outlasted by another on any calendar (180 days by a
        year) is left out — or None: one of them states none, so it is kept until one is."""
        return self._periods.get(category, ())

    @cached_property
    def _periods(self) -> Mapping[str, tuple[Retention, ...] | None]:
        found: dict[str, tuple[Retention, ...] | None] = {}
        for category, names in self._collectors.items():
            stated = [self.purposes[n].retention for n in names]
            if None in stated:
                found[category] = None
                continue
            periods = [p for p in dict.fromkeys(stated) if p is not None]
            found[category] = tuple(
                p
                for p in periods
                if not any(q is not p and q.days()[0] >= p.days()[1] for q in periods)
            )
        return found

    @cached_property
    def _collectors(self) -> Mapping[str, tuple[str, ...]]:
        """Category → the purposes collecting it, worked out once per policy (a retention
        run asks for every category of every customer it plans)."""
        found: dict[str, list[str]] = {}
        for name, purpose in sorted(self.purposes.items()):
            if name not in self.prohibited_purposes:
                for category in purpose.collects:
                    found.setdefault(category, []).append(name)
        return {category: tuple(names) for category, names in found.items()}

    def consent_to_collect(self, category: str) -> list[str]:
        """The consent-based purposes ``category`` is collected for, when only such
        purposes collect it: it may then be held only while the customer's consent to
        one of them stands (DPDP Act s.6(6)). Empty when another basis collects it."""
        return list(self._consent_only.get(category, ()))

    @cached_property
    def _consent_only(self) -> Mapping[str, tuple[str, ...]]:
        return {
            category: names
            for category, names in self._collectors.items()
            if all(self.purposes[p].legal_basis == "consent" for p in names)
        }

    def collected(self) -> dict[str, list[str]]:
        """Every category some purpose collects → those purposes."""
        names = {c for purpose in self.purposes.values() for c in purpose.collects}
        return {c: list(found) for c in sorted(names) if (found := self.collectors(c))}
