"""Nominees (DPDP Act s.14): someone a customer names to exercise their rights should
they die or become unable to.

A customer has at most one standing nominee; naming another revokes the last. The
nominee's name and contact (another person's personal data) are a sealed note, opened
only to reach them and ledgered when opened. A nominee may act only after staff have
checked evidence of the customer's death or incapacity (``ntk nominee evidence``):
until then a request made through them is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from needtoknow.categories import Registry, Rules
from needtoknow.crypto import envelope
from needtoknow.errors import NeedToKnowError, NotFound, ValidationError, VerificationFailed
from needtoknow.moments import utc_text
from needtoknow.records.scope import Scope
from needtoknow.storage import notes, store
from needtoknow.storage.database import reading, stored_utc
from needtoknow.storage.schema import nominees
from needtoknow.types import checked_customer_id

EVIDENCE = ("death", "incapacity")
NOMINEE_FIELDS = ("name", "email", "telephone")


@dataclass(frozen=True)
class Nominee:
    id: str
    customer_id: str
    nominated_at: datetime
    revoked_at: datetime | None
    evidence: str | None
    evidence_checked_by: str | None
    evidence_at: datetime | None

    @property
    def may_act(self) -> bool:
        return self.revoked_at is None and self.evidence is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "nominee_id": self.id,
            "customer_id": self.customer_id,
            "nominated_at": utc_text(self.nominated_at),
            "revoked_at": utc_text(self.revoked_at),
            "evidence": self.evidence,
            "evidence_checked_by": self.evidence_checked_by,
            "evidence_at": utc_text(self.evidence_at),
            "may_act": self.may_act,
        }


def checked_details(registry: Registry, details: Any, today: Any) -> dict[str, Any]:
    """A nominee's name and at least one contact, each valid as its category."""
    if not isinstance(details, Mapping) or not isinstance(details.get("name"), str):
        raise ValidationError("details", "nominee", "name_and_contact", "{name, email|telephone}")
    unknown = sorted(set(details) - set(NOMINEE_FIELDS))
    if unknown:
        raise ValidationError(unknown[0], "nominee", "one_of", ", ".join(NOMINEE_FIELDS))
    if not (details.get("email") or details.get("telephone")):
        raise ValidationError("details", "nominee", "name_and_contact", "email or telephone")
    rules = Rules(today=today)
    return {
        name: registry[name].normalise(value, rules, f"nominee.{name}").value
        for name, value in details.items()
        if value
    }


class Nominees:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def record(self, conn: sa.Connection, customer_id: str, details: Mapping[str, Any]) -> Nominee:
        """Name a nominee in ``conn``'s transaction, revoking any standing one."""
        checked = checked_details(self.scope.categories(), details, self.scope.clock().date())
        now, nominee_id = self.scope.clock(), str(uuid.uuid4())
        for standing in self._standing(conn, customer_id):
            self._revoke(conn, standing, now)
        conn.execute(
            nominees.insert().values(
                id=nominee_id,
                customer_id=customer_id,
                details=envelope.seal_note(
                    self.scope.keys, notes.owner(nominees, nominee_id, "details"), checked
                ),
                nominated_at=now,
            )
        )
        self._ledger(conn, customer_id, nominee_id, "nominated")
        return self._get(conn, nominee_id)

    def evidence(self, nominee_id: str, kind: str, reference: str) -> Nominee:
        """Staff checked evidence of the customer's ``kind`` (death or incapacity):
        ``reference`` (the certificate's number, kept sealed) says which."""
        if kind not in EVIDENCE:
            raise ValidationError("evidence", "nominee", "one_of", ", ".join(EVIDENCE))
        if not reference.strip() or len(reference) > 200:
            raise ValidationError("reference", "nominee", "text", "1-200 characters")
        with self.scope.db.begin() as conn:
            found = self._get(conn, nominee_id)
            if found.revoked_at is not None:
                raise NeedToKnowError(f"nominee {nominee_id} was revoked")
            conn.execute(
                nominees.update()
                .where(nominees.c.id == nominee_id)
                .values(
                    evidence=kind,
                    evidence_note=envelope.seal_note(
                        self.scope.keys,
                        notes.owner(nominees, nominee_id, "evidence_note"),
                        reference.strip(),
                    ),
                    evidence_checked_by=self.scope.actor,
                    evidence_at=self.scope.clock(),
                )
            )
            self._ledger(conn, found.customer_id, nominee_id, "evidence", evidence=kind)
            return self._get(conn, nominee_id)

    def revoke(self, nominee_id: str) -> Nominee:
        with self.scope.db.begin() as conn:
            found = self._get(conn, nominee_id)
            if found.revoked_at is not None:
                raise NeedToKnowError(f"nominee {nominee_id} is already revoked")
            self._revoke(conn, found, self.scope.clock())
            return self._get(conn, nominee_id)

    def listing(self, customer_id: str) -> list[Nominee]:
        with reading(self.scope.db) as conn:
            rows = conn.execute(
                sa.select(nominees)
                .where(nominees.c.customer_id == checked_customer_id(customer_id))
                .order_by(nominees.c.nominated_at)
            )
            return [_nominee(row) for row in rows]

    def contact(self, nominee_id: str) -> dict[str, Any]:
        """The nominee's name and contact, to reach them; the opening is ledgered."""
        with self.scope.db.begin() as conn:
            row = conn.execute(sa.select(nominees).where(nominees.c.id == nominee_id)).first()
            if row is None or row.details is None:
                raise NotFound(f"no nominee {nominee_id!r}")
            self._ledger(conn, row.customer_id, nominee_id, "contact_read")
        owner = notes.owner(nominees, nominee_id, "details")
        return dict(envelope.open_note(self.scope.keys, owner, bytes(row.details)))

    def acting_for(self, nominee_id: str, customer_id: str) -> Nominee:
        """The nominee, if they may act for ``customer_id`` now; else VerificationFailed."""
        with reading(self.scope.db) as conn:
            found = self._get(conn, nominee_id)
        if found.customer_id != customer_id:
            raise NotFound(f"no nominee {nominee_id!r} for customer {customer_id!r}")
        if not found.may_act:
            raise VerificationFailed("nominee_without_evidence")
        return found

    def _standing(self, conn: sa.Connection, customer_id: str) -> list[Nominee]:
        store.require_live(conn, customer_id)
        rows = conn.execute(
            sa.select(nominees).where(
                nominees.c.customer_id == customer_id, nominees.c.revoked_at.is_(None)
            )
        )
        return [_nominee(row) for row in rows]

    def _revoke(self, conn: sa.Connection, nominee: Nominee, now: datetime) -> None:
        conn.execute(
            nominees.update()
            .where(nominees.c.id == nominee.id)
            .values(revoked_at=now, details=None, evidence_note=None)
        )
        self._ledger(conn, nominee.customer_id, nominee.id, "revoked")

    def _get(self, conn: sa.Connection, nominee_id: str) -> Nominee:
        row = conn.execute(sa.select(nominees).where(nominees.c.id == nominee_id)).first()
        if row is None:
            raise NotFound(f"no nominee {nominee_id!r}")
        return _nominee(row)

    def _ledger(
        self, conn: sa.Connection, customer_id: str, nominee_id: str, event: str, **detail: Any
    ) -> None:
        entry = self.scope.entry(
            "nominee",
            customer_id=customer_id,
            detail={"event": event, "nominee_id": nominee_id, **detail},
        )
        self.scope.ledger.append(conn, entry)


def _nominee(row: Any) -> Nominee:
    return Nominee(
        row.id,
        row.customer_id,
        stored_utc(row.nominated_at),
        stored_utc(row.revoked_at) if row.revoked_at else None,
        row.evidence,
        row.evidence_checked_by,
        stored_utc(row.evidence_at) if row.evidence_at else None,
    )
