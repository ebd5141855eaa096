"""needtoknow's ``decide`` against AWS Cedar (``cedarpy``) on the same policy and requests.

The NextraOne policy is translated into an equivalent Cedar policy: one ``permit`` per
recipient x purpose with the categories it may receive, agreement expiry as an entity
attribute compared with ``context.now``, ``require_legal_reference`` / ``require_case_id``
as ``context has …`` conditions, and a ``forbid`` for sale and rental. Before timing, every
request is decided by both engines and the allow/deny answers must agree.

Cedar is given its best case: policies parsed once into a ``PolicySet``, entities once into
``Entities``, entity ids as dicts. Each Cedar decision answers one (recipient, purpose,
category); so does each ``decide`` call timed against it.

Run: ``.venv/bin/python benchmarks/bench_policy.py``
"""

from __future__ import annotations

import argparse
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

from needtoknow.policy import Engine, load_policy
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


def cedar_equivalent(engine: Engine) -> tuple[str, list[dict[str, Any]]]:
    """Cedar policy text and entities that decide allow/deny exactly as ``engine`` does."""
    policy = engine.policy
    statements, entities = [], []
    full = Context(now=NOW, legal_reference="x", case_id="y")
    for recipient in policy.recipients:
        attrs: dict[str, Any] = {}
        for purpose in policy.purposes:
            account = engine.explain(recipient, purpose, full)
            allowed = list(account["allowed"])  # type: ignore[call-overload]
            if not allowed:
                continue
            conditions = ["resource in [" + ", ".join(f'Category::"{c}"' for c in allowed) + "]"]
            until = account["agreement_until"]
            if until is not None:
                attr = f"until_{purpose}"
                attrs[attr] = _epoch_day(date.fromisoformat(str(until)))
                conditions.append(f"context.day <= principal.{attr}")
            obligations = account["obligations"]
            if "require_legal_reference" in obligations:  # type: ignore[operator]
                conditions.append("context has legal_reference")
            if "require_case_id" in obligations:  # type: ignore[operator]
                conditions.append("context has case_id")
            statements.append(
                f'permit(principal == Recipient::"{recipient}", action == Action::"{purpose}", '
                f"resource) when {{ {' && '.join(conditions)} }};"
            )
        entities.append({"uid": _uid("Recipient", recipient), "attrs": attrs, "parents": []})
    prohibited = ", ".join(f'Action::"{p}"' for p in sorted(policy.prohibited_purposes))
    statements.append(f"forbid(principal, action in [{prohibited}], resource);")
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
    """Median over ``repeats`` runs of the mean microseconds per call."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for call in calls:
            call()
        runs.append((time.perf_counter() - start) / len(calls) * 1e6)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timing runs per engine")
    repeats = parser.parse_args().repeats
    policy, registry = load_policy(POLICY_FILE)
    engine = Engine(policy)
    text, entities = cedar_equivalent(engine)
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
    start = time.perf_counter()
    for recipient, purpose, category, context in requests:
        cold.decide(recipient, purpose, (category,), context)
    ours_cold_us = (time.perf_counter() - start) / len(requests) * 1e6
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
    verdict = "met" if ratio >= 50 else "NOT met"
    print(
        f"cedarpy's fastest single call ÷ decide, worse mix: {ratio:.0f}x (goal ≥ 50x: {verdict})"
    )


if __name__ == "__main__":
    main()
