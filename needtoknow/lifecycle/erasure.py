"""Erasure that keeps what the law keeps — one path for an erasure request, an
operator's ``ntk customer erase`` and the retention run.

Each decides every category with :func:`~needtoknow.lifecycle.retention.plan`, then in
one transaction per batch: crypto-shreds what is due (the whole customer when nothing
is left, else by re-keying: :mod:`needtoknow.records.shred`), marks what a hold keeps
as readable only for the hold's purposes (the read path enforces it), ledgers each
customer's outcome, and instructs every bound recipient that received an erased
category to erase its copy. A crash mid-run loses at most the batch in flight, which
the next run redoes: a run changes only what is due, so running it twice is harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import sqlalchemy as sa

from needtoknow.errors import NotFound, ValidationError
from needtoknow.lifecycle.accounts import ACCOUNT_COLUMNS, account_of
from needtoknow.lifecycle.holds import LegalHolds
from needtoknow.lifecycle.retention import Fate, LegalHold, plan
from needtoknow.moments import utc_text
from needtoknow.records.instructions import Instructions
from needtoknow.records.scope import Scope
from needtoknow.records.shred import shred
from needtoknow.storage import notes, scrubs, store
from needtoknow.storage.database import reading
from needtoknow.storage.schema import customers
from needtoknow.types import checked_customer_id

Progress = Callable[[int], None]  # called with how many customers a batch examined


@dataclass(frozen=True)
class Outcome:
    """One customer's erasure: what went, what stays and why."""

    customer_id: str
    fates: tuple[Fate, ...]

    @cached_property
    def erased(self) -> tuple[str, ...]:
        return tuple(f.category for f in self.fates if f.action == "erase")

    @cached_property
    def whole(self) -> bool:
        """Nothing is left: the customer is a tombstone."""
        return len(self.erased) == len(self.fates)

    def held(self) -> dict[str, store.Held]:
        return {
            f.category: store.Held(f.readable_for, f.basis, f.until.isoformat())
            for f in self.fates
            if f.action == "hold" and f.until is not None
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "erased": list(self.erased),
            "kept": [f.to_json() for f in self.fates if f.action != "erase"],
        }


@dataclass
class RunReport:
    as_of: datetime
    dry_run: bool
    examined: int = 0
    changed: list[Outcome] = field(default_factory=list)
    instructions: int = 0
    scrubbed: bool | None = None

    def summary(self) -> dict[str, Any]:
        """The counts, without each customer's outcome (what the run's entry records)."""
        return {
            "as_of": utc_text(self.as_of),
            "dry_run": self.dry_run,
            "examined": self.examined,
            "customers_erased": sum(o.whole for o in self.changed),
            "categories_erased": sum(len(o.erased) for o in self.changed),
            "customers_held": sum(bool(o.held()) for o in self.changed),
            "instructions": self.instructions,
            "scrubbed": self.scrubbed,
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.summary(), "customers": [o.to_json() for o in self.changed]}


class Erasures:
    def __init__(self, scope: Scope, holds: LegalHolds, instructions: Instructions) -> None:
        self.scope = scope
        self.holds = holds
        self.instructions = instructions

    def erase(self, customer_id: str, cause: str = "erasure") -> tuple[Outcome, bool]:
        """Erase what no hold keeps of one customer now (an erasure request: its purposes
        end here, and an open account closes); returns the outcome and whether the
        deleted bytes are scrubbed from SQLite's files (see ``Vault.erase``)."""
        customer_id = checked_customer_id(customer_id)
        now = self.scope.clock()
        with self.scope.db.begin() as conn:
            row = conn.execute(_live(ACCOUNT_COLUMNS).where(customers.c.id == customer_id)).first()
            if row is None:
                raise NotFound(f"no customer {customer_id!r}")
            account = account_of(row)
            # Erased data cannot serve an open account, and what is kept stays kept only
            # for the holds: the account closes (if open) marked as an erasure request.
            closed = account.closed_at or now
            conn.execute(
                customers.update()
                .where(customers.c.id == customer_id)
                .values(closed_at=closed, closed_reason="erasure_request")
            )
            account = replace(account, closed_at=closed, erasing=True)
            standing = self.holds.standing(conn, [customer_id], now.date())
            outcome = Outcome(
                customer_id, tuple(plan(account, self._policy(), standing, now, True))
            )
            self._apply(conn, [(outcome, store.unpack_held(row.held))], cause, now)
        return outcome, scrubs.complete(self.scope.db) if outcome.erased else False

    def preview(self, customer_id: str, erasing: bool = False) -> Outcome:
        """What would become of each category of one customer now (``erasing``: on an
        erasure request), changing nothing: an access summary's retention."""
        customer_id = checked_customer_id(customer_id)
        now = self.scope.clock()
        with reading(self.scope.db) as conn:
            row = conn.execute(_live(ACCOUNT_COLUMNS).where(customers.c.id == customer_id)).first()
            if row is None:
                raise NotFound(f"no customer {customer_id!r}")
            standing = self.holds.standing(conn, [customer_id], now.date())
        return Outcome(
            customer_id, tuple(plan(account_of(row), self._policy(), standing, now, erasing))
        )

    def run(
        self,
        dry_run: bool = False,
        as_of: datetime | None = None,
        batch: int = 10_000,
        progress: Progress | None = None,
    ) -> RunReport:
        """Erase (or hold) every category of every closed account whose time has come.
        ``as_of`` shows a dry run at another time; a real run is always now."""
        if as_of is not None and not dry_run:
            raise ValidationError("as_of", "retention", "dry_run_only")
        now = as_of or self.scope.clock()
        report = RunReport(now, dry_run)
        after = ""
        while True:
            with reading(self.scope.db) if dry_run else self.scope.db.begin() as conn:
                rows = self._closed(conn, after, batch, not dry_run, now)
                if not rows:
                    break
                after = rows[-1].id
                changed = self._decide(conn, rows, now)
                if not dry_run:
                    report.instructions += self._apply(conn, changed, "retention", now)
            report.examined += len(rows)
            report.changed.extend(outcome for outcome, _ in changed)
            if progress is not None:
                progress(len(rows))
        if not dry_run:
            self._finish(report)
        return report

    def closed_count(self, as_of: datetime | None = None) -> int:
        """How many closed accounts a run examines (for a progress bar)."""
        with reading(self.scope.db) as conn:
            query = _live([sa.func.count()]).where(_candidates(as_of or self.scope.clock()))
            return int(conn.execute(query).scalar_one())

    def _finish(self, report: RunReport) -> None:
        self.scope.ledger.record(self.scope.entry("retention", detail=report.summary()))
        if any(o.erased for o in report.changed):
            report.scrubbed = scrubs.complete(self.scope.db)

    def _policy(self) -> Any:
        return self.scope.engine().policy

    @staticmethod
    def _closed(
        conn: sa.Connection, after: str, batch: int, lock: bool, now: datetime
    ) -> Sequence[Any]:
        """The next closed accounts a run must plan: those closed long enough for the
        year's minimum to have passed (nothing of a later one can be due: no purpose
        ends before it), those that asked for erasure, and those holding held data."""
        query = (
            _live(ACCOUNT_COLUMNS)
            .where(_candidates(now), customers.c.id > after)
            .order_by(customers.c.id)
            .limit(batch)
        )
        return conn.execute(query.with_for_update() if lock else query).fetchall()

    def _decide(
        self, conn: sa.Connection, rows: Sequence[Any], now: datetime
    ) -> list[tuple[Outcome, dict[str, store.Held]]]:
        """The customers whose record must change at ``now``, with their held marks."""
        policy = self._policy()
        standing: dict[str, list[LegalHold]] = {}
        for hold in self.holds.standing(conn, [r.id for r in rows], now.date()):
            standing.setdefault(hold.customer_id, []).append(hold)
        changed = []
        for row in rows:
            account = account_of(row)
            fates = plan(account, policy, standing.get(row.id, ()), now)
            outcome = Outcome(row.id, tuple(fates))
            before = store.unpack_held(row.held)
            if outcome.erased or outcome.held() != before:
                changed.append((outcome, before))
        return changed

    def _apply(
        self,
        conn: sa.Connection,
        changed: list[tuple[Outcome, dict[str, store.Held]]],
        cause: str,
        now: datetime,
    ) -> int:
        """Carry out ``changed`` in ``conn``'s transaction; returns instructions issued."""
        whole = [o.customer_id for o, _ in changed if o.whole]
        store.erase_many(conn, whole, now)
        for outcome, before in changed:
            if outcome.whole:
                continue
            if outcome.erased:
                shred(conn, self.scope.keys, outcome.customer_id, outcome.erased, now)
            if outcome.held() != before:
                store.set_held(conn, outcome.customer_id, outcome.held())
        erased = {o.customer_id: o.erased for o, _ in changed if o.erased}
        # What customers wrote in their requests, and their nominees, go with their data
        # (an erasure request takes them even when a hold keeps some categories).
        notes.clear_for(conn, [o.customer_id for o, _ in changed if o.whole or cause == "erasure"])
        scrubs.record(conn, list(erased), "retention" if cause == "retention" else "erase", now)
        erase, keep = (self.scope.entry(k, time=now) for k in ("erase", "retention"))
        self.scope.ledger.append_many(
            conn,
            [
                replace(
                    erase if o.erased else keep,
                    customer_id=o.customer_id,
                    categories=o.erased,
                    detail={
                        "cause": cause,
                        "held": {c: h.until for c, h in sorted(o.held().items())},
                    },
                )
                for o, _ in changed
            ],
        )
        return len(self.instructions.issue(conn, erased, cause))


def _candidates(now: datetime) -> Any:
    """Closed accounts something may be due for at ``now`` (see ``Erasures._closed``)."""
    settled = now - timedelta(days=365)  # a year on the calendar is at least 365 days
    return sa.and_(
        customers.c.closed_at.is_not(None),
        sa.or_(
            customers.c.closed_at <= settled,
            customers.c.closed_reason == "erasure_request",
            customers.c.held.is_not(None),
        ),
    )


def _live(columns: Sequence[Any]) -> Any:
    return sa.select(*columns).where(customers.c.wrapped_dek.is_not(None))
