"""Synthetic usage events: seeded, skewed like real traffic, and with PII where users
put it (a few searches are e-mail addresses or phone numbers) so ingestion has work."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

from needtoknow.categories.india import STATE_CODES

PAGES = [f"/hosting/{n}" for n in range(200)] + [f"/domains/{n}" for n in range(300)]
TERMS = [f"term {n}" for n in range(2000)]
PLANS = {"starter": 99, "business": 299, "pro": 599, "vps-1": 999, "vps-2": 1999, "email-basic": 49}
ADS = [f"ad-{n}" for n in range(50)]
LINKS = [f"link-{n}" for n in range(100)]
REGIONS = sorted(STATE_CODES)


def _zipf(rng: random.Random, items: list[str], s: float = 1.1) -> str:
    """An item with probability falling as a power of its rank (heavy head, long tail)."""
    rank = min(len(items), int(rng.paretovariate(s)))
    return items[rank - 1]


def events(count: int, subjects: int = 200_000, seed: int = 2026) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    start = date(2026, 11, 1)
    for _ in range(count):
        # Heavy users: a few subjects make many events.
        subject = (
            min(subjects, int(rng.paretovariate(0.8)))
            if rng.random() < 0.3
            else (rng.randint(1, subjects))
        )
        kind = rng.choices(
            ("page_view", "link_click", "ad_click", "search", "plan_subscribed"),
            weights=(60, 15, 8, 15, 2),
        )[0]
        event: dict[str, Any] = {
            "kind": kind,
            "day": (start + timedelta(days=rng.randint(0, 29))).isoformat(),
            "customer_id": f"cust-{subject}",
            "region": rng.choice(REGIONS),
            "page": _zipf(rng, PAGES),
        }
        if kind == "page_view":
            event["value"] = min(3600, int(rng.lognormvariate(3.5, 1.0)))  # seconds on page
        elif kind == "link_click":
            event["link"] = _zipf(rng, LINKS)
        elif kind == "ad_click":
            event["ad"] = _zipf(rng, ADS)
        elif kind == "search":
            roll = rng.random()
            if roll < 0.002:
                event["search"] = f"reset password for user{rng.randint(1, 999)}@example.in"
            elif roll < 0.004:
                event["search"] = f"call me on 98{rng.randint(10_000_000, 99_999_999)}"
            else:
                event["search"] = _zipf(rng, TERMS)
        elif kind == "plan_subscribed":
            event["plan"] = rng.choice(list(PLANS))
            event["value"] = PLANS[event["plan"]]  # ₹ a month
        yield event


def consents(purposes: frozenset[str]) -> Callable[[str], frozenset[str]]:
    """The standing consents of the synthetic customers: every other one consents to
    each of ``purposes`` (as ``ntk demo`` has every other real customer consent), so
    reports for consent-based purposes have consenting customers to count."""

    def standing(customer_id: str) -> frozenset[str]:
        number = customer_id.rpartition("-")[2]
        return purposes if number.isdigit() and int(number) % 2 else frozenset()

    return standing
