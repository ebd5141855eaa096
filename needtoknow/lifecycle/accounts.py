"""Accounts have a life: open, closed (retention counts from here), reopened.

Closing records when and why (a word from :data:`CLOSE_REASONS`: the reason is a
category of event, never free text, so no one's story is stored in the clear); the
services an account held (``settings.services``) decide which statutory holds apply to
it. Each change is a ledger entry.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from needtoknow.errors import NeedToKnowError, NotFound, ValidationError
from needtoknow.lifecycle.retention import Account
from needtoknow.moments import utc_text
from needtoknow.records.scope import Scope
from needtoknow.storage.database import reading, stored_utc
from needtoknow.storage.schema import customers
from needtoknow.storage.store import Held, unpack_fields, unpack_held
from needtoknow.types import checked_customer_id

CLOSE_REASONS = (
    "customer_request",
    "erasure_request",  # the customer asked for erasure: the purposes end at once
    "non_payment",
    "abuse",
    "duplicate",
    "deceased",
    "other",
)


@dataclass(frozen=True)
class AccountStatus:
    customer_id: str
    closed_at: datetime | None
    closed_reason: str | None
    services: tuple[str, ...]
    categories: tuple[str, ...]
    held: dict[str, Held]

    def to_json(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "status": "open" if self.closed_at is None else "closed",
            "closed_at": utc_text(self.closed_at),
            "closed_reason": self.closed_reason,
            "services": list(self.services),
            "categories": list(self.categories),
            "held": {
                c: {"readable_for": list(h.readable_for), "under": list(h.under), "until": h.until}
                for c, h in sorted(self.held.items())
            },
        }


class Accounts:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def close(self, customer_id: str, reason: str = "customer_request") -> AccountStatus:
        """Close a live account now; retention periods count from here."""
        if reason not in CLOSE_REASONS:
            raise ValidationError("reason", "account", "one_of", ", ".join(CLOSE_REASONS))
        return self._change(customer_id, "closed", closed_at=self.scope.clock(), reason=reason)

    def reopen(self, customer_id: str) -> AccountStatus:
        """Reopen a closed account: its purposes serve again, so nothing stays held."""
        return self._change(customer_id, "reopened", closed_at=None, reason=None)

    def set_services(self, customer_id: str, services: Iterable[str]) -> AccountStatus:
        """The services the account holds (``settings.services`` names them)."""
        wanted = sorted(set(services))
        known = self.scope.policy().services
        for service in wanted:
            if service not in known:
                raise ValidationError(
                    "services", "account", "one_of", ", ".join(sorted(known)) or "(none defined)"
                )
        return self._change(customer_id, "services", services=wanted)

    def listing(self, limit: int = 100, after: str = "") -> list[dict[str, Any]]:
        """Customers by id after ``after``: ids and dates only, never a value (``ntk
        customer list``); erased ones are listed with the time of their erasure."""
        if not 1 <= limit <= 10_000:
            raise ValidationError("limit", "customer", "range", "1 to 10000")
        query = (
            sa.select(
                customers.c.id, customers.c.created_at, customers.c.closed_at, customers.c.erased_at
            )
            .where(customers.c.id > after)
            .order_by(customers.c.id)
            .limit(limit)
        )
        with reading(self.scope.db) as conn:
            rows = conn.execute(query).all()

        return [
            {
                "customer_id": row.id,
                "created_at": utc_text(row.created_at),
                "closed_at": utc_text(row.closed_at),
                "erased_at": utc_text(row.erased_at),
            }
            for row in rows
        ]

    def status(self, customer_id: str) -> AccountStatus:
        with reading(self.scope.db) as conn:
            return _status(conn, checked_customer_id(customer_id))

    def _change(self, customer_id: str, event: str, **change: Any) -> AccountStatus:
        customer_id = checked_customer_id(customer_id)
        with self.scope.db.begin() as conn:
            before = _status(conn, customer_id, lock=True)
            values: dict[str, Any] = {}
            detail: dict[str, Any] = {"event": event}
            if event == "closed":
                if before.closed_at is not None:
                    raise NeedToKnowError(f"account {customer_id} is already closed")
                values = {"closed_at": change["closed_at"], "closed_reason": change["reason"]}
                detail["reason"] = change["reason"]
            elif event == "reopened":
                if before.closed_at is None:
                    raise NeedToKnowError(f"account {customer_id} is open")
                values = {"closed_at": None, "closed_reason": None, "held": None}
            else:
                values = {"services": json.dumps(change["services"])}
                detail["services"] = change["services"]
            conn.execute(customers.update().where(customers.c.id == customer_id).values(**values))
            self.scope.ledger.append(
                conn, self.scope.entry("account", customer_id=customer_id, detail=detail)
            )
            return _status(conn, customer_id)


_COLUMNS = (
    customers.c.id,
    customers.c.sealed_fields,
    customers.c.closed_at,
    customers.c.closed_reason,
    customers.c.services,
    customers.c.held,
    customers.c.updated_at,
)


def _status(conn: sa.Connection, customer_id: str, lock: bool = False) -> AccountStatus:
    query = sa.select(*_COLUMNS).where(
        customers.c.id == customer_id, customers.c.wrapped_dek.is_not(None)
    )
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFound(f"no customer {customer_id!r}")
    return AccountStatus(
        row.id,
        stored_utc(row.closed_at) if row.closed_at else None,
        row.closed_reason,
        tuple(json.loads(row.services or "[]")),
        tuple(sorted(unpack_fields(bytes(row.sealed_fields)))),
        unpack_held(row.held),
    )


def account_of(row: Any) -> Account:
    """The planner's view of a row selected with :data:`ACCOUNT_COLUMNS`."""
    closed = stored_utc(row.closed_at) if row.closed_at else None
    updated = stored_utc(row.updated_at)
    return Account(
        row.id,
        frozenset(unpack_fields(bytes(row.sealed_fields))),
        closed,
        max(updated, closed) if closed else updated,
        frozenset(json.loads(row.services)) if row.services else frozenset(),
        row.closed_reason == "erasure_request",
    )


ACCOUNT_COLUMNS = _COLUMNS
