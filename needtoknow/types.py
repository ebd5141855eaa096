"""Small value types shared across the package: the request context and the decision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from needtoknow.errors import ValidationError

T = TypeVar("T")


def checked_customer_id(customer_id: object) -> str:
    """A customer id as every entry point must see it: ids are opaque, but 1 to 36
    printable characters (as wide as the id columns), so any database can store them
    and no entry (a denial included) can carry one the customer index would refuse."""
    if (
        not isinstance(customer_id, str)
        or not 0 < len(customer_id) <= 36
        or not customer_id.isprintable()
    ):
        raise ValidationError("customer_id", "customer", "format", "1 to 36 printable characters")
    return customer_id


def view_of(original: T, **changes: Any) -> T:
    """A shallow copy of ``original`` (an object with a ``__dict__``) with ``changes``
    set: for the views built for every request (``Vault.acting`` and what it holds).
    Every attribute is carried, so one added later is not forgotten, at a fifth of
    ``copy.copy``'s cost and without a frozen dataclass's ``__init__``. Validation in
    ``__post_init__`` does not run: the changes are the caller's to make right."""
    if not changes.keys() <= original.__dict__.keys():  # a misspelt name would be kept
        raise TypeError(f"{type(original).__name__} has no {sorted(changes)}")
    view = object.__new__(type(original))
    view.__dict__.update(original.__dict__, **changes)
    return view


@dataclass(frozen=True, slots=True)
class Context:
    """Facts about one request that rules may depend on; time is passed in, not read."""

    now: datetime
    legal_reference: str | None = None
    case_id: str | None = None
    request_id: str | None = None
    # The legal disclosure request this read releases, set by Disclosures.release only.
    # An authority is read only under it, and only while that stored request is being
    # released, within its scope (access.decide): naming an id elsewhere gains nothing.
    disclosure_request: str | None = None
    # The customer's verified access request a read as the customer (``data_principal``)
    # answers, or the unverified session a lookup as the customer starts: set by the
    # rights desk only, checked against the stored request or session (access.decide).
    rights_request: str | None = None

    def __post_init__(self) -> None:
        if self.now.tzinfo is None or self.now.utcoffset() is None:
            # Agreements expire at instants; a naive time has no instant.
            raise ValidationError("context.now", "context", "timezone", "needs a timezone")


@dataclass(frozen=True, slots=True)
class Grant:
    """One category handed out, how it is transformed, and the rule that allowed it."""

    category: str
    transform: str
    rule_id: str


@dataclass(frozen=True, slots=True)
class Decision:
    """What ``decide`` allowed, what it denied and why, and the duties that come with it."""

    recipient: str
    purpose: str
    allowed: Mapping[str, Grant]
    denied: Mapping[str, str]
    obligations: frozenset[str] = field(default_factory=frozenset)
    policy_version: str = ""
    # Customer-scoped agreements in force: the customer must be assigned to at least one
    # agreement of each group (one group per contractor in the chain).
    customer_scope: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Disclosure:
    """What one recipient received for one purpose, and the decision that allowed it."""

    customer_id: str
    values: dict[str, Any]
    decision: Decision
    request_id: str | None = None  # the read's, as its ledger entry carries it

    def to_json(self) -> dict[str, Any]:
        """The one shape of a read: what ``ntk customer get --json`` prints and
        ``GET /v1/customers/{id}`` answers (the request id in its header)."""
        decision = self.decision
        return {
            "customer_id": self.customer_id,
            "recipient": decision.recipient,
            "purpose": decision.purpose,
            "policy_version": decision.policy_version,
            "values": self.values,
            "transforms": {c: g.transform for c, g in decision.allowed.items()},
            "rules": {c: g.rule_id for c, g in decision.allowed.items()},
            "denied": dict(decision.denied),
            "obligations": sorted(decision.obligations),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], request_id: str | None = None) -> Disclosure:
        """A read answered over HTTP, as the library's own type (what the client gives)."""
        rules = data.get("rules", {})
        decision = Decision(
            recipient=data["recipient"],
            purpose=data["purpose"],
            allowed={
                c: Grant(c, transform, rules.get(c, ""))
                for c, transform in data["transforms"].items()
            },
            denied=dict(data["denied"]),
            obligations=frozenset(data["obligations"]),
            policy_version=data["policy_version"],
        )
        return cls(data["customer_id"], dict(data["values"]), decision, request_id)
