"""needtoknow's ``decide`` against AWS Cedar (``cedarpy``) on the same policy and requests.

The NextraOne policy is translated, from the policy model and independently of the engine,
into an equivalent Cedar policy: one ``permit`` per rule x recipient x purpose, agreement
expiry as entity attributes compared with ``context.day`` (a sub-contractor's permit follows
``principal.contractor`` for its contractor's agreement and categories),
``require_legal_reference`` / ``require_case_id`` as ``context has …`` conditions, and a
``forbid`` for sale and rental. Before timing, every request is decided by both engines
and the allow/deny answers must agree, which checks the engine against a second
formulation of the same semantics.

Cedar is given its best case: policies parsed once into a ``PolicySet``, entities once into
``Entities``, entity ids as dicts. Each Cedar decision answers one (recipient, purpose,
category); so does each ``decide`` call timed against it.

Run: ``.venv/bin/python benchmarks/bench_policy.py``
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any

import cedarpy

from needtoknow.policy import Engine, Policy, load_policy
from needtoknow.policy.model import BOUND_KINDS, COVERS
from needtoknow.types import Context

POLICY_FILE = Path(__file__).parents[1] / "policies" / "nextraone.yaml"
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
CONTEXTS = {
    "none": Context(now=NOW),
    "reference": Context(now=NOW, legal_reference="Court order 42/2026"),
    "reference+case": Context(now=NOW, legal_reference="IT Act s.69", case_id="C-1"),
    "after-expiry": Context(now=datetime(2028, 1, 1, tzinfo=UTC)),
}


def _epoch_day(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def _uid(kind: str, name: str) -> dict[str, str]:
    return {"type": kind, "id": name}


def _chain(policy: Policy, recipient: str) -> list[str]:
    chain = [recipient]
    while (parent := policy.recipients[chain[-1]].parent) is not None:
        chain.append(parent)
    return chain


def cedar_equivalent(policy: Policy) -> tuple[str, list[dict[str, Any]]]:
    """Cedar policy text and entities written from the policy model, not from the engine.

    Each rule becomes one ``permit`` per recipient x purpose. A sub-contractor's permit
    also requires the category to be among its contractor's (an entity attribute Cedar
    follows at evaluation time) and the contractor's agreement to be in force; categories
    whose transforms the two cannot share (``model.COVERS``) are left out. Obligations of
    every rule on the pair and its contractor chain apply, as the policy format defines.
    """
    grants: dict[tuple[str, str], dict[str, str]] = {}
    obligations: dict[tuple[str, str], set[str]] = {}
    for rule in policy.rules:
        for who in rule.recipients:
            for purpose in rule.purposes:
                grants.setdefault((who, purpose), {}).update(rule.grants)
                obligations.setdefault((who, purpose), set()).update(rule.obligations)
    statements = []
    attrs: dict[str, dict[str, Any]] = {name: {} for name in policy.recipients}
    for name, recipient in policy.recipients.items():
        if recipient.parent:
            attrs[name]["contractor"] = {"__entity": _uid("Recipient", recipient.parent)}
        for purpose in policy.purposes:
            own = grants.get((name, purpose), {})
            attrs[name][f"cats_{purpose}"] = [
                {"__entity": _uid("Category", c)} for c in sorted(own)
            ]
            expiries = [
                a.expires
                for a in policy.agreements
                if a.recipient == name and purpose in a.purposes
            ]
            if expiries:
                attrs[name][f"until_{purpose}"] = _epoch_day(max(expiries))
    for rule in policy.rules:
        for name in rule.recipients:
            chain = _chain(policy, name)
            for purpose in rule.purposes:
                categories = [
                    c
                    for c, t in rule.grants.items()
                    if all(
                        (up := grants.get((a, purpose), {}).get(c)) is not None
                        and (t in COVERS[up] or up in COVERS[t])
                        for a in chain[1:]
                    )
                ]
                if not categories:
                    continue
                conditions = [
                    "resource in [" + ", ".join(f'Category::"{c}"' for c in categories) + "]"
                ]
                path = "principal"
                for link in chain:
                    if policy.recipients[link].kind in BOUND_KINDS:
                        attr = f"until_{purpose}"
                        conditions.append(f"{path} has {attr} && context.day <= {path}.{attr}")
                    if link != name:
                        conditions.append(f"resource in {path}.cats_{purpose}")
                    path += ".contractor"
                duties = set().union(*(obligations.get((a, purpose), set()) for a in chain))
                if "require_legal_reference" in duties:
                    conditions.append("context has legal_reference")
                if "require_case_id" in duties:
                    conditions.append("context has case_id")
                statements.append(
                    f'permit(principal == Recipient::"{name}", action == Action::"{purpose}", '
                    f"resource) when {{ {' && '.join(conditions)} }};"
                )
    prohibited = ", ".join(f'Action::"{p}"' for p in sorted(policy.prohibited_purposes))
    statements.append(f"forbid(principal, action in [{prohibited}], resource);")
    entities = [
        {"uid": _uid("Recipient", name), "attrs": attrs[name], "parents": []}
        for name in policy.recipients
    ]
    return "\n".join(statements), entities


def cedar_request(recipient: str, purpose: str, category: str, context: Context) -> dict[str, Any]:
    ctx: dict[str, Any] = {"day": _epoch_day(context.now.date())}
    if context.legal_reference:
        ctx["legal_reference"] = context.legal_reference
    if context.case_id:
        ctx["case_id"] = context.case_id
    return {
        "principal": _uid("Recipient", recipient),
        "action": _uid("Action", purpose),
        "resource": _uid("Category", category),
        "context": ctx,
    }


def per_call_us(calls: Sequence[Callable[[], object]], repeats: int) -> float:
    """Median over ``repeats`` runs of the mean microseconds per call (GC off, as timeit)."""
    runs = []
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        for call in calls:
            call()
        runs.append((time.perf_counter() - start) / len(calls) * 1e6)
        gc.enable()
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timing runs per engine")
    repeats = parser.parse_args().repeats
    policy, registry = load_policy(POLICY_FILE)
    engine = Engine(policy)
    text, entities = cedar_equivalent(policy)
    policy_set = cedarpy.PolicySet.from_str(text)
    cedar_entities = cedarpy.Entities.from_json_str(json.dumps(entities))

    requests = [
        (r, p, c, ctx)
        for r in policy.recipients
        for p in policy.purposes
        for c in registry
        for ctx in CONTEXTS.values()
    ]
    cedar_requests = [cedar_request(*req) for req in requests]
    answers = cedarpy.is_authorized_batch(cedar_requests, policy_set, cedar_entities)
    for (recipient, purpose, category, context), answer in zip(requests, answers, strict=True):
        ours = category in engine.decide(recipient, purpose, (category,), context).allowed
        if answer.decision not in (cedarpy.Decision.Allow, cedarpy.Decision.Deny):
            raise SystemExit(f"cedar error: {answer.diagnostics.errors}")
        if ours != answer.allowed:
            raise SystemExit(f"engines disagree on {recipient} {purpose} {category}")
    allows = sum(a.allowed for a in answers)
    print(f"{len(requests)} requests ({allows} allowed): both engines agree on every one")

    ours_single = [partial(engine.decide, r, p, (c,), x) for r, p, c, x in requests]
    cedar_single = [
        partial(cedarpy.is_authorized, q, policy_set, cedar_entities) for q in cedar_requests
    ]
    cedar_text = [partial(cedarpy.is_authorized, q, text, entities) for q in cedar_requests]
    served = {(r, p) for rule in policy.rules for r in rule.recipients for p in rule.purposes}
    in_rules = [i for i, req in enumerate(requests) if (req[0], req[1]) in served]
    cold = Engine(policy)
    ours_cold_us = per_call_us(
        [partial(cold.decide, r, p, (c,), x) for r, p, c, x in requests], repeats=1
    )
    ours_us = per_call_us(ours_single, repeats=repeats)
    cedar_us = per_call_us(cedar_single, repeats=repeats)
    ours_served_us = per_call_us([ours_single[i] for i in in_rules], repeats=repeats)
    cedar_served_us = per_call_us([cedar_single[i] for i in in_rules], repeats=repeats)
    cedar_text_us = per_call_us(cedar_text[:500], repeats=repeats)
    batch_us = []
    for _ in range(repeats):
        start = time.perf_counter()
        cedarpy.is_authorized_batch(cedar_requests, policy_set, cedar_entities)
        batch_us.append((time.perf_counter() - start) / len(cedar_requests) * 1e6)
    cedar_batch_us = statistics.median(batch_us)

    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, cedarpy {version('cedarpy')}"
    )
    print(f"{'engine':55s} {'µs/decision':>12s} {'cedar ÷ ours':>13s}")
    print(f"all {len(requests)} requests:")
    rows = [
        ("needtoknow Engine.decide (one category)", ours_us),
        ("needtoknow Engine.decide, first pass on a fresh engine", ours_cold_us),
        ("cedarpy is_authorized (PolicySet + Entities, parsed once)", cedar_us),
        ("cedarpy is_authorized_batch (all requests in one call)", cedar_batch_us),
        ("cedarpy is_authorized (policy text, as in its README)", cedar_text_us),
    ]
    for name, value in rows:
        print(f"{name:55s} {value:12.3f} {value / ours_us:12.1f}x")
    print(f"the {len(in_rules)} requests for recipient x purpose pairs some rule serves:")
    for name, value in (
        ("needtoknow Engine.decide (one category)", ours_served_us),
        ("cedarpy is_authorized (PolicySet + Entities, parsed once)", cedar_served_us),
    ):
        print(f"{name:55s} {value:12.3f} {value / ours_served_us:12.1f}x")
    ratio = min(cedar_us / ours_us, cedar_served_us / ours_served_us)
    cold_ratio = cedar_us / ours_cold_us
    print(f"cedarpy ÷ decide with an empty memo (first sight of each request): {cold_ratio:.0f}x")
    verdict = "met" if ratio >= 50 else "NOT met"
    print(
        f"cedarpy's fastest single call ÷ decide, worse mix: {ratio:.0f}x (goal ≥ 50x: {verdict})"
    )


if __name__ == "__main__":
    main()
