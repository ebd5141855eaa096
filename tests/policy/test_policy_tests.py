"""``ntk policy test``: expected decisions checked against a policy, like ``opa test``.
The demo policy's own file passes (CI runs it here); a policy that drifts from it fails
the case that notices, with exit code 17."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from needtoknow.errors import PolicyError
from needtoknow.policy import load_policy_text
from needtoknow.policy.testing import run_tests
from tests.conftest import Ntk

ROOT = Path(__file__).parents[2]
POLICY = ROOT / "policies" / "nextraone.yaml"
TESTS = ROOT / "policies" / "nextraone.test.yaml"


def test_the_demo_policy_passes_its_own_tests(ntk: Ntk) -> None:
    report = ntk.json("policy", "test", str(TESTS), "--policy", str(POLICY), "--json")
    assert report["failed"] == 0 and report["passed"] >= 8
    assert "8 passed, 0 failed" in ntk("policy", "test", str(TESTS)).stdout  # the vault's


def test_a_policy_that_drifts_fails_the_case_that_notices(ntk: Ntk, tmp_path: Path) -> None:
    drifted = tmp_path / "drifted.yaml"
    drifted.write_text(
        POLICY.read_text("utf-8").replace(
            "card_number: last4, bank_account: last4}", "card_number: full, bank_account: last4}", 1
        ),
        "utf-8",
    )
    failed = ntk("policy", "test", str(TESTS), "--policy", str(drifted), "--json", expect=17)
    report = json.loads(failed.stdout)
    (case,) = [c for c in report["cases"] if not c["passed"]]
    assert case["name"].startswith("billing gets") and report["failed"] == 1
    assert case["expected"]["allow"]["card_number"] == "last4"
    assert case["actual"]["allow"]["card_number"] == "full"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("cases: []", "'now' is a time with its zone"),
        (
            "now: 2026-11-26T00:00:00Z\ncases:\n  - {name: x, recipient: a, purpose: b}",
            "give 'allow' or 'deny'",
        ),
        (
            "now: 2026-11-26T00:00:00Z\ncases:\n"
            "  - {name: x, recipient: a, purpose: b, allow: {}, wat: 1}",
            "unknown key 'wat'",
        ),
        ("now: 2026-11-26T00:00:00Z\ncases: {}", "a mapping with 'now' and 'cases'"),
    ],
)
def test_a_file_that_is_not_tests_is_refused_naming_the_case(text: str, says: str) -> None:
    policy, _ = load_policy_text(POLICY.read_text("utf-8"))
    with pytest.raises(PolicyError, match=says):
        run_tests(policy, text)
