"""Consents: a purpose whose legal basis is consent is served for a customer only while
the customer's consent to it stands (DPDP Act 2023 s.6).

A consent records the purpose, the version of the policy (and so the notice) the
customer was shown, the channel and a SHA-256 of the evidence (a form submission id, a
call recording reference — the evidence itself stays where it was collected). A
withdrawal is one call, takes effect at the next decision in every process (each read
checks), and is never refused: withdrawing what was not given, or for a customer since
erased, still succeeds and is recorded. Grants and withdrawals are ledger entries.

Data collected only for consent-based purposes follows the consent: it can be written
only while a consent to one of them stands, and a withdrawal that leaves none standing
deletes it from the customer's record in the same transaction (DPDP Act s.6(6)).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from needtoknow.errors import ValidationError
from needtoknow.guards.jsontext import is_evidence
from needtoknow.moments import utc_text
from needtoknow.records.scope import Scope
from needtoknow.records.shred import shred
from needtoknow.records.versions import resolve
from needtoknow.storage import scrubs, store
from needtoknow.storage.database import reading, stored_utc
from needtoknow.storage.fastpath import Transaction, cursor_in, prepared
from needtoknow.storage.schema import consents, policies
from needtoknow.types import checked_customer_id

if TYPE_CHECKING:
    from needtoknow.ledger import Entry

CHANNELS = frozenset({"web", "app", "email", "sms", "phone", "paper", "api", "consent_manager"})

_STANDING = sa.select(consents.c.purpose).where(
    consents.c.customer_id == sa.bindparam("customer_id"), consents.c.withdrawn_at.is_(None)
)


@dataclass(frozen=True)
class Consent:
    customer_id: str
    purpose: str
    notice_version: str
    channel: str
    granted_at: datetime
    granted_by: str
    withdrawn_at: datetime | None
    withdrawn_channel: str | None
    manager: str | None = None  # the consent manager it was given through, if any
    artefact_id: str | None = None  # that manager's consent artefact

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None

    def to_json(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "active": self.active,
            "notice_version": self.notice_version,
            "channel": self.channel,
            "granted_at": utc_text(self.granted_at),
            "granted_by": self.granted_by,
            "withdrawn_at": utc_text(self.withdrawn_at),
            "withdrawn_channel": self.withdrawn_channel,
            "manager": self.manager,
            "artefact_id": self.artefact_id,
        }


class Consents:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._open = prepared(
            "consent_open",
            scope.db.dialect,
            lambda: sa.select(consents.c.id).where(
                consents.c.customer_id == sa.bindparam("customer_id"),
                consents.c.purpose == sa.bindparam("purpose"),
                consents.c.withdrawn_at.is_(None),
            ),
        )

        self._standing_all = prepared("consent_standing", scope.db.dialect, lambda: _STANDING)

    def needed(self, purpose: str) -> bool:
        """Whether ``purpose`` is served only with the customer's consent."""
        found = self.scope.policy().purposes.get(purpose)
        return found is not None and found.legal_basis == "consent"

    def active(self, customer_id: str, purpose: str) -> bool:
        """Is a consent of this customer to ``purpose`` standing? One indexed read."""
        with self.scope.connections.snapshot() as cursor:
            row = self._open.run(cursor, {"customer_id": customer_id, "purpose": purpose})
            return row.fetchone() is not None

    def standing(self, customer_id: str, conn: Transaction | None = None) -> frozenset[str]:
        """The purposes the customer's consent to stands for now; inside ``conn``'s
        transaction when given (a write deciding what it may keep)."""
        if conn is not None:
            with cursor_in(conn) as cursor:
                rows = self._standing_all.run(cursor, {"customer_id": customer_id}).fetchall()
        else:
            with self.scope.connections.snapshot() as cursor:
                rows = self._standing_all.run(cursor, {"customer_id": customer_id}).fetchall()
        return frozenset(row[0] for row in rows)

    def grant(
        self,
        customer_id: str,
        purpose: str,
        channel: str,
        evidence: str,
        notice_version: str | None = None,
        manager: str | None = None,
        artefact_id: str | None = None,
    ) -> Consent:
        """Record the customer's consent to ``purpose`` (a purpose whose legal basis is
        consent) as shown the notice of ``notice_version`` (default: the active policy),
        which must be a posted policy version. Granting a consent that stands returns it
        unchanged."""
        with self.scope.db.begin() as conn:
            standing = self.grant_in(
                conn, customer_id, purpose, channel, evidence, notice_version, manager, artefact_id
            )
        return _consent(standing)

    def grant_in(
        self,
        conn: sa.Connection,
        customer_id: str,
        purpose: str,
        channel: str,
        evidence: str,
        notice_version: str | None = None,
        manager: str | None = None,
        artefact_id: str | None = None,
    ) -> Any:
        """:meth:`grant` in the caller's transaction: the standing consent row."""
        customer_id = checked_customer_id(customer_id)
        if not self.needed(purpose):
            raise ValidationError("purpose", "consent", "not_consent_based")
        if channel not in CHANNELS:
            raise ValidationError("channel", "consent", "one_of", ", ".join(sorted(CHANNELS)))
        if not is_evidence(evidence):
            raise ValidationError("evidence", "consent", "text", "1-1000 characters")
        scope, now = self.scope, self.scope.clock()
        store.require_live(conn, customer_id)
        shown = resolve(conn, notice_version) if notice_version else scope.policy().version
        posted = conn.execute(
            sa.select(policies.c.version).where(policies.c.version == shown)
        ).first()
        if posted is None:  # a notice nobody could have been shown
            raise ValidationError(
                "notice_version",
                "consent",
                "unknown_version",
                "a posted policy version (list them: ntk policy versions)",
            )
        standing = self._standing(conn, customer_id, purpose)
        if standing is not None:
            return standing
        row = {
            "customer_id": customer_id,
            "purpose": purpose,
            "notice_version": shown,
            "channel": channel,
            "evidence_sha256": hashlib.sha256(evidence.encode()).hexdigest(),
            "granted_at": now,
            "granted_by": scope.actor,
            "manager": manager,
            "artefact_id": artefact_id,
        }
        conn.execute(consents.insert().values(**row))
        entry = self._entry(
            customer_id,
            purpose,
            "grant",
            channel=channel,
            notice_version=row["notice_version"],
            evidence_sha256=row["evidence_sha256"],
            **({"manager": manager, "artefact_id": artefact_id} if manager else {}),
        )
        scope.ledger.append(conn, entry)
        return self._standing(conn, customer_id, purpose)

    def withdraw(self, customer_id: str, purpose: str, channel: str = "api") -> list[Consent]:
        """Withdraw the customer's consent to ``purpose`` at once. Never refused: a
        withdrawal with nothing standing is recorded too. Returns the consents closed."""
        customer_id = checked_customer_id(customer_id)
        now = self.scope.clock()
        with self.scope.db.begin() as conn:
            erased = self.withdraw_in(conn, customer_id, purpose, channel, now)
        if erased:
            scrubs.complete(self.scope.db)  # as erasure does: no old page keeps the ciphertext
        return [
            c for c in self.listing(customer_id) if c.purpose == purpose and c.withdrawn_at == now
        ]

    def withdraw_in(
        self, conn: sa.Connection, customer_id: str, purpose: str, channel: str, now: datetime
    ) -> list[str]:
        """:meth:`withdraw`'s work in the caller's transaction, at ``now``: the categories
        it deleted (the caller completes the scrub after committing)."""
        closed = conn.execute(
            consents.update()
            .where(
                consents.c.customer_id == customer_id,
                consents.c.purpose == purpose,
                consents.c.withdrawn_at.is_(None),
            )
            .values(withdrawn_at=now, withdrawn_channel=channel[:50])
        ).rowcount
        erased = self._erase_unconsented(conn, customer_id, purpose, now)
        if erased:
            scrubs.record(conn, [customer_id], "withdrawal", now)
        entry = self._entry(
            customer_id,
            purpose,
            "withdraw",
            channel=channel[:50],
            closed=int(closed),
            erased=erased,
        )
        self.scope.ledger.append(conn, entry)
        return erased

    def _erase_unconsented(
        self, conn: sa.Connection, customer_id: str, purpose: str, now: datetime
    ) -> list[str]:
        """Delete the categories the customer's record holds only for consent-based
        purposes, ``purpose`` among them, that no standing consent covers any more (DPDP
        Act s.6(6), s.8(7)): crypto-shredded (:mod:`needtoknow.records.shred`) in the
        withdrawal's own transaction."""
        found = store.locked_record(conn, customer_id)
        if found is None:  # erased, or never a customer: nothing to delete
            return []
        policy = self.scope.engine().policy
        standing = self.standing(customer_id, conn)
        gone = [
            c
            for c in found.fields
            if purpose in (purposes := policy.consent_to_collect(c))
            and standing.isdisjoint(purposes)
        ]
        return shred(conn, self.scope.keys, customer_id, gone, now)

    def listing(self, customer_id: str) -> list[Consent]:
        """Every consent of the customer, standing and withdrawn, oldest first."""
        with reading(self.scope.db) as conn:
            rows = conn.execute(
                sa.select(consents)
                .where(consents.c.customer_id == checked_customer_id(customer_id))
                .order_by(consents.c.id)
            )
            return [_consent(row) for row in rows]

    def _standing(self, conn: sa.Connection, customer_id: str, purpose: str) -> Any:
        return conn.execute(
            sa.select(consents).where(
                consents.c.customer_id == customer_id,
                consents.c.purpose == purpose,
                consents.c.withdrawn_at.is_(None),
            )
        ).first()

    def _entry(self, customer_id: str, purpose: str, action: str, **detail: Any) -> Entry:
        return self.scope.entry(
            "consent",
            customer_id=customer_id,
            purpose=purpose,
            legal_basis="consent",
            detail={"action": action, **detail},
        )


def _consent(row: Any) -> Consent:
    return Consent(
        customer_id=row.customer_id,
        purpose=row.purpose,
        notice_version=row.notice_version,
        channel=row.channel,
        granted_at=stored_utc(row.granted_at),
        granted_by=row.granted_by,
        withdrawn_at=stored_utc(row.withdrawn_at) if row.withdrawn_at else None,
        withdrawn_channel=row.withdrawn_channel,
        manager=row.manager,
        artefact_id=row.artefact_id,
    )
