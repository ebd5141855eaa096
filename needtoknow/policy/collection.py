"""What the policy lets the vault collect, and why: the account behind
``ntk policy explain --collection``.

The seed promises to "limit the collection ... of Customer Personally Identifiable
Information only on a need-to-know basis". Each purpose names the categories it needs
collected; the vault refuses a write carrying any other (:class:`~needtoknow.errors.
NotCollected`). This account lists, per category, the purposes that collect it with
their legal basis (a category only consent-based purposes collect is held only while a
consent stands), and how many customers hold each — including those still holding
a category no purpose collects any more (collected under an earlier version), which is
what a privacy officer must then review for erasure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from needtoknow.categories import Registry
from needtoknow.policy.model import Policy


def explain_collection(
    policy: Policy, registry: Registry, held: Mapping[str, int]
) -> dict[str, Any]:
    """A JSON-ready account; ``held`` counts live customers per category held."""
    collected = policy.collected()
    return {
        "policy": policy.name,
        "policy_version": policy.version,
        "declared": policy.collection_declared,  # else every category, for every purpose
        "collected": {
            category: {
                "label": registry[category].label,
                "purposes": [
                    {
                        "purpose": name,
                        "legal_basis": policy.purposes[name].legal_basis,
                        "description": policy.purposes[name].description,
                        "retention": str(r) if (r := policy.purposes[name].retention) else None,
                    }
                    for name in purposes
                ],
                # collected only with the customer's consent to one of these
                "consent_needed": policy.consent_to_collect(category),
                "held_by": held.get(category, 0),
            }
            for category, purposes in collected.items()
        },
        # SPDI Rules 2011 r.5(1): collected only with consent in writing, until a date
        "written_consent": None
        if (written := policy.written_consent) is None
        else {
            "law": written.law,
            "categories": sorted(written.categories),
            "until": written.until.isoformat(),
        },
        "not_collected": {
            category: {
                "label": registry[category].label,
                "held_by": held.get(category, 0),
            }
            for category in sorted(set(registry) - set(collected))
        },
    }
