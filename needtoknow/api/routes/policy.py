"""The policy as the key's recipient sees it: the active version, decide, explain."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from needtoknow.api.models import Decided, DecideRequest, PolicyInfo
from needtoknow.api.service import PolicyRead
from needtoknow.policy.model import ONLY_THROUGH
from needtoknow.types import Context

router = APIRouter(prefix="/v1/policy", tags=["policy"])


@router.get("", response_model=PolicyInfo)
def current(who: PolicyRead) -> PolicyInfo:
    return PolicyInfo(name=who.vault.policy.name, version=who.vault.policy.version)


@router.post("/decide", response_model=Decided)
def decide(body: DecideRequest, who: PolicyRead) -> Decided:
    """What the key's recipient would receive for a purpose (nothing is read)."""
    decision = who.vault.engine.decide(
        who.key.recipient,
        body.purpose,
        body.categories,
        Context(now=who.vault.clock()),
    )
    return Decided(
        recipient=decision.recipient,
        purpose=decision.purpose,
        allowed={
            c: {"transform": g.transform, "rule": g.rule_id} for c, g in decision.allowed.items()
        },
        denied=dict(decision.denied),
        obligations=sorted(decision.obligations),
        policy_version=decision.policy_version,
        only_through=_only_through(who),
    )


@router.get("/explain")
def explain(purpose: Annotated[str, Query(max_length=100)], who: PolicyRead) -> dict[str, Any]:
    """The rules behind what the key's recipient may receive for ``purpose``."""
    return who.vault.explain(who.key.recipient, purpose)


def _only_through(who: PolicyRead) -> str | None:
    """The one way the key's recipient is served, if its kind has one (None also for a
    recipient a later policy version no longer names: keys outlive versions)."""
    known = who.vault.policy.recipients.get(who.key.recipient)
    return ONLY_THROUGH.get(known.kind) if known is not None else None
