"""A refusal of an unknown name says the nearest valid one and lists them all: a
recipient, purpose or category mistyped on the command line, over HTTP, in a policy
file or in a record."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from needtoknow.categories import seed_registry
from needtoknow.errors import CategoryError, PolicyError
from needtoknow.policy import Engine, load_policy_text
from needtoknow.types import Context

TEXT = (Path(__file__).parents[2] / "policies" / "nextraone.yaml").read_text("utf-8")
POLICY, _ = load_policy_text(TEXT)
NOW = Context(now=datetime(2026, 12, 5, tzinfo=UTC))


def test_the_engine_names_the_nearest_recipient_and_purpose() -> None:
    engine = Engine(POLICY)
    (reason,) = engine.decide("billing_tem", "billing", None, NOW).denied.values()
    assert "unknown recipient 'billing_tem': did you mean billing_team?" in reason
    assert "support_team" in reason  # and every valid one
    (reason,) = engine.decide("billing_team", "biling", None, NOW).denied.values()
    assert "did you mean billing?" in reason
    (reason,) = engine.decide("billing_team", "zzzz", None, NOW).denied.values()
    assert "did you mean" not in reason and "(one of: " in reason


def test_the_registry_and_the_loader_name_the_nearest_category() -> None:
    with pytest.raises(CategoryError, match="did you mean email"):
        seed_registry()["emial"]
    with pytest.raises(PolicyError, match="did you mean name"):
        load_policy_text(
            TEXT.replace(
                "grant: {name: full, address: full", "grant: {nmae: full, address: full", 1
            )
        )
