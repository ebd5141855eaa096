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
from datetime import UTC, date, datetime, time
from types import MappingProxyType

from needtoknow.policy.model import BOUND_KINDS, COVERS, Policy
from needtoknow.types import Context, Decision, Grant

_MEMO_LIMIT = 65_536


# Context facts a decision can depend on, as bits of the memo key.
_LAPSED, _NO_REFERENCE, _NO_CASE = 1, 2, 4


@dataclass(frozen=True)
class _Entry:
    """Everything decided ahead of time for one (recipient, purpose) pair."""

    grants: dict[str, Grant]
    clipped: dict[str, str]  # categories a rule grants but the contractor chain does not
    obligations: frozenset[str]
    agreement_ids: tuple[str, ...]
    agreement_until: date | None  # None: this recipient needs no agreement
    needs_reference: bool
    needs_case: bool
    # Last instant the agreements are in force (end of agreement_until, UTC).
    in_force_until: datetime | None
    # One memo per combination of the context bits above: wanted categories → Decision.
    memos: tuple[dict[tuple[str, ...] | None, Decision], ...] = field(
        default_factory=lambda: tuple({} for _ in range(8))
    )


class Engine:
    """A compiled policy. Build once per policy version; ``decide`` is thread-safe."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.version = policy.version
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
        agreements = [
            a for a in self.policy.agreements if a.recipient in chain and purpose in a.purposes
        ]
        until = None
        if self.policy.recipients[recipient].kind in BOUND_KINDS:
            # Each link of the chain needs its own agreement; the chain is bound until
            # the earliest of the links' latest expiries.
            until = min(
                max((a.expires for a in agreements if a.recipient == link), default=date.min)
                for link in chain
            )
        inherited = frozenset().union(*(obligations.get((a, purpose), set()) for a in chain))
        return _Entry(
            grants=grants,
            clipped=clipped,
            obligations=inherited,
            agreement_ids=tuple(sorted(a.id for a in agreements)),
            agreement_until=until,
            needs_reference="require_legal_reference" in inherited,
            needs_case="require_case_id" in inherited,
            in_force_until=None if until is None else datetime.combine(until, time.max, UTC),
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
        bits = 0
        if entry.in_force_until is not None and context.now > entry.in_force_until:
            bits = _LAPSED
        if entry.needs_reference and not context.legal_reference:
            bits |= _NO_REFERENCE
        if entry.needs_case and not context.case_id:
            bits |= _NO_CASE
        memo = entry.memos[bits]
        decision = memo.get(wanted)
        if decision is None:
            decision = self._decide(recipient, purpose, wanted, entry, bits)
            if len(memo) < _MEMO_LIMIT:
                memo[wanted] = decision
        return decision

    def _decide(
        self,
        recipient: str,
        purpose: str,
        wanted: tuple[str, ...] | None,
        entry: _Entry,
        bits: int,
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
        return _decision(recipient, purpose, allowed, denied, entry.obligations, self.version)

    def _why_no_entry(self, recipient: str, purpose: str) -> str:
        policy = self.policy
        if recipient not in policy.recipients:
            return f"unknown recipient {recipient!r}"
        if purpose in policy.prohibited_purposes:
            return f"purpose {purpose!r} is prohibited: PII is never sold or rented"
        if purpose not in policy.purposes:
            return f"unknown purpose {purpose!r}"
        if policy.recipients[recipient].kind == "advertiser":
            return "advertisers receive aggregates only, never PII"
        return f"no rule serves {recipient!r} for {purpose!r} (deny by default)"

    def _deny_all(
        self, recipient: str, purpose: str, wanted: tuple[str, ...] | None, reason: str
    ) -> Decision:
        denied = dict.fromkeys(wanted or ("*",), reason)
        return _decision(recipient, purpose, {}, denied, frozenset(), self.version)

    def explain(self, recipient: str, purpose: str, context: Context) -> dict[str, object]:
        """A JSON-ready account of what this pair may receive, and the rules behind it."""
        decision = self.decide(recipient, purpose, None, context)
        entry = self._entries.get((recipient, purpose))
        return {
            "policy": self.policy.name,
            "policy_version": self.version,
            "recipient": recipient,
            "recipient_kind": (
                self.policy.recipients[recipient].kind
                if recipient in self.policy.recipients
                else None
            ),
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
            "agreement_until": (
                entry.agreement_until.isoformat() if entry and entry.agreement_until else None
            ),
        }

    def _clause(self, rule_id: str) -> str:
        return next(r.clause for r in self.policy.rules if r.id == rule_id)


def _decision(
    recipient: str,
    purpose: str,
    allowed: dict[str, Grant],
    denied: dict[str, str],
    obligations: frozenset[str],
    version: str,
) -> Decision:
    """A Decision whose maps are read-only: decisions are memoised and shared."""
    return Decision(
        recipient,
        purpose,
        MappingProxyType(allowed),
        MappingProxyType(denied),
        obligations,
        version,
    )


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
