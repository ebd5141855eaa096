"""Policy tests, like ``opa test``: a YAML file of expected decisions — recipient,
purpose, categories and context in; the categories allowed (with their transforms) or
denied out — checked against a policy without a vault.

::

    now: 2026-11-26T00:00:00Z          # the time every case is decided at (required)
    cases:
      - name: billing sees only the last four digits of a card
        recipient: billing_team
        purpose: billing
        categories: [name, card_number]   # optional: every category
        allow: {name: full, card_number: last4}   # exactly these, with these transforms
      - name: advertisers never receive PII
        recipient: ad_network
        purpose: advertising
        allow: {}                         # nothing at all
      - name: an authority needs a legal reference
        recipient: law_enforcement
        purpose: legal_process
        context: {legal_reference: "BNSS 2023 s.94 notice 12/2026"}
        deny: []                          # …or: these categories must be denied

A case passes when the allowed categories and transforms are exactly ``allow`` (when
given) and every category in ``deny`` is denied. A file that cannot be read as tests is a
PolicyError naming the case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml

from needtoknow.errors import PolicyError
from needtoknow.guards.yamltext import SafeLoader
from needtoknow.policy.engine import Engine
from needtoknow.policy.model import Policy
from needtoknow.types import Context

CASE_KEYS = frozenset({"name", "recipient", "purpose", "categories", "context", "allow", "deny"})
CONTEXT_KEYS = frozenset({"legal_reference", "case_id"})


@dataclass(frozen=True)
class Outcome:
    name: str
    passed: bool
    expected: dict[str, Any]
    actual: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "passed": self.passed}
        if not self.passed:
            out |= {"expected": self.expected, "actual": self.actual}
        return out


@dataclass
class TestReport:
    __test__ = False  # not a pytest class, whatever its name

    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.passed]

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": len(self.outcomes) - len(self.failed),
            "failed": len(self.failed),
            "cases": [o.to_json() for o in self.outcomes],
        }


def run_tests(policy: Policy, text: str, source: str = "<tests>") -> TestReport:
    """Decide every case of the tests in ``text`` with ``policy`` (and its own
    agreements), at the file's ``now``."""
    data = yaml.load(text, Loader=SafeLoader)
    if not isinstance(data, Mapping) or not isinstance(data.get("cases"), list):
        raise PolicyError(source, None, "a test file is a mapping with 'now' and 'cases'")
    now = _moment(data.get("now"), source)
    engine = Engine(policy)
    report = TestReport()
    for number, case in enumerate(data["cases"], 1):
        report.outcomes.append(_run(engine, _case(case, number, source), now))
    return report


def _run(engine: Engine, case: Mapping[str, Any], now: datetime) -> Outcome:
    context = Context(now=now, **case.get("context", {}))
    decision = engine.decide(case["recipient"], case["purpose"], case.get("categories"), context)
    allowed = {c: g.transform for c, g in decision.allowed.items()}
    expected: dict[str, Any] = {}
    actual: dict[str, Any] = {}
    passed = True
    if "allow" in case:
        expected["allow"], actual["allow"] = dict(case["allow"]), allowed
        passed = allowed == dict(case["allow"])
    if "deny" in case:
        wanted = sorted(case["deny"])
        denied = sorted(c for c in wanted if c in decision.denied or c not in allowed)
        expected["deny"], actual["deny"] = wanted, denied
        passed = passed and denied == wanted
    if not passed:
        actual["reasons"] = dict(decision.denied)
    return Outcome(str(case["name"]), passed, expected, actual)


def _case(case: Any, number: int, source: str) -> Mapping[str, Any]:
    where = f"case {number}"
    if not isinstance(case, Mapping):
        raise PolicyError(source, None, f"{where}: a case is a mapping")
    unknown = sorted(set(case) - CASE_KEYS)
    if unknown:
        raise PolicyError(source, None, f"{where}: unknown key {unknown[0]!r}")
    for key in ("name", "recipient", "purpose"):
        if not isinstance(case.get(key), str):
            raise PolicyError(source, None, f"{where}: '{key}' is required text")
    if "allow" not in case and "deny" not in case:
        raise PolicyError(source, None, f"{where} ({case['name']}): give 'allow' or 'deny'")
    if not isinstance(case.get("allow", {}), Mapping) or not isinstance(case.get("deny", []), list):
        raise PolicyError(
            source, None, f"{where}: 'allow' maps categories to transforms; 'deny' lists categories"
        )
    context = case.get("context", {})
    if not isinstance(context, Mapping) or set(context) - CONTEXT_KEYS:
        raise PolicyError(source, None, f"{where}: context keys: {', '.join(sorted(CONTEXT_KEYS))}")
    return case


def _moment(value: Any, source: str) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment
    raise PolicyError(source, None, "'now' is a time with its zone, e.g. 2026-11-26T00:00:00Z")
