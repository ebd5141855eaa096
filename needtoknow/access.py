"""The one path PII takes out of the vault: decide → fetch → decrypt → transform.

Nothing else in needtoknow decrypts a customer's fields. The policy is asked
first, before the database is touched, so a denied request never decrypts — and
never even learns whether the customer exists. Only the categories the decision
allows are decrypted, and each is transformed before it is returned.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from needtoknow.errors import NotFound, PolicyDenied
from needtoknow.policy import transforms
from needtoknow.types import Context, Decision
from needtoknow.vault import envelope

if TYPE_CHECKING:
    from needtoknow.vault.vault import Vault


@dataclass(frozen=True)
class Disclosure:
    """What one recipient received for one purpose, and the decision that allowed it."""

    customer_id: str
    values: dict[str, Any]
    decision: Decision


def read(
    vault: Vault,
    customer_id: str,
    recipient: str,
    purpose: str,
    categories: Iterable[str] | None,
    context: Context,
) -> Disclosure:
    """Disclose ``categories`` (None: all allowed) of one customer, or raise.

    Raises :class:`PolicyDenied` when nothing is allowed, :class:`NotFound` for an
    unknown or erased customer, :class:`IntegrityError` for tampered data.
    """
    decision = vault.engine.decide(recipient, purpose, categories, context)
    if not decision.allowed:
        raise PolicyDenied(recipient, purpose, dict(decision.denied))
    found = vault.reader.fetch(customer_id)
    if found is None:
        raise NotFound(f"no customer {customer_id!r}")
    key, sealed = found
    dek = envelope.unwrap_dek(
        vault.keys, key.kek_version, key.wrapped_dek, customer_id, key.dek_version
    )
    allowed = decision.allowed
    wanted = {c: sealed[c] for c in allowed if c in sealed}
    plain = envelope.decrypt_fields(dek, customer_id, key.dek_version, wanted)

    def tokenize(canonical: bytes) -> str:
        return vault.tokenize(recipient, canonical)

    values = {
        category: transforms.apply(
            allowed[category].transform, value, vault.registry[category], tokenize
        )
        for category, value in plain.items()
    }
    return Disclosure(customer_id, values, decision)
