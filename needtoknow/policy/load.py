"""Load a YAML policy into a checked :class:`~needtoknow.policy.model.Policy`.

Every problem is a :class:`~needtoknow.errors.PolicyError` naming the file and line.
The promises the seed policy makes unconditionally are enforced here, so no policy
file can switch them off: PII is never sold or rented, advertisers get no PII,
authorities get nothing without a legal reference, and contractors get nothing
for a purpose no agreement binds them to.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from needtoknow.categories import Registry, seed_registry
from needtoknow.errors import CategoryError, PolicyError
from needtoknow.guards.names import unknown
from needtoknow.guards.yamltext import SafeLoader
from needtoknow.policy.model import (
    AGREEMENT_ID,
    AGREEMENT_ID_RULE,
    BOUND_KINDS,
    HOLD_BASES,
    LEGAL_BASES,
    OBLIGATIONS,
    RECIPIENT_KINDS,
    RESPONSE_DAYS_DEFAULT,
    RESPONSE_DAYS_MAX,
    RIGHT_KINDS,
    TRACKER_KINDS,
    TRACKER_PARTIES,
    USAGE_FORMS,
    AgeVerifier,
    Agreement,
    ConsentManager,
    Policy,
    Purpose,
    Recipient,
    Retention,
    Rule,
    StatutoryHold,
    Tracker,
    UsageRule,
    WrittenConsent,
)

ALWAYS_PROHIBITED = frozenset({"sale", "rental"})
# A stored version written before the vocabulary followed the Act is read with the Act's
# nearest ground (migration 0025's release); a new policy must name the ground itself.
RETIRED_AS = {
    "contract": "voluntarily_provided",
    "legitimate_use": "voluntarily_provided",
    "legal_claim": "legal_claims",
}
# Values policies used before the vocabulary followed the Act, and what to use instead.
RETIRED_BASES = {
    "contract": " (the Act has no contract ground: voluntarily_provided, s.7(a), for what "
    "a customer gave us to be served; or consent, s.6)",
    "legitimate_use": " (name the legitimate use of s.7, e.g. voluntarily_provided)",
    "legal_claim": " (legal_claims, s.17(1)(a))",
}
MAX_POLICY_CHARACTERS = 1_000_000  # the NextraOne policy is about 20 000
_TOP_LEVEL = frozenset(
    {
        "name",
        "categories",
        "purposes",
        "recipients",
        "agreements",
        "rules",
        "prohibited_purposes",
        "settings",
        "usage_data",
        "holds",
        "consent_managers",
        "age_verifiers",
        "written_consent",
        "trackers",
    }
)


class _Map(dict[str, Any]):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict[str, int]


class _List(list[Any]):
    line: int = 0


class _LineLoader(SafeLoader):  # type: ignore[misc]
    """Builds mappings and lists that remember their lines."""


def _refuse_aliases(text: str) -> None:
    # An alias makes one node appear many times: nested, a few lines expand to billions
    # (a "YAML bomb") when the policy is hashed. A policy spells things out.
    for token in yaml.scan(text, Loader=SafeLoader):
        if isinstance(token, yaml.AliasToken):
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not allowed in a policy", token.start_mark
            )


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    result = _Map()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = str(loader.construct_object(key_node, deep=True))
        if key in result:
            # YAML would silently keep the last; in a policy that hides a mistake.
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_list(loader: _LineLoader, node: yaml.SequenceNode) -> _List:
    result = _List(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_list)


def _line(node: Any, key: str | None = None) -> int | None:
    if isinstance(node, _Map) and key is not None and key in node.key_lines:
        return node.key_lines[key]
    return getattr(node, "line", None)


@dataclass(frozen=True)
class _Vocabulary:
    """What a rule may name, gathered before the rules are read."""

    registry: Registry
    purposes: Mapping[str, Purpose]
    recipients: Mapping[str, Recipient]
    agreements: tuple[Agreement, ...]
    prohibited: frozenset[str]


class _Loader:
    def __init__(self, source: str, strict: bool = True) -> None:
        self.source = source
        # Checks added after a version was stored do not stop the vault from reading it
        # (it was accepted when posted); they apply to every new policy, and
        # `ntk doctor` reports a stored active version that fails them.
        self.strict = strict
        self.problems: list[PolicyError] = []

    @contextmanager
    def noting(self) -> Iterator[None]:
        """Note a problem and go on to the next part, so one check reports them all."""
        try:
            yield
        except PolicyError as exc:
            self.problems.append(exc)

    def settle(self) -> None:
        """Raise every problem noted so far, as one error (the first, with the others)."""
        if self.problems:
            first, *rest = self.problems
            raise PolicyError(first.source, first.line, first.problem, rest)

    def error(self, node: Any, problem: str, key: str | None = None) -> PolicyError:
        return PolicyError(self.source, _line(node, key), problem)

    def mapping(self, parent: Any, key: str, required: bool = True) -> _Map:
        value = parent.get(key) if isinstance(parent, Mapping) else None
        if value is None and not required:
            return _Map()
        if not isinstance(value, Mapping):
            raise self.error(parent, f"'{key}' must be a mapping", key)
        return value  # type: ignore[return-value]

    def names(self, node: Any, key: str, known: Collection[str], what: str) -> tuple[str, ...]:
        """Read ``key`` (or its singular) as a list of names that must all be ``known``."""
        singular = key[:-1]
        raw = node.get(key, node.get(singular))
        values = [raw] if isinstance(raw, str) else raw
        # Only a list: a number is not iterable, and a mapping's keys are no list of names.
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) for v in values)
        ):
            raise self.error(node, f"'{key}' must name at least one {what}")
        for value in values:
            if value not in known:
                raise self.error(
                    node, unknown(what, value, known), key if key in node else singular
                )
        return tuple(values)

    def load(self, text: str, base: Registry) -> tuple[Policy, Registry]:
        if len(text) > MAX_POLICY_CHARACTERS:
            raise PolicyError(
                self.source, None, f"a policy is larger than {MAX_POLICY_CHARACTERS} characters"
            )
        try:
            _refuse_aliases(text)
            data = yaml.load(text, Loader=_LineLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            problem = getattr(exc, "problem", None) or "not valid YAML"
            raise PolicyError(self.source, line, problem) from None
        if not isinstance(data, _Map):
            raise PolicyError(self.source, 1, "a policy is a YAML mapping")
        for key in data:
            if key not in _TOP_LEVEL:
                self.problems.append(
                    self.error(data, unknown("top-level key", key, _TOP_LEVEL), key)
                )
        extra = self.mapping(data, "categories", required=False)
        try:
            registry = base.extended(extra)
        except CategoryError as exc:
            raise self.error(data, str(exc), "categories") from None
        prohibited = self.prohibited(data)
        # The names rules use first (each part's problems noted, the next part read);
        # then the rules, once the names they refer to are known.
        purposes: dict[str, Purpose] = {}
        recipients: dict[str, Recipient] = {}
        agreements: tuple[Agreement, ...] = ()
        with self.noting():
            purposes = self.purposes(self.mapping(data, "purposes"), registry, prohibited)
        declared = any(purpose.collects for purpose in purposes.values())
        if not declared:
            # A policy written before `collects:` existed limits use, not collection: it
            # keeps collecting every category until it declares what it needs (a
            # narrowing, which applies at once). `ntk policy check` warns of it.
            purposes = {
                name: replace(purpose, collects=frozenset(registry))
                if name not in prohibited and purpose.legal_basis != "none"
                else purpose
                for name, purpose in purposes.items()
            }
        with self.noting():
            recipients = self.recipients(self.mapping(data, "recipients"))
        with self.noting():
            agreements = self.agreements(data.get("agreements") or _List(), recipients, purposes)
        self.settle()
        known = _Vocabulary(registry, purposes, recipients, agreements, prohibited)
        rules = self.rules(data, known)
        usage = self.usage(data, known)
        settings = self.mapping(data, "settings", required=False)
        full_cards = settings.get("store_full_card_numbers", False)
        if not isinstance(full_cards, bool):
            self.problems.append(
                self.error(
                    settings,
                    "store_full_card_numbers must be true or false",
                    "store_full_card_numbers",
                )
            )
        notice_days, ack_days, services, response_days = 30, 15, frozenset[str](), {}
        with self.noting():
            notice_days = self.whole(settings, "notice_period_days", 30, least=0)
        with self.noting():
            ack_days = self.whole(settings, "erasure_ack_days", 15, least=1)
        with self.noting():
            services = frozenset(self.words(settings, "services"))
        with self.noting():
            response_days = self.response_days(settings)
        holds: dict[str, StatutoryHold] = {}
        with self.noting():
            holds = self.holds(self.mapping(data, "holds", required=False), known, services)
        managers: dict[str, ConsentManager] = {}
        with self.noting():
            managers = self.consent_managers(self.mapping(data, "consent_managers", required=False))
        verifiers: dict[str, AgeVerifier] = {}
        with self.noting():
            verifiers = self.age_verifiers(self.mapping(data, "age_verifiers", required=False))
        written: WrittenConsent | None = None
        with self.noting():
            written = self.written_consent(data, registry)
        trackers: dict[str, Tracker] = {}
        with self.noting():
            trackers = self.trackers(self.mapping(data, "trackers", required=False), known)
        self.settle()
        if not self.strict:
            purposes = _tracking_inferred(purposes, trackers, rules, recipients)
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
        policy = Policy(
            name=str(data.get("name", Path(self.source).stem)),
            version=hashlib.sha256(canonical.encode()).hexdigest(),
            source=text,
            purposes=purposes,
            recipients=recipients,
            agreements=agreements,
            rules=rules,
            prohibited_purposes=prohibited,
            extra_categories={k: dict(v) for k, v in extra.items()},
            store_full_card_numbers=full_cards,
            collection_declared=declared,
            notice_period_days=notice_days,
            grievance_contact=str(settings.get("grievance_contact", "")).strip(),
            usage=usage,
            holds=holds,
            services=services,
            erasure_ack_days=ack_days,
            response_days=response_days,
            rights_how=str(settings.get("rights_how", "")).strip(),
            rights_identifier=str(settings.get("rights_identifier", "")).strip(),
            consent_managers=managers,
            trackers=trackers,
            age_verifiers=verifiers,
            written_consent=written,
        )
        return policy, registry

    def trackers(self, given: _Map, known: _Vocabulary) -> dict[str, Tracker]:
        """``trackers: {name: {kind, party, purpose}}``: what follows a visit, whose, why."""
        found = {}
        for name, spec in given.items():
            if not isinstance(spec, _Map):
                raise self.error(given, f"tracker {name!r} is a mapping", name)
            extra = sorted(set(spec) - {"kind", "party", "purpose"})
            if extra:
                raise self.error(spec, f"tracker {name!r}: unknown {extra[0]!r}", extra[0])
            kind, party = str(spec.get("kind")), str(spec.get("party"))
            purpose = str(spec.get("purpose"))
            what = f"tracker {name!r}"
            if kind not in TRACKER_KINDS:
                raise self.error(spec, unknown(f"{what} kind", kind, TRACKER_KINDS))
            if party not in TRACKER_PARTIES:
                raise self.error(spec, unknown(f"{what} party", party, TRACKER_PARTIES))
            if purpose not in known.purposes or purpose in known.prohibited:
                raise self.error(spec, unknown(f"{what} purpose", purpose, known.purposes))
            basis = known.purposes[purpose].legal_basis
            if party == "third" and basis != "consent":
                detail = (
                    f"{what}: a third party's tracker serves only a purpose based on "
                    f"consent, not {purpose!r} ({basis})"
                )
                raise self.error(spec, detail, "purpose")
            if party == "third" and not known.purposes[purpose].tracking and self.strict:
                detail = (
                    f"{what}: a third party's tracker serves only a purpose marked "
                    f"'tracking: true', which is never served for a child (DPDP Act s.9(3)); "
                    f"{purpose!r} is not"
                )
                raise self.error(spec, detail, "purpose")
            found[name] = Tracker(name, kind, party, purpose)
        return found

    def consent_managers(self, given: _Map) -> dict[str, ConsentManager]:
        """``consent_managers: {name: {registration, public_key (Ed25519, hex)}}``."""
        managers = {}
        for name, spec in given.items():
            if not isinstance(spec, _Map):
                raise self.error(given, f"consent manager {name!r} is a mapping", name)
            unknown_keys = sorted(set(spec) - {"registration", "public_key", "description"})
            if unknown_keys:
                raise self.error(spec, f"consent manager {name!r}: unknown {unknown_keys[0]!r}")
            registration = spec.get("registration")
            if not isinstance(registration, str) or not registration.strip():
                raise self.error(spec, f"consent manager {name!r} needs its registration")
            key = self.public_key(spec, f"consent manager {name!r}")
            description = str(spec.get("description", "")).strip()
            managers[name] = ConsentManager(name, registration.strip(), key, description)
        return managers

    def written_consent(self, data: _Map, registry: Registry) -> WrittenConsent | None:
        """``written_consent: {law, categories, until}``: collected only with consent in
        writing until that date."""
        if data.get("written_consent") is None:
            return None
        spec = self.mapping(data, "written_consent")
        extra = sorted(set(spec) - {"law", "categories", "until"})
        if extra:
            raise self.error(spec, f"written_consent: unknown {extra[0]!r}", extra[0])
        law = spec.get("law")
        if not isinstance(law, str) or not law.strip():
            raise self.error(spec, "written_consent needs the law that asks for it", "law")
        names = spec.get("categories")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise self.error(spec, "written_consent: categories is a list", "categories")
        for name in names:
            if name not in registry:
                raise self.error(spec, unknown("category", str(name), registry), "categories")
        until = spec.get("until")
        if not isinstance(until, date):
            raise self.error(spec, "written_consent: until is a date (YYYY-MM-DD)", "until")
        return WrittenConsent(law.strip(), frozenset(names), until)

    def age_verifiers(self, given: _Map) -> dict[str, AgeVerifier]:
        """``age_verifiers: {name: {public_key (Ed25519, hex), description}}``."""
        verifiers = {}
        for name, spec in given.items():
            if not isinstance(spec, _Map):
                raise self.error(given, f"age verifier {name!r} is a mapping", name)
            unknown_keys = sorted(set(spec) - {"public_key", "description"})
            if unknown_keys:
                raise self.error(spec, f"age verifier {name!r}: unknown {unknown_keys[0]!r}")
            key = self.public_key(spec, f"age verifier {name!r}")
            verifiers[name] = AgeVerifier(name, key, str(spec.get("description", "")).strip())
        return verifiers

    def public_key(self, spec: _Map, owner: str) -> bytes:
        """An Ed25519 public key given as 64 hex digits."""
        try:
            key = bytes.fromhex(str(spec.get("public_key", "")))
        except ValueError:
            key = b""
        if len(key) != 32:
            raise self.error(
                spec, f"{owner}: public_key is 32 bytes of hex (Ed25519)", "public_key"
            )
        return key

    def response_days(self, settings: _Map) -> dict[str, int]:
        """``response_days: {grievance: 30, …}``: each kind 1-90 days, 30 when not given."""
        given = self.mapping(settings, "response_days", required=False)
        for kind in given:
            if kind not in RIGHT_KINDS:
                raise self.error(
                    given, f"unknown request kind {kind!r}; one of: {', '.join(RIGHT_KINDS)}", kind
                )
        days = {k: self.whole(given, k, RESPONSE_DAYS_DEFAULT, least=1) for k in RIGHT_KINDS}
        for kind, value in days.items():
            if value > RESPONSE_DAYS_MAX:
                raise self.error(
                    given, f"{kind}: at most {RESPONSE_DAYS_MAX} days (DPDP Rules, Rule 14)", kind
                )
        return days

    def whole(self, settings: _Map, key: str, default: int, least: int) -> int:
        """A whole-number setting, at least ``least``."""
        value = settings.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise self.error(settings, f"{key} must be a whole number ≥ {least}", key)
        return int(value)

    def words(self, node: _Map, key: str) -> list[str]:
        """A list of lower-case names (``services: [domains, hosting, vps]``)."""
        raw = node.get(key, _List())
        if not isinstance(raw, list) or not all(
            isinstance(w, str) and re.fullmatch(r"[a-z][a-z0-9_]{0,31}", w) for w in raw
        ):
            raise self.error(
                node, f"'{key}' is a list of lower-case names (letters, digits, '_')", key
            )
        return list(raw)

    def holds(
        self, node: _Map, known: _Vocabulary, services: frozenset[str]
    ) -> dict[str, StatutoryHold]:
        """``holds:`` — data a law requires kept after the account closes (see
        :class:`StatutoryHold`); each names the law, the categories, how long, what the
        held data may still be read for, and which services' customers it applies to."""
        out = {}
        keys = {"basis", "categories", "kept", "readable_for", "services"}
        for name in node:
            spec = self.spec(node, name)
            unknown = sorted(set(spec) - keys)
            if unknown:
                raise self.error(spec, f"hold {name!r}: unknown key {unknown[0]!r}", name)
            basis = spec.get("basis")
            if not isinstance(basis, str) or not basis.strip():
                raise self.error(node, f"hold {name!r}: 'basis' cites the law that keeps it", name)
            categories = self.names(spec, "categories", known.registry, "category")
            readable = self.names(
                _Map({"readable_for": ["legal_process"]}) if "readable_for" not in spec else spec,
                "readable_for",
                known.purposes,
                "purpose",
            )
            for purpose in readable:
                if known.purposes[purpose].legal_basis not in HOLD_BASES:
                    raise self.error(
                        spec,
                        f"hold {name!r}: held data is read only for a legal obligation or "
                        f"claim, not {purpose!r} ({known.purposes[purpose].legal_basis})",
                        "readable_for",
                    )
            applies = self.words(spec, "services")
            for service in applies:
                if service not in services:
                    raise self.error(
                        spec,
                        f"hold {name!r}: unknown service {service!r}; settings.services "
                        f"names {sorted(services)}",
                        "services",
                    )
            kept = self.period(spec, "kept", f"hold {name!r}")
            if kept is None:
                raise self.error(spec, f"hold {name!r}: 'kept' says how long (e.g. '5 years')")
            out[name] = StatutoryHold(
                name, basis.strip(), frozenset(categories), kept, readable, frozenset(applies)
            )
        return out

    def spec(self, parent: _Map, name: str) -> _Map:
        """The mapping under ``name`` in ``parent`` (empty when left blank)."""
        spec = parent[name]
        if spec is None:
            return _Map()
        if not isinstance(spec, _Map):
            raise self.error(parent, f"{name!r} must be a mapping", name)
        return spec

    def purposes(
        self, node: _Map, registry: Registry, prohibited: frozenset[str]
    ) -> dict[str, Purpose]:
        out = {}
        for name in node:
            with self.noting():
                out[name] = self.purpose(node, name, registry, prohibited)
        return out

    def purpose(
        self, node: _Map, name: str, registry: Registry, prohibited: frozenset[str]
    ) -> Purpose:
        spec = self.spec(node, name)
        unknown = sorted(
            set(spec) - {"legal_basis", "description", "collects", "retention", "tracking"}
        )
        if unknown:  # e.g. an unquoted description with a comma in a {flow: mapping}
            raise self.error(spec, f"purpose {name!r}: unknown key {unknown[0]!r}", name)
        basis = spec.get("legal_basis")
        if not self.strict and isinstance(basis, str):
            basis = RETIRED_AS.get(basis, basis)  # a version stored before the Act's words
        if not isinstance(basis, str) or basis not in LEGAL_BASES:
            hint = RETIRED_BASES.get(str(basis), "")
            raise self.error(
                node,
                f"purpose {name!r}: legal_basis must be one of the Act's grounds "
                f"{sorted(LEGAL_BASES)}{hint}",
                name,
            )
        collects = self.collects(spec, name, registry)
        for key in ("collects", "retention"):
            if spec.get(key) and (name in prohibited or basis == "none"):
                raise self.error(spec, f"purpose {name!r} may not collect anything", key)
        text = self.description(spec, name)
        retention = self.period(spec, "retention", f"purpose {name!r}")
        tracking = spec.get("tracking", False)
        if not isinstance(tracking, bool):
            raise self.error(spec, f"purpose {name!r}: tracking is true or false", "tracking")
        return Purpose(name, basis, text.pop("en", ""), collects, text, retention, tracking)

    def period(self, spec: _Map, key: str, owner: str) -> Retention | None:
        """``retention: 8 years`` (days, months or years after the account closes)."""
        raw = spec.get(key)
        if raw is None:
            return None
        found = re.fullmatch(r"([1-9][0-9]{0,5}) +(day|month|year)s?", str(raw).strip())
        if found is None:
            raise self.error(
                spec,
                f"{owner}: {key} is a whole number of days, months or years (e.g. '8 years')",
                key,
            )
        return Retention(int(found[1]), found[2])

    def description(self, spec: _Map, purpose: str) -> dict[str, str]:
        """Language code → text: a plain string is English; a mapping must give ``en``
        and may add others (``hi: …``) for the notice in that language."""
        raw = spec.get("description", "")
        texts = raw if isinstance(raw, Mapping) else {"en": raw}
        if "en" not in texts or not all(
            isinstance(k, str) and k.isalpha() and k.islower() and isinstance(v, str)
            for k, v in texts.items()
        ):
            raise self.error(
                spec,
                f"purpose {purpose!r}: 'description' is text, or language codes → text "
                "including 'en'",
                "description",
            )
        return {k: str(v).strip() for k, v in texts.items()}

    def collects(self, spec: _Map, purpose: str, registry: Registry) -> frozenset[str]:
        """The categories a purpose needs collected: a list of known category names."""
        raw = spec.get("collects", _List())
        if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
            raise self.error(
                spec, f"purpose {purpose!r}: 'collects' must be a list of categories", "collects"
            )
        for name in raw:
            if name not in registry:
                raise self.error(
                    spec, f"purpose {purpose!r}: {unknown('category', name, registry)}", "collects"
                )
        return frozenset(raw)

    def recipients(self, node: _Map) -> dict[str, Recipient]:
        out = {}
        for name in node:
            spec = self.spec(node, name)
            kind = spec.get("kind")
            if not isinstance(kind, str) or kind not in RECIPIENT_KINDS:
                raise self.error(
                    node, f"recipient {name!r}: kind must be one of {sorted(RECIPIENT_KINDS)}", name
                )
            parent = spec.get("parent")
            if parent is not None and not isinstance(parent, str):
                raise self.error(spec, f"recipient {name!r}: 'parent' names a recipient", "parent")
            out[name] = Recipient(name, kind, parent, str(spec.get("description", "")))
        for recipient in out.values():
            parent = out.get(recipient.parent) if recipient.parent else None
            if recipient.kind == "subcontractor" and (
                parent is None or parent.kind not in BOUND_KINDS
            ):
                raise self.error(
                    node,
                    f"subcontractor {recipient.name!r} needs a 'parent' that is a contractor",
                    recipient.name,
                )
            if recipient.kind != "subcontractor" and recipient.parent:
                raise self.error(
                    node, f"only a subcontractor has a parent ({recipient.name!r})", recipient.name
                )
            seen = {recipient.name}
            while parent is not None and parent.parent is not None:
                if parent.name in seen:
                    raise self.error(
                        node, f"contractor chain of {recipient.name!r} loops", recipient.name
                    )
                seen.add(parent.name)
                parent = out.get(parent.parent)
        return out

    def prohibited(self, data: _Map) -> frozenset[str]:
        raw = data.get("prohibited_purposes") or _List()
        if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
            raise self.error(
                data, "prohibited_purposes must be a list of names", "prohibited_purposes"
            )
        return frozenset(raw) | ALWAYS_PROHIBITED

    def agreements(
        self, node: Any, recipients: Mapping[str, Recipient], purposes: Mapping[str, Purpose]
    ) -> tuple[Agreement, ...]:
        if not isinstance(node, list):
            raise self.error(node, "'agreements' must be a list")
        out, seen = [], set()
        for spec in node:
            if not isinstance(spec, Mapping) or not spec.get("id"):
                raise self.error(spec, "each agreement needs an 'id'")
            if not isinstance(spec["id"], str) or (
                self.strict and not AGREEMENT_ID.fullmatch(spec["id"])
            ):
                raise self.error(spec, f"an agreement id is {AGREEMENT_ID_RULE}", "id")
            if spec["id"] in seen:
                raise self.error(spec, f"duplicate agreement id {spec['id']!r}", "id")
            seen.add(spec["id"])
            if "recipients" in spec:
                raise self.error(spec, "an agreement binds one 'recipient'", "recipients")
            (recipient,) = self.names(spec, "recipients", recipients, "recipient")
            if recipients[recipient].kind not in BOUND_KINDS:
                raise self.error(
                    spec,
                    f"agreements bind contractors and subcontractors, "
                    f"not {recipients[recipient].kind} {recipient!r}",
                    "recipient",
                )
            expires, starts = spec.get("expires"), spec.get("starts", date.min)
            if not isinstance(expires, date):
                raise self.error(spec, "'expires' must be a date (YYYY-MM-DD)", "expires")
            if not isinstance(starts, date):
                raise self.error(spec, "'starts' must be a date (YYYY-MM-DD)", "starts")
            scoped = spec.get("customer_scoped", False)
            if not isinstance(scoped, bool):
                raise self.error(spec, "'customer_scoped' must be true or false", "customer_scoped")
            bound = frozenset(self.names(spec, "purposes", purposes, "purpose"))
            out.append(
                Agreement(
                    id=str(spec["id"]),
                    recipient=recipient,
                    purposes=bound,
                    expires=expires,
                    starts=starts,
                    reference=str(spec.get("reference", spec["id"])),
                    customer_scoped=scoped,
                )
            )
        return tuple(out)

    def rules(self, data: _Map, known: _Vocabulary) -> tuple[Rule, ...]:
        node = data.get("rules")
        if not isinstance(node, list):
            raise self.error(data, "'rules' must be a list", "rules")
        rules: list[Rule] = []
        granted: dict[tuple[str, str, str], str] = {}
        for spec in node:
            try:
                rule = self.rule(spec, known)
            except PolicyError as exc:
                self.problems.append(exc)
                continue
            for key in (
                (r, p, c) for r in rule.recipients for p in rule.purposes for c in rule.grants
            ):
                if key in granted:
                    self.problems.append(
                        self.error(
                            spec,
                            f"rule {rule.id!r} contradicts rule {granted[key]!r}: "
                            f"both grant {key[2]!r} to {key[0]!r} for {key[1]!r}",
                        )
                    )
                    break
                granted[key] = rule.id
            if rule.id in {r.id for r in rules}:
                self.problems.append(self.error(spec, f"duplicate rule id {rule.id!r}", "id"))
            rules.append(rule)
        return tuple(rules)

    def rule(self, spec: Any, known: _Vocabulary) -> Rule:
        if not isinstance(spec, Mapping) or not spec.get("id"):
            raise self.error(spec, "each rule needs an 'id'")
        rule_id = str(spec["id"])
        clause = spec.get("clause")
        if not isinstance(clause, str) or not clause.strip():
            raise self.error(spec, f"rule {rule_id!r} must cite the policy clause it implements")
        raw_obligations = spec.get("obligations") or []
        if not isinstance(raw_obligations, list) or not all(
            isinstance(o, str) for o in raw_obligations
        ):
            raise self.error(spec, "'obligations' must be a list of names", "obligations")
        obligations = frozenset(raw_obligations)
        unknown = sorted(obligations - OBLIGATIONS)
        if unknown:
            raise self.error(spec, f"unknown obligations {unknown}", "obligations")
        rule = Rule(
            id=rule_id,
            recipients=self.names(spec, "recipients", known.recipients, "recipient"),
            purposes=self.names(spec, "purposes", known.purposes, "purpose"),
            grants=self.grants(self.mapping(spec, "grant"), known.registry),
            obligations=obligations,
            clause=clause.strip(),
            line=_line(spec),
        )
        self.keep_promises(spec, rule, known)
        return rule

    def usage(self, data: _Map, known: _Vocabulary) -> tuple[UsageRule, ...]:
        """The ``usage_data`` rules. Advertisers get aggregates only, and an aggregate
        grant must carry its privacy budget: the seed's "on aggregate basis" made exact."""
        node = data.get("usage_data") or _List()
        if not isinstance(node, list):
            raise self.error(data, "'usage_data' must be a list", "usage_data")
        rules: list[UsageRule] = []
        for spec in node:
            with self.noting():
                rules.append(self.usage_rule(spec, known, rules))
        return tuple(rules)

    def usage_rule(self, spec: Any, known: _Vocabulary, earlier: list[UsageRule]) -> UsageRule:
        """One ``usage_data`` rule, checked against the promises and the rules before it."""
        if not isinstance(spec, Mapping) or not spec.get("id"):
            raise self.error(spec, "each usage_data rule needs an 'id'")
        rule_id = str(spec["id"])
        form = spec.get("form")
        if not isinstance(form, str) or form not in USAGE_FORMS:
            raise self.error(spec, f"usage rule {rule_id!r}: form is raw or aggregate", "form")
        clause = spec.get("clause")
        if not isinstance(clause, str) or not clause.strip():
            raise self.error(spec, f"usage rule {rule_id!r} must cite its policy clause")
        epsilon, delta = self.usage_budget(spec, rule_id, form)
        rule = UsageRule(
            id=rule_id,
            requires_consent=self.usage_consent(spec, rule_id, known),
            recipients=self.names(spec, "recipients", known.recipients, "recipient"),
            purposes=self.names(spec, "purposes", known.purposes, "purpose"),
            form=form,
            epsilon=epsilon,
            delta=delta,
            clause=clause.strip(),
            line=_line(spec),
        )
        self.usage_purposes_allowed(spec, rule, known)
        self.usage_recipients_allowed(spec, rule, known, earlier)
        return rule

    def usage_budget(self, spec: Mapping[str, Any], rule_id: str, form: str) -> tuple[float, float]:
        """(ε, δ) an aggregate grant may spend; raw data, which no noise protects, has none."""
        budget = spec.get("budget")
        if form != "aggregate":
            if budget is not None:
                raise self.error(spec, f"usage rule {rule_id!r}: raw data has no budget", "budget")
            return 0.0, 0.0
        if not isinstance(budget, Mapping):
            raise self.error(spec, f"usage rule {rule_id!r}: aggregates need a budget", "budget")
        epsilon: Any = budget.get("epsilon")
        delta: Any = budget.get("delta", 0.0)
        if not all(
            isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
            for v in (epsilon, delta)
        ):
            raise self.error(budget, "budget: epsilon and delta are numbers ≥ 0")
        if not (0 < epsilon <= 100 and delta < 1e-3):
            raise self.error(budget, "budget: 0 < epsilon ≤ 100 and delta < 0.001")
        return float(epsilon), float(delta)

    def usage_consent(
        self, spec: Mapping[str, Any], rule_id: str, known: _Vocabulary
    ) -> str | None:
        """The consent a rule counts customers by: only a purpose resting on consent
        has consents to count."""
        needs = spec.get("requires_consent")
        if needs is not None and (
            not isinstance(needs, str)
            or needs not in known.purposes
            or known.purposes[needs].legal_basis != "consent"
        ):
            raise self.error(
                spec,
                f"usage rule {rule_id!r}: requires_consent names a purpose whose legal "
                "basis is consent",
                "requires_consent",
            )
        return needs

    def usage_purposes_allowed(self, spec: Any, rule: UsageRule, known: _Vocabulary) -> None:
        """No usage data for a prohibited purpose, and a purpose whose basis is consent
        may use only consenting customers' events: the rule must count just those (DPDP
        Act s.6)."""
        for purpose in rule.purposes:
            if purpose in known.prohibited:
                raise self.error(spec, f"usage rule {rule.id!r}: {purpose!r} is prohibited")
            if (
                self.strict
                and known.purposes[purpose].legal_basis == "consent"
                and rule.requires_consent != purpose
            ):
                raise self.error(
                    spec,
                    f"usage rule {rule.id!r}: {purpose!r} rests on consent, so the rule "
                    f"needs requires_consent: {purpose} (one rule per consent-based "
                    "purpose)",
                    "requires_consent",
                )

    def usage_recipients_allowed(
        self, spec: Any, rule: UsageRule, known: _Vocabulary, earlier: list[UsageRule]
    ) -> None:
        """No raw events to an advertiser, and at most one rule per recipient and
        purpose, so which rule (form, budget) applies is never ambiguous."""
        for name in rule.recipients:
            if rule.form == "raw" and known.recipients[name].kind == "advertiser":
                raise self.error(
                    spec,
                    f"usage rule {rule.id!r} gives raw events to advertiser {name!r}; "
                    "advertisers receive aggregates only",
                )
            for other in earlier:
                overlap = set(other.purposes) & set(rule.purposes)
                if name in other.recipients and overlap:
                    raise self.error(
                        spec,
                        f"usage rule {rule.id!r} overlaps {other.id!r} for {name!r}",
                    )

    def grants(self, grant: _Map, registry: Registry) -> dict[str, str]:
        for category, transform in grant.items():
            if not isinstance(transform, str):
                raise self.error(grant, f"{category!r}: a transform is one name", category)
            if category not in registry:
                raise self.error(grant, unknown("category", category, registry), category)
            allowed = registry[category].transforms
            if transform not in allowed:
                raise self.error(
                    grant,
                    f"transform {transform!r} is not allowed for {category!r} "
                    f"(allowed: {sorted(allowed)})",
                    category,
                )
        return dict(grant)

    def keep_promises(self, spec: Any, rule: Rule, known: _Vocabulary) -> None:
        """Refuse a rule that would break a promise the seed policy makes unconditionally."""
        for purpose in rule.purposes:
            if purpose in known.prohibited:
                raise self.error(
                    spec,
                    f"rule {rule.id!r} would allow prohibited purpose "
                    f"{purpose!r}: PII is never sold or rented",
                )
            if known.purposes[purpose].legal_basis == "none" and rule.grants:
                raise self.error(
                    spec, f"rule {rule.id!r} grants data for {purpose!r}, which has no legal basis"
                )
        for name in rule.recipients:
            kind = known.recipients[name].kind
            if kind == "advertiser" and rule.grants:
                raise self.error(
                    spec,
                    f"rule {rule.id!r} grants PII to advertiser {name!r}; "
                    "advertisers receive aggregates only",
                )
            untracked = [p for p in rule.purposes if not known.purposes[p].tracking]
            if kind == "advertiser" and untracked and self.strict:
                raise self.error(
                    spec,
                    f"rule {rule.id!r} serves advertiser {name!r} for {untracked[0]!r}, which "
                    "is not marked 'tracking: true': it would reach children too (DPDP Act "
                    "s.9(3) forbids advertising directed at them)",
                )
            if kind == "authority" and "require_legal_reference" not in rule.obligations:
                raise self.error(
                    spec,
                    f"rule {rule.id!r} gives authority {name!r} data without "
                    "obligation require_legal_reference",
                )
            for purpose in rule.purposes if kind in BOUND_KINDS else ():
                if not any(a.recipient == name and purpose in a.purposes for a in known.agreements):
                    raise self.error(
                        spec,
                        f"rule {rule.id!r}: no agreement binds {name!r} to purpose {purpose!r}",
                    )


def _tracking_inferred(
    purposes: dict[str, Purpose],
    trackers: Mapping[str, Tracker],
    rules: Iterable[Rule],
    recipients: Mapping[str, Recipient],
) -> dict[str, Purpose]:
    """A stored version written before purposes were marked ``tracking``: a purpose a
    third party's tracker serves, or a rule serves an advertiser for, is one — so the
    children's protections (s.9(3)) hold for the vault's older versions too."""
    served = {t.purpose for t in trackers.values() if t.party == "third"} | {
        purpose
        for rule in rules
        if any(recipients[r].kind == "advertiser" for r in rule.recipients if r in recipients)
        for purpose in rule.purposes
    }
    return {
        name: replace(p, tracking=True) if name in served else p for name, p in purposes.items()
    }


def load_policy_text(
    text: str, source: str = "<policy>", registry: Registry | None = None
) -> tuple[Policy, Registry]:
    """Parse and check policy text; returns the policy and the category registry it extends."""
    return _Loader(source).load(text, registry or seed_registry())


def load_stored_policy(text: str, source: str) -> tuple[Policy, Registry]:
    """A version the vault stored (active, posted or retired): checked as when it was
    accepted, so a check added since does not lock the vault out of its own history."""
    return _Loader(source, strict=False).load(text, seed_registry())


def load_policy(path: str | Path, registry: Registry | None = None) -> tuple[Policy, Registry]:
    """Load a policy file; see :func:`load_policy_text`."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise PolicyError(str(path), None, f"cannot read policy file ({exc.strerror})") from None
    return load_policy_text(text, str(path), registry)
