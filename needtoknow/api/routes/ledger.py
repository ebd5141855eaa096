"""The ledger for auditors: signed tree heads, consistency proofs, a customer's history."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from needtoknow.api.models import Consistency, History, TreeHeadOut
from needtoknow.api.service import LedgerRead
from needtoknow.errors import NotFound
from needtoknow.ledger.heads import TreeHead
from needtoknow.vault import Vault

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])


def _head(head: TreeHead) -> TreeHeadOut:
    return TreeHeadOut.model_validate(head.to_json())


@router.get("/sth", response_model=TreeHeadOut)
def sth(who: LedgerRead) -> TreeHeadOut:
    """A signed tree head no more than a second old (a new one is signed if the newest
    is older), so polling a busy ledger does not seal and sign on every call."""
    return _head(who.vault.ledger.recent_head(timedelta(seconds=1)))


@router.get("/consistency", response_model=Consistency)
def consistency(
    first: Annotated[int, Query(ge=0)],
    second: Annotated[int, Query(ge=0)],
    who: LedgerRead,
) -> Consistency:
    """Proof that the tree of the signed head of size ``second`` extends that of size
    ``first`` (both must be heads the ledger signed)."""
    low, high = sorted((first, second))
    old, new = who.vault.ledger.head_of_size(low), who.vault.ledger.head_of_size(high)
    if old is None or new is None:
        raise NotFound(f"no signed tree head of size {low if old is None else high}")
    proof = who.vault.ledger.consistency(old, new)
    return Consistency(first=_head(old), second=_head(new), proof=[p.hex() for p in proof])


@router.get("/customers/{customer_id}", response_model=History)
def history(customer_id: str, who: LedgerRead) -> History:
    """Every access to one customer's data, each with its inclusion proof under one
    signed tree head (entries held by a running non-disclosure order are left out)."""
    return history_of(who.vault, customer_id)


def history_of(vault: Vault, customer_id: str) -> History:
    """A customer's history as the API shows it (to auditors here, to the customer at
    ``GET /v1/me/history``)."""
    return History.model_validate(vault.history_document(customer_id))
