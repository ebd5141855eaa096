"""The one path PII takes out of the vault: decide → fetch → decrypt → transform → ledger.

Nothing else in needtoknow decrypts a customer's fields. The policy is asked
first, before the database is touched, so a denied request never decrypts — and
never even learns whether the customer exists. Only the categories the decision
allows are decrypted, and each is transformed before it is returned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from needtoknow.crypto import envelope
from needtoknow.errors import (
    IntegrityError,
    NeedToKnowError,
    NotFound,
    PolicyDenied,
)
from needtoknow.ledger.entry import Entry
from needtoknow.policy import transforms
from needtoknow.policy.model import ONLY_THROUGH
from needtoknow.storage.database import reading, stored_utc
from needtoknow.storage.schema import customer_sessions, rights_requests
from needtoknow.storage.store import Fetched, Held, KeyRow
from needtoknow.types import Context, Decision, Disclosure, checked_customer_id
from needtoknow.vault import minors

if TYPE_CHECKING:
    from needtoknow.vault.vault import Vault


def read(
    vault: Vault,
    customer_id: str,
    recipient: str,
    purpose: str,
    categories: Iterable[str] | None,
    context: Context,
) -> Disclosure:
    """Disclose ``categories`` (None: all allowed) of one customer, or raise.

    Every outcome is a ledger entry, committed before anything is returned or raised: if
    the ledger cannot be written, nothing is disclosed. Raises :class:`PolicyDenied`
    when nothing is allowed, :class:`NotFound` for an unknown or erased customer,
    :class:`IntegrityError` for tampered data.
    """
    customer_id, decision = _decided(vault, customer_id, recipient, purpose, categories, context)
    found = _fetch(vault, customer_id) if decision.allowed else None
    entry, outcome = _disclose(vault, customer_id, decision, context, found)
    vault.ledger.record(entry)
    return _released(outcome)


async def read_async(
    vault: Vault,
    customer_id: str,
    recipient: str,
    purpose: str,
    categories: Iterable[str] | None,
    context: Context,
) -> Disclosure:
    """:func:`read` for a coroutine: the same steps on the caller's thread, but the row
    is fetched with those of the loop's other requests, and the wait for the ledger
    commit yields the event loop instead of holding a thread. For local databases
    (SQLite), where the read itself takes microseconds."""
    customer_id, decision = _decided(vault, customer_id, recipient, purpose, categories, context)
    found = await vault.reader.fetch_async(customer_id) if decision.allowed else None
    entry, outcome = _disclose(vault, customer_id, decision, context, found)
    await vault.ledger.record_async(entry)
    return _released(outcome)


def _decided(
    vault: Vault,
    customer_id: str,
    recipient: str,
    purpose: str,
    categories: Iterable[str] | None,
    context: Context,
) -> tuple[str, Decision]:
    """The checked customer id and the decision for this customer: what, if anything,
    the read may fetch the record for."""
    customer_id = checked_customer_id(customer_id)
    decision = decide(vault, recipient, purpose, categories, context, (customer_id,))
    return customer_id, _for_customer(vault, decision, customer_id)


def _fetch(vault: Vault, customer_id: str) -> Fetched | None:
    """The customer's record, or the IntegrityError a malformed one is: recorded as the
    read's outcome like a field that fails to decrypt."""
    try:
        return vault.reader.fetch(customer_id)
    except IntegrityError as exc:
        return exc


SESSION_START = timedelta(minutes=1)


def decide(
    vault: Vault,
    recipient: str,
    purpose: str,
    categories: Iterable[str] | None,
    context: Context,
    customer_ids: Sequence[str] | None,
) -> Decision:
    """The policy's decision for reading ``customer_ids`` (None: a lookup), with the one
    way an authority is served: a release of an approved disclosure request. Anything
    else — a direct read with any legal reference, from HTTP, the CLI or the library —
    would skip the second person's approval and the customer's notice, so it is denied."""
    engine = vault.engine
    decision = engine.decide(recipient, purpose, categories, context)
    known = engine.policy.recipients.get(recipient)
    if known is None or known.kind not in ONLY_THROUGH:
        return decision
    if known.kind == "authority" and _releasing(vault, decision, context, customer_ids):
        return decision
    if known.kind == "data_principal" and _answering(vault, context, customer_ids):
        return decision
    wanted = [*decision.allowed, *decision.denied] or ["*"]
    return replace(decision, allowed={}, denied=dict.fromkeys(wanted, ONLY_THROUGH[known.kind]))


def _answering(vault: Vault, context: Context, customer_ids: Sequence[str] | None) -> bool:
    """Whether this read as the customer answers the stored access request the context
    names — open, verified, of this one customer — or this lookup starts the stored
    session it names, still unverified and just begun. Any other read "as the customer"
    (an operator at the CLI) would put the operator's read in the customer's name."""
    if context.rights_request is None:
        return False
    with reading(vault.db) as conn:
        if customer_ids is None:
            started = conn.execute(
                sa.select(customer_sessions.c.started_at).where(
                    customer_sessions.c.id == context.rights_request,
                    customer_sessions.c.token_digest.is_(None),
                )
            ).scalar_one_or_none()
            return started is not None and stored_utc(started) > context.now - SESSION_START
        row = conn.execute(
            sa.select(rights_requests).where(rights_requests.c.id == context.rights_request)
        ).first()
    return (
        row is not None
        and (row.kind, row.status, row.verification) == ("access", "open", "verified")
        and list(customer_ids) == [row.customer_id]
    )


def _releasing(
    vault: Vault, decision: Decision, context: Context, customer_ids: Sequence[str] | None
) -> bool:
    """Whether this read is part of releasing the request the context names: the stored
    request (not the caller) must say it is being released now (the release claimed it),
    to this authority for this purpose under this reference, and cover every customer and
    every category the decision would hand out."""
    if context.disclosure_request is None or customer_ids is None:
        return False
    try:
        request = vault.disclosures.get(context.disclosure_request)
    except NotFound:
        return False
    return (
        request.status == "releasing"
        and request.authority == decision.recipient
        and request.purpose == decision.purpose
        and request.reference == context.legal_reference
        and set(customer_ids) <= set(request.customer_ids)
        and set(decision.allowed) <= set(request.categories)
    )


def _released(outcome: Disclosure | NeedToKnowError) -> Disclosure:
    """The disclosure, once its entry is committed — or the error it was recorded as."""
    if isinstance(outcome, NeedToKnowError):
        raise outcome
    return outcome


def read_many(
    vault: Vault,
    customer_ids: Iterable[str],
    recipient: str,
    purpose: str,
    categories: Iterable[str] | None,
    context: Context,
) -> list[Disclosure]:
    """:func:`read` for many customers under one decision, their ledger entries committed
    together before anything is returned (a billing run, an export). Unknown or erased
    customers are recorded as not found and left out of the result."""
    wanted = [checked_customer_id(cid) for cid in customer_ids]
    decision = decide(vault, recipient, purpose, categories, context, wanted)
    if not decision.allowed:
        denials = [ledger_entry(vault, "read", decision, context, cid) for cid in wanted]
        vault.ledger.record_many(denials or [ledger_entry(vault, "read", decision, context)])
        raise PolicyDenied(recipient, purpose, dict(decision.denied))
    decisions = {cid: _for_customer(vault, decision, cid) for cid in wanted}
    found = vault.reader.fetch_many([cid for cid, d in decisions.items() if d.allowed])
    disclosures, entries = [], []
    for cid in wanted:
        entry, outcome = _disclose(vault, cid, decisions[cid], context, found.get(cid))
        entries.append(entry)
        if isinstance(outcome, IntegrityError):
            vault.ledger.record_many(entries)
            raise outcome
        if isinstance(outcome, Disclosure):
            disclosures.append(outcome)
    vault.ledger.record_many(entries)
    return disclosures


def _disclose(
    vault: Vault, customer_id: str, decision: Decision, context: Context, found: Fetched | None
) -> tuple[Entry, Disclosure | NeedToKnowError]:
    """One customer's read under ``decision`` (:func:`_for_customer`'s) of ``found``, the
    record fetched if anything was allowed: the ledger entry and the disclosure or error."""
    if not decision.allowed:
        denied = PolicyDenied(decision.recipient, decision.purpose, dict(decision.denied))
        return ledger_entry(vault, "read", decision, context, customer_id), denied
    if found is None:
        entry = ledger_entry(vault, "read", decision, context, customer_id, outcome="not_found")
        return entry, NotFound(f"no customer {customer_id!r}")
    if isinstance(found, IntegrityError):  # a fresh error: one turn's reads share values
        return _unreadable(vault, decision, context, customer_id), IntegrityError()
    if found.held:
        decision = _under_holds(decision, found.held, found.fields)
        if not decision.allowed:
            denied = PolicyDenied(decision.recipient, decision.purpose, dict(decision.denied))
            return ledger_entry(vault, "read", decision, context, customer_id), denied
    try:
        values = _open(vault, customer_id, decision, found.key, found.fields)
    except IntegrityError as exc:
        return _unreadable(vault, decision, context, customer_id), exc
    shown = decision if len(values) == len(decision.allowed) else _narrowed(decision, values)
    return ledger_entry(vault, "read", shown, context, customer_id), Disclosure(
        customer_id, values, decision, context.request_id
    )


def _unreadable(vault: Vault, decision: Decision, context: Context, customer_id: str) -> Entry:
    """The entry of a read whose record is malformed or a field fails to decrypt."""
    return ledger_entry(vault, "read", decision, context, customer_id, outcome="integrity_error")


def _for_customer(vault: Vault, decision: Decision, customer_id: str) -> Decision:
    """The decision for this customer: a customer-scoped agreement (a collection agency's
    accounts) allows only the customers assigned to it; a purpose whose legal basis is
    consent, only customers whose consent to it stands. Everyone else is denied."""
    if not decision.allowed:
        return decision
    reason = None
    if decision.customer_scope:
        missing = vault.agreements.unassigned(customer_id, decision.customer_scope)
        if missing:
            groups = " and ".join(" or ".join(group) for group in missing)
            reason = f"customer is not assigned to agreement {groups}"
    if (
        reason is None
        and decision.purpose in vault.policy.tracking_purposes
        and vault.minor(customer_id)
    ):
        reason = minors.CHILD_REFUSAL
    consents = vault.consents
    if (
        reason is None
        and consents.needed(decision.purpose)
        and not consents.active(customer_id, decision.purpose)
    ):
        reason = f"the customer has not consented to {decision.purpose!r} (or withdrew)"
    if reason is None:
        return decision
    return replace(decision, allowed={}, denied=dict.fromkeys(decision.allowed, reason))


def _under_holds(
    decision: Decision, held: Mapping[str, Held], fields: Mapping[str, bytes]
) -> Decision:
    """Categories kept past their purposes only because a law or a legal hold keeps them
    are readable for the holds' purposes alone (legal process, an investigation) —
    never again for the purposes they were collected for. A read left with nothing the
    record holds is denied, not answered empty."""
    refused = {
        c: f"held under {', '.join(h.under)} until {h.until}: readable only for "
        + ", ".join(h.readable_for)
        for c in decision.allowed
        if (h := held.get(c)) is not None and decision.purpose not in h.readable_for
    }
    if not refused:
        return decision
    allowed = {c: g for c, g in decision.allowed.items() if c not in refused}
    if not set(allowed) & set(fields):
        allowed = {}
    return replace(decision, allowed=allowed, denied={**decision.denied, **refused})


def _open(
    vault: Vault, customer_id: str, decision: Decision, key: KeyRow, sealed: dict[str, bytes]
) -> dict[str, Any]:
    """Decrypt the allowed fields the customer has, and transform each."""
    dek = envelope.unwrap_dek(
        vault.keys, key.kek_version, key.wrapped_dek, customer_id, key.dek_version
    )
    allowed = decision.allowed
    wanted = {c: sealed[c] for c in allowed if c in sealed}
    plain = envelope.decrypt_fields(dek, customer_id, key.dek_version, wanted)

    def tokenize(canonical: bytes) -> str:
        return vault.tokenize(decision.recipient, canonical)

    return {
        category: transforms.apply(
            allowed[category].transform, value, vault.registry[category], tokenize
        )
        for category, value in plain.items()
    }


def _narrowed(decision: Decision, values: dict[str, Any]) -> Decision:
    """The decision restricted to the categories actually disclosed (the customer may not
    have every allowed category), so the ledger records exactly what left."""
    allowed = {c: g for c, g in decision.allowed.items() if c in values}
    return replace(decision, allowed=allowed)


def ledger_entry(
    vault: Vault,
    kind: str,
    decision: Decision,
    context: Context,
    customer_id: str | None = None,
    **detail: Any,
) -> Entry:
    """The ledger entry for a decision: ids, categories, reasons; never values."""
    purpose = vault.policy.purposes.get(decision.purpose)
    return Entry(
        kind=kind,
        time=context.now,
        actor=vault.actor,
        customer_id=customer_id,
        recipient=decision.recipient,
        purpose=decision.purpose,
        legal_basis=purpose.legal_basis if purpose else None,
        legal_reference=context.legal_reference,
        case_id=context.case_id,
        decision="allow" if decision.allowed else "deny",
        categories=tuple(decision.allowed),
        transforms={c: g.transform for c, g in decision.allowed.items()},
        reasons=dict(decision.denied),
        policy_version=decision.policy_version,
        request_id=context.request_id,
        detail=detail,
    )
