"""The agreement registry: contracts that bind contractors to purposes, and their customers.

The policy says *what* a contractor may receive; an agreement says *whether it may now*:
for which purposes, from when until when, under which contract reference, and — for a
customer-scoped agreement, such as a collection agency's — for which customers. Every
change is one transaction with its ledger entry and a bump of ``registry_state.version``,
which makes every process rebuild its compiled policy before its next decision. The
same number guards every other cache of who may see what (API keys): each change to one
bumps it (:func:`bump_version`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from datetime import date
from typing import Any

import sqlalchemy as sa

from needtoknow.errors import NotFound, ValidationError
from needtoknow.ledger import Entry
from needtoknow.moments import utc_text
from needtoknow.policy.model import AGREEMENT_ID, AGREEMENT_ID_RULE, BOUND_KINDS, Agreement
from needtoknow.records.scope import Scope
from needtoknow.storage import store
from needtoknow.storage.database import reading
from needtoknow.storage.fastpath import Prepared
from needtoknow.storage.schema import agreement_customers, agreements, registry_state
from needtoknow.types import checked_customer_id, view_of

# A request that pinned the registry version: (the database it was read from, the version).
_PINNED: ContextVar[tuple[sa.Engine, int] | None] = ContextVar("registry_version", default=None)
# The version as read in the current turn of a running event loop, by (database, loop).
_THIS_TURN: dict[tuple[sa.Engine, asyncio.AbstractEventLoop], int] = {}


def bump_version(conn: sa.Connection) -> None:
    """A change to who may see what (an agreement, the active policy, an API key's
    revocation), in the change's transaction: every process drops what it cached."""
    conn.execute(
        registry_state.update()
        .where(registry_state.c.id == 1)
        .values(version=registry_state.c.version + 1)
    )


class AgreementRegistry:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        dialect = scope.db.dialect
        self._version = Prepared(
            sa.select(registry_state.c.version).where(registry_state.c.id == sa.bindparam("i")),
            dialect,
        )
        self._assigned = Prepared(
            sa.select(agreement_customers.c.agreement_id).where(
                agreement_customers.c.customer_id == sa.bindparam("customer_id")
            ),
            dialect,
        )

    def within(self, scope: Scope) -> AgreementRegistry:
        """This registry with changes ledgered as ``scope`` acts (``Scope.acting``)."""
        return view_of(self, scope=scope)

    # -- reading ------------------------------------------------------------------------

    def version(self) -> int:
        """Changes with every edit; cheap enough to check before every decision. Inside
        :meth:`pinned`, the version read when the request began."""
        pinned = _PINNED.get()
        if pinned is not None and pinned[0] is self.scope.db:
            return pinned[1]
        with self.scope.connections.snapshot() as cursor:
            row = self._version.run(cursor, {"i": 1}).fetchone()
        return int(row[0])

    @contextmanager
    def pinned(self) -> Iterator[int]:
        """Read the version once for everything one request checks — its API key, its
        decision — instead of once for each; on an event loop, once per turn of the loop
        for every request it serves in that turn (a turn is a few milliseconds even
        under load). Each read is a query on the loop, which serves every request
        (docs/benchmarks.md). A change committed while a request or its turn runs is seen
        from the next turn on, as it would be had it committed a moment later: a caller
        told a revocation is done sends its next request in a later turn."""
        with self.unpinned():  # read afresh, even inside another pin
            version = self._this_turn()
            _PINNED.set((self.scope.db, version))
            yield version

    @contextmanager
    def unpinned(self) -> Iterator[None]:
        """Read the version afresh inside: a write's check under its row lock, which may
        run after the request (or the loop's turn) that queued it had pinned one."""
        token = _PINNED.set(None)
        try:
            yield
        finally:
            _PINNED.reset(token)

    def _this_turn(self) -> int:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a thread of its own: every pin reads
            return self.version()
        key = (self.scope.db, loop)
        version = _THIS_TURN.get(key)
        if version is None:
            version = _THIS_TURN[key] = self.version()
            loop.call_soon(_THIS_TURN.pop, key, None)  # runs at the start of the next turn
        return version

    def current(self) -> list[Agreement]:
        """Agreements not revoked (expired ones included: expiry is checked per decision)."""
        with reading(self.scope.db) as conn:
            rows = conn.execute(
                sa.select(agreements)
                .where(agreements.c.revoked_at.is_(None))
                .order_by(agreements.c.id)
            )
            return [_agreement(row) for row in rows]

    def listing(self) -> list[dict[str, Any]]:
        """Every agreement, revoked ones too, with how many customers each is assigned."""
        count = (
            sa.select(sa.func.count())
            .where(agreement_customers.c.agreement_id == agreements.c.id)
            .scalar_subquery()
        )
        with reading(self.scope.db) as conn:
            rows = conn.execute(
                sa.select(agreements, count.label("customers")).order_by(agreements.c.id)
            )
            return [
                {
                    **agreement_json(_agreement(row)),
                    "revoked_at": utc_text(row.revoked_at),
                    "customers": int(row.customers),
                }
                for row in rows
            ]

    def unassigned(
        self, customer_id: str, scope: tuple[tuple[str, ...], ...]
    ) -> list[tuple[str, ...]]:
        """The groups of ``scope`` the customer is assigned to no agreement of (none: allowed)."""
        with self.scope.connections.snapshot() as cursor:
            rows = self._assigned.run(cursor, {"customer_id": customer_id}).fetchall()
        assigned = {row[0] for row in rows}
        return [group for group in scope if not assigned.intersection(group)]

    # -- changing -----------------------------------------------------------------------

    def seed(self, conn: sa.Connection, items: Iterable[Agreement]) -> None:
        """Load a policy file's agreements into an empty registry (at ``ntk init``)."""
        for agreement in items:
            self._insert(conn, agreement, "create")

    def create(self, agreement: Agreement) -> Agreement:
        self._check(agreement)
        with self.scope.db.begin() as conn:
            exists = conn.execute(
                sa.select(agreements.c.id).where(agreements.c.id == agreement.id)
            ).first()
            if exists is not None:
                raise ValidationError("id", "agreement", "duplicate_id")
            self._insert(conn, agreement, "create")
        return agreement

    def amend(self, agreement_id: str, **changes: Any) -> Agreement:
        """Change purposes, dates, reference or scoping of a live agreement."""
        fixed = sorted(set(changes) & {"id", "recipient"})
        if fixed:
            raise ValidationError(fixed[0], "agreement", "immutable", "create a new agreement")
        with self.scope.db.begin() as conn:
            current = self._live(conn, agreement_id)
            amended = replace(current, **changes)
            self._check(amended)
            conn.execute(
                agreements.update()
                .where(agreements.c.id == agreement_id)
                .values(**_row(amended), updated_at=self.scope.clock())
            )
            self._changed(conn, amended, "amend", changed=sorted(changes))
        return amended

    def revoke(self, agreement_id: str, reason: str) -> dict[str, Any]:
        """End an agreement now: its recipient loses access at its next decision. Returns
        it as :meth:`listing` shows it, revoked."""
        if not reason.strip():
            raise ValidationError("reason", "agreement", "empty")
        with self.scope.db.begin() as conn:
            current = self._live(conn, agreement_id)
            now = self.scope.clock()
            conn.execute(
                agreements.update()
                .where(agreements.c.id == agreement_id)
                .values(revoked_at=now, updated_at=now)
            )
            self._changed(conn, current, "revoke", reason=reason)
        return next(a for a in self.listing() if a["id"] == agreement_id)

    def assign(self, agreement_id: str, customer_ids: Iterable[str]) -> int:
        """Hand live customers to a customer-scoped agreement (e.g. accounts for
        collection); an unknown or erased customer refuses the whole assignment."""
        ids = sorted({checked_customer_id(cid) for cid in customer_ids})
        with self.scope.db.begin() as conn:
            current = self._live(conn, agreement_id)
            if not current.customer_scoped:
                raise ValidationError("agreement", "agreement", "not_customer_scoped")
            missing = sorted(set(ids) - store.live_among(conn, ids))
            if missing:
                raise NotFound(f"no live customer {', '.join(missing)} (unknown or erased)")
            have: set[str] = set(
                conn.execute(
                    sa.select(agreement_customers.c.customer_id).where(
                        agreement_customers.c.agreement_id == agreement_id
                    )
                ).scalars()
            )
            new = [cid for cid in ids if cid not in have]
            if new:
                conn.execute(
                    agreement_customers.insert(),
                    [{"agreement_id": agreement_id, "customer_id": c} for c in new],
                )
            self._assignment(conn, current, new, "assign")
        return len(new)

    def unassign(self, agreement_id: str, customer_ids: Iterable[str]) -> int:
        ids = sorted({checked_customer_id(cid) for cid in customer_ids})
        with self.scope.db.begin() as conn:
            current = self._live(conn, agreement_id)
            removed = conn.execute(
                agreement_customers.delete().where(
                    agreement_customers.c.agreement_id == agreement_id,
                    agreement_customers.c.customer_id.in_(ids),
                )
            ).rowcount
            self._assignment(conn, current, ids, "unassign")
        return int(removed)

    # -- internals ----------------------------------------------------------------------

    def _check(self, agreement: Agreement) -> None:
        recipient = self.scope.policy().recipients.get(agreement.recipient)
        if recipient is None:
            raise ValidationError("recipient", "agreement", "unknown_recipient")
        if recipient.kind not in BOUND_KINDS:
            raise ValidationError("recipient", "agreement", "not_a_contractor")
        unknown = agreement.purposes - set(self.scope.policy().purposes)
        if unknown or not agreement.purposes:
            raise ValidationError("purposes", "agreement", "unknown_purpose")
        if agreement.purposes & self.scope.policy().prohibited_purposes:
            raise ValidationError("purposes", "agreement", "prohibited_purpose")
        if agreement.expires < agreement.starts:
            raise ValidationError("expires", "agreement", "before_start")
        if not isinstance(agreement.id, str) or not AGREEMENT_ID.fullmatch(agreement.id):
            raise ValidationError("id", "agreement", "id_format", AGREEMENT_ID_RULE)
        if not agreement.reference.strip():
            raise ValidationError("reference", "agreement", "empty")

    def _live(self, conn: sa.Connection, agreement_id: str) -> Agreement:
        row = conn.execute(
            sa.select(agreements)
            .where(agreements.c.id == agreement_id, agreements.c.revoked_at.is_(None))
            .with_for_update()
        ).first()
        if row is None:
            raise NotFound(f"no live agreement {agreement_id!r}")
        return _agreement(row)

    def _insert(self, conn: sa.Connection, agreement: Agreement, action: str) -> None:
        conn.execute(
            agreements.insert().values(
                **_row(agreement), revoked_at=None, updated_at=self.scope.clock()
            )
        )
        self._changed(conn, agreement, action)

    def _changed(
        self, conn: sa.Connection, agreement: Agreement, action: str, **detail: Any
    ) -> None:
        self._record(
            conn,
            Entry(
                kind="agreement_change",
                time=self.scope.clock(),
                actor=self.scope.actor,
                recipient=agreement.recipient,
                policy_version=self.scope.policy().version,
                request_id=self.scope.request_id,
                detail={"action": action, "agreement": agreement_json(agreement), **detail},
            ),
        )

    def _assignment(
        self, conn: sa.Connection, agreement: Agreement, customer_ids: list[str], action: str
    ) -> None:
        # Assignments are looked up per request, not compiled: no registry bump.
        entry = Entry(
            kind="assignment",
            time=self.scope.clock(),
            actor=self.scope.actor,
            recipient=agreement.recipient,
            request_id=self.scope.request_id,
            detail={"action": action, "agreement": agreement.id},
        )
        self.scope.ledger.append_each(conn, entry, customer_ids)

    def _record(self, conn: sa.Connection, entry: Entry) -> None:
        """Ledger the change and bump the registry version, in the change's transaction."""
        bump_version(conn)
        self.scope.ledger.append(conn, entry)


def _row(agreement: Agreement) -> dict[str, Any]:
    return {
        "id": agreement.id,
        "recipient": agreement.recipient,
        "purposes": json.dumps(sorted(agreement.purposes)),
        "reference": agreement.reference,
        "starts": agreement.starts,
        "expires": agreement.expires,
        "customer_scoped": agreement.customer_scoped,
    }


def _agreement(row: Any) -> Agreement:
    return Agreement(
        id=row.id,
        recipient=row.recipient,
        purposes=frozenset(json.loads(row.purposes)),
        expires=row.expires,
        starts=row.starts,
        reference=row.reference,
        customer_scoped=bool(row.customer_scoped),
    )


def agreement_json(agreement: Agreement) -> dict[str, Any]:
    return {
        "id": agreement.id,
        "recipient": agreement.recipient,
        "purposes": sorted(agreement.purposes),
        "reference": agreement.reference,
        "starts": None if agreement.starts == date.min else agreement.starts.isoformat(),
        "expires": agreement.expires.isoformat(),
        "customer_scoped": agreement.customer_scoped,
    }
