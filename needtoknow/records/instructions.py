"""Erasure instructions: when the vault erases data, the recipients that received it
under an agreement are told to erase their copies, and each confirms by a deadline.

The ledger knows who received what: every allowed read names its recipient and the
categories that left. Contractors and sub-contractors are bound by their agreements
(the seed policy: "bound to it"), so each that received an erased category of the
customer gets one instruction naming those categories, due within the policy's
``settings.erasure_ack_days``. Issuing and acknowledging are ledger entries.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from needtoknow.errors import NeedToKnowError, NotFound
from needtoknow.moments import utc_text
from needtoknow.policy.model import BOUND_KINDS
from needtoknow.records.scope import Scope
from needtoknow.storage.database import reading, stored_utc
from needtoknow.storage.schema import erasure_instructions, ledger_customers, ledger_entries
from needtoknow.storage.store import among

CAUSES = frozenset({"erasure", "withdrawal", "retention"})


@dataclass(frozen=True)
class Instruction:
    id: str
    customer_id: str
    recipient: str
    categories: tuple[str, ...]
    cause: str
    issued_at: datetime
    due_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None

    def overdue(self, now: datetime) -> bool:
        return self.acknowledged_at is None and self.due_at < now

    def to_json(self) -> dict[str, Any]:
        return {
            "instruction_id": self.id,
            "customer_id": self.customer_id,
            "recipient": self.recipient,
            "categories": list(self.categories),
            "cause": self.cause,
            "issued_at": utc_text(self.issued_at),
            "due_at": utc_text(self.due_at),
            "acknowledged_at": utc_text(self.acknowledged_at),
            "acknowledged_by": self.acknowledged_by,
        }


class Instructions:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def issue(
        self, conn: sa.Connection, erased: Mapping[str, Iterable[str]], cause: str
    ) -> list[Instruction]:
        """In ``conn``'s transaction, instruct every bound recipient that received any of
        ``erased`` (customer id → categories just erased) to erase its copy."""
        if cause not in CAUSES:
            raise ValueError(f"unknown cause {cause!r}")
        wanted = {cid: set(categories) for cid, categories in erased.items() if categories}
        if not wanted:
            return []
        policy = self.scope.policy()
        bound = {n for n, r in policy.recipients.items() if r.kind in BOUND_KINDS}
        received = _received(conn, wanted, bound)
        now = self.scope.clock()
        due = now + timedelta(days=policy.erasure_ack_days)
        made = [
            Instruction(
                str(uuid.uuid4()), cid, recipient, tuple(sorted(cats)), cause, now, due, None, None
            )
            for (cid, recipient), cats in sorted(received.items())
        ]
        if made:
            conn.execute(
                erasure_instructions.insert(),
                [
                    {
                        "id": i.id,
                        "customer_id": i.customer_id,
                        "recipient": i.recipient,
                        "categories": json.dumps(i.categories),
                        "cause": cause,
                        "issued_at": now,
                        "due_at": due,
                    }
                    for i in made
                ],
            )
            self.scope.ledger.append_many(
                conn,
                [
                    self.scope.entry(
                        "instruction",
                        customer_id=i.customer_id,
                        recipient=i.recipient,
                        categories=i.categories,
                        detail={"event": "issued", "instruction_id": i.id, "cause": cause},
                    )
                    for i in made
                ],
            )
        return made

    def acknowledge(self, instruction_id: str) -> Instruction:
        """The recipient confirms it erased its copy (recorded once; again is refused)."""
        now = self.scope.clock()
        with self.scope.db.begin() as conn:
            found = self._get(conn, instruction_id)
            if found.acknowledged_at is not None:
                raise NeedToKnowError(f"instruction {instruction_id} is already acknowledged")
            conn.execute(
                erasure_instructions.update()
                .where(erasure_instructions.c.id == found.id)
                .values(acknowledged_at=now, acknowledged_by=self.scope.actor)
            )
            entry = self.scope.entry(
                "instruction",
                customer_id=found.customer_id,
                recipient=found.recipient,
                categories=found.categories,
                detail={"event": "acknowledged", "instruction_id": found.id},
            )
            self.scope.ledger.append(conn, entry)
            return self._get(conn, instruction_id)

    def listing(self, overdue: bool = False, customer_id: str | None = None) -> list[Instruction]:
        """Instructions, oldest first; ``overdue``: only those unacknowledged past due."""
        query = sa.select(erasure_instructions).order_by(
            erasure_instructions.c.issued_at, erasure_instructions.c.id
        )
        if customer_id is not None:
            query = query.where(erasure_instructions.c.customer_id == customer_id)
        with reading(self.scope.db) as conn:
            found = [_instruction(row) for row in conn.execute(query)]
        now = self.scope.clock()
        return [i for i in found if i.overdue(now)] if overdue else found

    def _get(self, conn: sa.Connection, instruction_id: str) -> Instruction:
        row = conn.execute(
            sa.select(erasure_instructions).where(erasure_instructions.c.id == instruction_id)
        ).first()
        if row is None:
            raise NotFound(f"no erasure instruction {instruction_id!r}")
        return _instruction(row)


def _received(
    conn: sa.Connection, wanted: Mapping[str, set[str]], recipients: set[str]
) -> dict[tuple[str, str], set[str]]:
    """(customer, recipient) → the wanted categories the ledger shows it received. Reads
    the customer index, which covers entries up to the last seal."""
    out: dict[tuple[str, str], set[str]] = {}
    ids = list(wanted)
    for start in range(0, len(ids), 10_000):
        rows = conn.execute(
            sa.select(ledger_customers.c.customer_id, ledger_entries.c.entry)
            .join(ledger_entries, ledger_entries.c.idx == ledger_customers.c.idx)
            .where(among(conn, ledger_customers.c.customer_id, ids[start : start + 10_000]))
        )
        for row in rows:
            customer_id, raw = str(row.customer_id), bytes(row.entry)
            if b'"decision":"allow"' not in raw:
                continue
            entry = json.loads(raw)
            recipient = entry.get("recipient")
            if recipient not in recipients:
                continue
            got = wanted[customer_id] & set(entry.get("categories") or ())
            if got:
                out.setdefault((customer_id, recipient), set()).update(got)
    return out


def _instruction(row: Any) -> Instruction:
    return Instruction(
        row.id,
        row.customer_id,
        row.recipient,
        tuple(json.loads(row.categories)),
        row.cause,
        stored_utc(row.issued_at),
        stored_utc(row.due_at),
        stored_utc(row.acknowledged_at) if row.acknowledged_at else None,
        row.acknowledged_by,
    )
