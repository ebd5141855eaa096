"""The need-to-know engine: a policy compiled into lookup tables, and ``decide``.

Deny by default: a category is handed out only when a rule grants it to that
recipient for that purpose, every agreement binding the recipient (and, for a
sub-contractor, its contractor) is in force on ``context.now``, and every
obligation the rule carries that can be checked here is met. A sub-contractor
never gets more than its contractor: its grants are clipped to the contractor's.

Decisions are pure functions of (recipient, purpose, categories, the few
context facts rules depend on), so they are memoised: the hot path is two dict
lookups.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any

from needtoknow.errors import PolicyDenied
from needtoknow.guards.names import unknown
from needtoknow.policy.model import (
    BOUND_KINDS,
    COVERS,
    ONLY_THROUGH,
    Agreement,
    Policy,
    UsageRule,
)
from needtoknow.types import Context, Decision, Grant

_MEMO_LIMIT = 65_536


# Context facts a decision can depend on, as bits of the memo key.
_LAPSED, _NO_REFERENCE, _NO_CASE = 1, 2, 4
_UNSCOPED: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class _Entry:
    """Everything decided ahead of time for one (recipient, purpose) pair."""

    grants: dict[str, Grant]
    clipped: dict[str, str]  # categories a rule grants but the contractor chain does not
    obligations: frozenset[str]
    # For a contractor or sub-contractor: the agreements of each link of its chain that
    # cover this purpose. Every link needs one in force; empty: no agreement needed.
    links: tuple[tuple[Agreement, ...], ...]
    needs_reference: bool
    needs_case: bool
    # (wanted categories, context bits, customer scope) → Decision
    memo: dict[tuple[object, ...], Decision] = field(default_factory=dict)

    @property
    def agreement_ids(self) -> tuple[str, ...]:
        return tuple(sorted(a.id for link in self.links for a in link))


class Engine:
    """A compiled policy. Build once per policy version; ``decide`` is thread-safe."""

    def __init__(self, policy: Policy, agreements: Iterable[Agreement] | None = None) -> None:
        """Compile ``policy``; ``agreements`` (default: the policy's own) come from the
        agreement registry, which can change without a new policy version."""
        self.policy = policy
        self.version = policy.version
        self.agreements = tuple(policy.agreements if agreements is None else agreements)
        self._entries: dict[tuple[str, str], _Entry] = {}
        # Pairs no rule serves (deny by default), memoised like served ones.
        self._unserved: dict[tuple[str, str, tuple[str, ...] | None], Decision] = {}
        self._compile()

    def _compile(self) -> None:
        raw: dict[tuple[str, str], dict[str, Grant]] = {}
        obligations: dict[tuple[str, str], set[str]] = {}
        for rule in self.policy.rules:
            for recipient in rule.recipients:
                for purpose in rule.purposes:
                    key = (recipient, purpose)
                    grants = raw.setdefault(key, {})
                    for category, transform in rule.grants.items():
                        grants[category] = Grant(category, transform, rule.id)
                    obligations.setdefault(key, set()).update(rule.obligations)
        for recipient, purpose in raw:
            self._entries[(recipient, purpose)] = self._entry(recipient, purpose, raw, obligations)

    def _entry(
        self,
        recipient: str,
        purpose: str,
        raw: dict[tuple[str, str], dict[str, Grant]],
        obligations: dict[tuple[str, str], set[str]],
    ) -> _Entry:
        chain = self._chain(recipient)
        grants, clipped = raw[(recipient, purpose)], {}
        for ancestor in chain[1:]:
            grants, lost = _clip(grants, raw.get((ancestor, purpose), {}), ancestor)
            clipped.update(lost)
        links: tuple[tuple[Agreement, ...], ...] = ()
        if self.policy.recipients[recipient].kind in BOUND_KINDS:
            links = tuple(
                tuple(a for a in self.agreements if a.recipient == link and purpose in a.purposes)
                for link in chain
            )
        inherited = frozenset().union(*(obligations.get((a, purpose), set()) for a in chain))
        return _Entry(
            grants=grants,
            clipped=clipped,
            obligations=inherited,
            links=links,
            needs_reference="require_legal_reference" in inherited,
            needs_case="require_case_id" in inherited,
        )

    def _chain(self, recipient: str) -> list[str]:
        """The recipient followed by its contractor ancestors."""
        chain = [recipient]
        parent = self.policy.recipients[recipient].parent
        while parent is not None:
            chain.append(parent)
            parent = self.policy.recipients[parent].parent
        return chain

    def decide(
        self,
        recipient: str,
        purpose: str,
        categories: Iterable[str] | None,
        context: Context,
    ) -> Decision:
        """Which of ``categories`` (None: every category the rules allow) this recipient may
        have for this purpose, transformed how, and why the rest are denied."""
        wanted = None if categories is None else tuple(categories)
        entry = self._entries.get((recipient, purpose))
        if entry is None:
            key = (recipient, purpose, wanted)
            decision = self._unserved.get(key)
            if decision is None:
                reason = self._why_no_entry(recipient, purpose)
                decision = self._deny_all(recipient, purpose, wanted, reason)
                if len(self._unserved) < _MEMO_LIMIT:
                    self._unserved[key] = decision
            return decision
        bits, scope = 0, _UNSCOPED
        if entry.links:
            live = _in_force(entry.links, context.now)
            if live is None:
                bits = _LAPSED
            else:
                scope = tuple(
                    tuple(a.id for a in group)
                    for group in live
                    if all(a.customer_scoped for a in group)
                )
        if entry.needs_reference and not context.legal_reference:
            bits |= _NO_REFERENCE
        if entry.needs_case and not context.case_id:
            bits |= _NO_CASE
        memo_key = (wanted, bits, scope)
        decision = entry.memo.get(memo_key)
        if decision is None:
            decision = self._decide(recipient, purpose, wanted, entry, bits, scope)
            if len(entry.memo) < _MEMO_LIMIT:
                entry.memo[memo_key] = decision
        return decision

    def _decide(
        self,
        recipient: str,
        purpose: str,
        wanted: tuple[str, ...] | None,
        entry: _Entry,
        bits: int,
        scope: tuple[tuple[str, ...], ...],
    ) -> Decision:
        blocker = None
        if bits & _LAPSED:
            blocker = (
                f"no agreement in force binds {recipient!r} to {purpose!r} "
                f"(agreements: {', '.join(entry.agreement_ids) or 'none'})"
            )
        elif bits & _NO_REFERENCE:
            blocker = "a legal reference is required for this purpose"
        elif bits & _NO_CASE:
            blocker = "a case id is required for this purpose"
        if blocker is not None:
            return self._deny_all(recipient, purpose, wanted or tuple(entry.grants), blocker)
        names = (*entry.grants, *entry.clipped) if wanted is None else wanted
        allowed = {c: entry.grants[c] for c in names if c in entry.grants}
        denied = {
            c: entry.clipped.get(c, f"no rule grants {c!r} to {recipient!r} for {purpose!r}")
            for c in names
            if c not in entry.grants
        }
        if not allowed and not denied:
            denied["*"] = f"no rule grants {recipient!r} anything for {purpose!r}"
        return _decision(
            recipient, purpose, allowed, denied, entry.obligations, self.version, scope
        )

    def _why_no_entry(self, recipient: str, purpose: str) -> str:
        policy = self.policy
        if recipient not in policy.recipients:
            return unknown("recipient", recipient, policy.recipients)
        if purpose in policy.prohibited_purposes:
            return f"purpose {purpose!r} is prohibited: PII is never sold or rented"
        if purpose not in policy.purposes:
            return unknown("purpose", purpose, policy.purposes)
        if policy.recipients[recipient].kind == "advertiser":
            return "advertisers receive aggregates only, never PII"
        return f"no rule serves {recipient!r} for {purpose!r} (deny by default)"

    def _deny_all(
        self, recipient: str, purpose: str, wanted: tuple[str, ...] | None, reason: str
    ) -> Decision:
        denied = dict.fromkeys(wanted or ("*",), reason)
        return _decision(recipient, purpose, {}, denied, frozenset(), self.version)

    def explain(self, recipient: str, purpose: str, context: Context) -> dict[str, object]:
        """A JSON-ready account of what this pair may receive, and the rules behind it;
        ``only_through`` names the one way a recipient of a kind served only one way
        (an authority, the customer) gets what is allowed: a direct read is denied."""
        decision = self.decide(recipient, purpose, None, context)
        entry = self._entries.get((recipient, purpose))
        known = self.policy.recipients.get(recipient)
        kind = known.kind if known is not None else None
        return {
            "policy": self.policy.name,
            "policy_version": self.version,
            "recipient": recipient,
            "recipient_kind": kind,
            "only_through": ONLY_THROUGH.get(kind) if kind else None,
            "purpose": purpose,
            "legal_basis": (
                self.policy.purposes[purpose].legal_basis
                if purpose in self.policy.purposes
                else None
            ),
            "allowed": {
                c: {"transform": g.transform, "rule": g.rule_id, "clause": self._clause(g.rule_id)}
                for c, g in sorted(decision.allowed.items())
            },
            "denied": dict(sorted(decision.denied.items())),
            "obligations": sorted(entry.obligations) if entry else [],
            "agreements": list(entry.agreement_ids) if entry else [],
            "agreement_until": _until(entry.links) if entry else None,
            "customer_scope": [list(group) for group in decision.customer_scope],
        }

    def matrix(self) -> list[dict[str, Any]]:
        """Every grant as a row — recipient, purpose, category, transform, the rule and
        its clause, and what must hold for it (agreements, a legal reference, a case id)
        — sorted: the table ``ntk policy who`` and ``what`` cut by category or recipient."""
        rows = []
        for (recipient, purpose), entry in sorted(self._entries.items()):
            conditions = [*(f"agreement {a}" for a in entry.agreement_ids)]
            conditions += ["legal reference"] if entry.needs_reference else []
            conditions += ["case id"] if entry.needs_case else []
            for category, grant in sorted(entry.grants.items()):
                rows.append(
                    {
                        "recipient": recipient,
                        "recipient_kind": self.policy.recipients[recipient].kind,
                        "purpose": purpose,
                        "legal_basis": self.policy.purposes[purpose].legal_basis,
                        "category": category,
                        "transform": grant.transform,
                        "rule": grant.rule_id,
                        "clause": self._clause(grant.rule_id),
                        "requires": conditions,
                        "obligations": sorted(entry.obligations),
                    }
                )
        return rows

    def served(self) -> dict[tuple[str, str], tuple[dict[str, str], frozenset[str]]]:
        """Every (recipient, purpose) some rule serves → its grants (category → transform,
        a sub-contractor's already clipped to its contractor's) and obligations."""
        return {
            pair: ({c: g.transform for c, g in entry.grants.items()}, entry.obligations)
            for pair, entry in self._entries.items()
        }

    def decide_usage(self, recipient: str, purpose: str, form: str) -> UsageRule:
        """The usage-data rule that lets ``recipient`` have usage events in ``form``
        (``raw`` or ``aggregate``) for ``purpose``; PolicyDenied, with the reason, if none."""
        for rule in self.policy.usage:
            if recipient in rule.recipients and purpose in rule.purposes:
                if rule.form == form:
                    return rule
                raise PolicyDenied(
                    recipient,
                    purpose,
                    {
                        "usage_events": f"{recipient!r} receives usage data only as {rule.form} "
                        f"(rule {rule.id!r})"
                    },
                )
        if recipient not in self.policy.recipients:
            reason = unknown("recipient", recipient, self.policy.recipients)
        else:
            reason = f"no usage_data rule serves {recipient!r} for {purpose!r}"
        raise PolicyDenied(recipient, purpose, {"usage_events": reason})

    def _clause(self, rule_id: str) -> str:
        return next(r.clause for r in self.policy.rules if r.id == rule_id)


def _decision(
    recipient: str,
    purpose: str,
    allowed: dict[str, Grant],
    denied: dict[str, str],
    obligations: frozenset[str],
    version: str,
    scope: tuple[tuple[str, ...], ...] = (),
) -> Decision:
    """A Decision whose maps are read-only: decisions are memoised and shared."""
    return Decision(
        recipient,
        purpose,
        MappingProxyType(allowed),
        MappingProxyType(denied),
        obligations,
        version,
        scope,
    )


def _until(links: tuple[tuple[Agreement, ...], ...]) -> str | None:
    """The last day every link of the chain has an agreement (ignoring gaps before it)."""
    if not links:
        return None
    return min(max((a.expires for a in link), default=date.min) for link in links).isoformat()


def _in_force(
    links: tuple[tuple[Agreement, ...], ...], now: datetime
) -> tuple[tuple[Agreement, ...], ...] | None:
    """Each link's agreements in force on ``now``'s UTC date, or None if a link has none."""
    day = now.astimezone(UTC).date()
    live = []
    for link in links:
        current = tuple(a for a in link if a.in_force(day))
        if not current:
            return None
        live.append(current)
    return tuple(live)


def _clip(
    own: dict[str, Grant], ceiling: dict[str, Grant], contractor: str
) -> tuple[dict[str, Grant], dict[str, str]]:
    """A sub-contractor's grants limited by its contractor's, and the reasons for what was cut.

    Keeps the sub-contractor's transform when the contractor's reveals at least as much,
    takes the contractor's when it reveals less, and drops the category when the two are
    incomparable (a token is a stable pseudonym, not "less" than ``last4``).
    """
    kept, lost = {}, {}
    for category, grant in own.items():
        limit = ceiling.get(category)
        if limit is None:
            lost[category] = f"contractor {contractor!r} is not granted {category!r}"
        elif grant.transform in COVERS[limit.transform]:
            kept[category] = grant
        elif limit.transform in COVERS[grant.transform]:
            kept[category] = Grant(category, limit.transform, grant.rule_id)
        else:
            lost[category] = (
                f"{grant.transform!r} is not within contractor {contractor!r}'s {limit.transform!r}"
            )
    return kept, lost
