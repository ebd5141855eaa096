"""Legal holds placed by hand: a court order, a dispute, an investigation keeps some
categories of one customer through erasure requests and retention runs until a date.

While held past its purposes, the data is readable only for the hold's purposes
(default: legal process, which the policy serves only with a legal reference). A hold is
released by hand, or ends on its date; both the placing and the release are ledgered.
The policy's own statutory holds (``holds:``) need no placing: they follow the law.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from needtoknow.errors import NeedToKnowError, NotFound, ValidationError
from needtoknow.lifecycle.retention import LegalHold
from needtoknow.moments import utc_text
from needtoknow.policy.model import HOLD_BASES
from needtoknow.records.scope import Scope
from needtoknow.storage import store
from needtoknow.storage.database import reading, stored_utc
from needtoknow.storage.schema import legal_holds
from needtoknow.types import checked_customer_id


@dataclass(frozen=True)
class Hold:
    hold: LegalHold
    placed_by: str
    placed_at: datetime
    released_by: str | None
    released_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        h = self.hold
        return {
            "hold_id": h.id,
            "customer_id": h.customer_id,
            "categories": sorted(h.categories),
            "basis": h.basis,
            "readable_for": list(h.readable_for),
            "until": h.until.isoformat(),
            "placed_by": self.placed_by,
            "placed_at": utc_text(self.placed_at),
            "released_by": self.released_by,
            "released_at": utc_text(self.released_at),
        }


class LegalHolds:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def place(
        self,
        customer_id: str,
        categories: Iterable[str],
        basis: str,
        until: date,
        readable_for: Sequence[str] = ("legal_process",),
    ) -> Hold:
        customer_id = checked_customer_id(customer_id)
        wanted = sorted(set(categories))
        registry, policy = self.scope.categories(), self.scope.policy()
        if not wanted:
            raise ValidationError("categories", "hold", "empty")
        for name in wanted:
            if name not in registry:
                raise ValidationError("categories", "hold", "unknown_category", name)
        if not basis.strip() or len(basis) > 200:
            raise ValidationError("basis", "hold", "text", "1-200 characters")
        now = self.scope.clock()
        if until <= now.date():
            raise ValidationError("until", "hold", "future_date")
        for purpose in readable_for:
            found = policy.purposes.get(purpose)
            if found is None or found.legal_basis not in HOLD_BASES:
                allowed = sorted(
                    n for n, p in policy.purposes.items() if p.legal_basis in HOLD_BASES
                )
                raise ValidationError("readable_for", "hold", "one_of", ", ".join(allowed))
        hold = LegalHold(
            str(uuid.uuid4()),
            customer_id,
            frozenset(wanted),
            basis.strip(),
            tuple(readable_for),
            until,
        )
        with self.scope.db.begin() as conn:
            store.require_live(conn, customer_id)
            conn.execute(
                legal_holds.insert().values(
                    id=hold.id,
                    customer_id=customer_id,
                    categories=json.dumps(wanted),
                    basis=hold.basis,
                    readable_for=json.dumps(list(hold.readable_for)),
                    until=until,
                    placed_by=self.scope.actor,
                    placed_at=now,
                )
            )
            self._ledger(conn, hold, "placed", until=until.isoformat())
            return self._get(conn, hold.id)

    def release(self, hold_id: str) -> Hold:
        with self.scope.db.begin() as conn:
            found = self._get(conn, hold_id)
            if found.released_at is not None:
                raise NeedToKnowError(f"hold {hold_id} is already released")
            conn.execute(
                legal_holds.update()
                .where(legal_holds.c.id == hold_id)
                .values(released_at=self.scope.clock(), released_by=self.scope.actor)
            )
            self._ledger(conn, found.hold, "released")
            return self._get(conn, hold_id)

    def listing(self, customer_id: str | None = None, active: bool = False) -> list[Hold]:
        query = sa.select(legal_holds).order_by(legal_holds.c.placed_at, legal_holds.c.id)
        if customer_id is not None:
            query = query.where(legal_holds.c.customer_id == checked_customer_id(customer_id))
        with reading(self.scope.db) as conn:
            found = [_hold(row) for row in conn.execute(query)]
        today = self.scope.clock().date()
        if active:
            return [h for h in found if h.released_at is None and h.hold.until >= today]
        return found

    @staticmethod
    def standing(conn: sa.Connection, customer_ids: Sequence[str], today: date) -> list[LegalHold]:
        """The unreleased holds on any of ``customer_ids`` that run to ``today`` or later."""
        out: list[LegalHold] = []
        for start in range(0, len(customer_ids), 500):
            rows = conn.execute(
                sa.select(legal_holds).where(
                    legal_holds.c.customer_id.in_(customer_ids[start : start + 500]),
                    legal_holds.c.released_at.is_(None),
                    legal_holds.c.until >= today,
                )
            )
            out.extend(_hold(row).hold for row in rows)
        return out

    def _get(self, conn: sa.Connection, hold_id: str) -> Hold:
        row = conn.execute(sa.select(legal_holds).where(legal_holds.c.id == hold_id)).first()
        if row is None:
            raise NotFound(f"no hold {hold_id!r}")
        return _hold(row)

    def _ledger(self, conn: sa.Connection, hold: LegalHold, event: str, **detail: Any) -> None:
        entry = self.scope.entry(
            "hold",
            customer_id=hold.customer_id,
            categories=tuple(sorted(hold.categories)),
            detail={"event": event, "hold_id": hold.id, "basis": hold.basis, **detail},
        )
        self.scope.ledger.append(conn, entry)


def _hold(row: Any) -> Hold:
    return Hold(
        LegalHold(
            row.id,
            row.customer_id,
            frozenset(json.loads(row.categories)),
            row.basis,
            tuple(json.loads(row.readable_for)),
            row.until,
        ),
        row.placed_by,
        stored_utc(row.placed_at),
        row.released_by,
        stored_utc(row.released_at) if row.released_at else None,
    )
