"""The access summary a customer is owed (DPDP Act s.11): what is held about them (names,
not values), why and on what legal basis, who received what and when — each receipt
with its inclusion proof under one signed tree head, so the customer can check the
company did not leave one out of a log it cannot rewrite — how long each category is
kept, what an erasure request would keep and under which law, and whom to contact.

A copy of the values is sent only on request, read through the policy like any other
disclosure (recipient ``data_principal``, purpose ``rights_request``: a policy without
that rule refuses it) and sealed with HPKE to a key the customer gives, as a legal
disclosure's package is.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from needtoknow.errors import NotFound
from needtoknow.records.disclosures import seal_to
from needtoknow.types import Context
from needtoknow.vault import Vault

SELF = ("data_principal", "rights_request")  # the customer reading their own data
RECEIPT_KINDS = frozenset({"read", "disclosure"})


def received(entry: dict[str, Any]) -> bool:
    """Whether a ledger entry records someone receiving some of the customer's data."""
    return (
        entry.get("kind") in RECEIPT_KINDS
        and entry.get("decision", "allow") == "allow"
        and bool(entry.get("recipient"))
        and bool(entry.get("categories"))
    )


def access_summary(vault: Vault, customer_id: str) -> dict[str, Any]:
    record = vault.reader.fetch(customer_id)
    if record is None:
        raise NotFound(f"no customer {customer_id!r}")
    policy, registry = vault.policy, vault.registry
    held = sorted(record.fields)
    proofs = [p for p in vault.history(customer_id) if received(json.loads(p.entry))]
    receipts = []
    for proof in proofs:
        entry = json.loads(proof.entry)
        found = policy.recipients.get(entry["recipient"])
        receipts.append(
            {
                "recipient": entry["recipient"],
                "recipient_kind": found.kind if found else None,
                "purpose": entry.get("purpose"),
                "legal_basis": entry.get("legal_basis"),
                "categories": entry["categories"],
                "time": entry["time"],
                "proof": proof.to_json(),
            }
        )
    head = proofs[0].head if proofs else vault.ledger.sign_head()
    now_plan = vault.erasures.preview(customer_id)
    on_erasure = vault.erasures.preview(customer_id, erasing=True)
    return {
        "customer_id": customer_id,
        "categories": [
            {
                "category": name,
                "label": registry[name].label if name in registry else name,
                "purposes": [
                    {"purpose": p, "legal_basis": policy.purposes[p].legal_basis}
                    for p in policy.collectors(name)
                ],
                "held_for": list(record.held[name].readable_for) if name in record.held else None,
            }
            for name in held
        ],
        "recipients": receipts,
        "signed_tree_head": head.to_json(),
        "retention": [fate.to_json() for fate in now_plan.fates],
        "on_erasure": on_erasure.to_json(),
        "contact": policy.grievance_contact,
    }


def sealed_copy(
    vault: Vault, customer_id: str, public_key: bytes, request_id: str
) -> dict[str, Any]:
    """The customer's values, read through the policy as their own recipient — allowed
    only while answering their verified access request ``request_id`` — and sealed to
    ``public_key`` (raw X25519); the ledger keeps the read (with the request id as its
    case), the copy only its hash."""
    recipient, purpose = SELF
    context = Context(now=vault.clock(), case_id=request_id, rights_request=request_id)
    disclosure = vault.get(customer_id, recipient=recipient, purpose=purpose, context=context)
    body = json.dumps(
        {"nonce": secrets.token_hex(32), "customer_id": customer_id, "fields": disclosure.values},
        sort_keys=True,
        ensure_ascii=False,
    ).encode()
    sealed, how = seal_to(public_key, body, f"needtoknow access copy {customer_id}")
    return {
        "payload": sealed.hex(),
        "payload_sha256": hashlib.sha256(sealed).hexdigest(),
        "encryption": how,
        "categories": sorted(disclosure.values),
    }
