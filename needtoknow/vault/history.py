"""A customer's history: every ledger entry about them, with its proof, as they may
see it — entries held under a non-disclosure order left out, other customers' ids
taken out of entries that name several."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from needtoknow.ledger import InclusionProof
from needtoknow.ledger.entry import canonical_json
from needtoknow.types import checked_customer_id

if TYPE_CHECKING:
    from needtoknow.vault.vault import Vault


def of(vault: Vault, customer_id: str, include_held: bool = False) -> list[InclusionProof]:
    """Who saw this customer's data: every ledger entry about them, with proofs.

    Every entry of a disclosure request whose non-disclosure order runs is left out
    (the customer may not learn of it yet, whatever the request's status) unless
    ``include_held``, for internal audit. The hidden entries stay in the tree, so
    the proofs shown remain valid under the same head.
    """
    proofs = vault.ledger.history(checked_customer_id(customer_id))
    if include_held:
        return proofs
    held = vault.disclosures.under_order()

    def under_order(entry: dict[str, Any]) -> bool:
        # The case id alone is caller-supplied: only the authority's own entries
        # under a held disclosure are held, so nobody else can hide behind its id.
        case = entry.get("case_id")
        return case in held and entry.get("recipient") == held[case]

    return [_only_theirs(p, customer_id) for p in proofs if not under_order(json.loads(p.entry))]


def _only_theirs(proof: InclusionProof, customer_id: str) -> InclusionProof:
    """An entry written before operations on several customers were ledgered one entry
    per customer may name others (``customer_ids``, a release's ``customers`` and
    ``outside_period``): shown to one customer, the others' ids are taken out, and the
    proof keeps the stored entry's leaf hash, so it still checks."""
    entry = json.loads(proof.entry)
    detail = entry.get("detail") if isinstance(entry.get("detail"), dict) else {}
    lists = {"customer_ids": entry.get("customer_ids")} | {
        k: detail.get(k) for k in ("customers", "outside_period")
    }
    if all(not isinstance(v, list) or set(v) <= {customer_id} for v in lists.values()):
        return proof
    if isinstance(entry.get("customer_ids"), list):
        entry["customer_ids"] = [c for c in entry["customer_ids"] if c == customer_id]
    for key in ("customers", "outside_period"):
        if isinstance(detail.get(key), list):
            detail[key] = [c for c in detail[key] if c == customer_id]
    return proof.redacted(canonical_json(entry))
