"""Verifications of the ledger, kept: a privacy officer is asked "when was it last
checked, by whom, and did it hold?", and the answer must not be someone's memory.

Each run is a row of ``ledger_audits`` and an ``audit`` ledger entry under a new signed
head, so a later verification also covers the record of the earlier one.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from needtoknow.errors import LedgerTampered, TooManyAttempts
from needtoknow.ledger import log
from needtoknow.ledger.heads import TreeHead
from needtoknow.ledger.report import Report
from needtoknow.moments import utc_text
from needtoknow.records.scope import Scope
from needtoknow.storage.database import reading, stored_utc
from needtoknow.storage.schema import ledger_audits

# One verification at a time in a process: a whole one reads every entry (half a minute
# at a million), and a button pressed again and again must not start one per press.
_RUNNING = threading.Lock()
RETRY_AFTER = 10  # seconds a refused caller is told to wait


@dataclass(frozen=True)
class Audit:
    verified_at: datetime
    actor: str
    entries: int
    witnesses: int
    ok: bool
    since: int | None  # where it started (0: the whole ledger; None: not recorded)

    def to_json(self) -> dict[str, Any]:
        return {
            "verified_at": utc_text(self.verified_at),
            "actor": self.actor,
            "entries": self.entries,
            "witnesses": self.witnesses,
            "ok": self.ok,
            "since": self.since,
        }


class LedgerAudits:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def run(
        self,
        witnesses: Sequence[TreeHead] = (),
        progress: Callable[[int], None] | None = None,
        since_last: bool = False,
    ) -> Report:
        """Verify the ledger (see :meth:`Ledger.verify`) and keep what was found.
        ``since_last``: only what was appended after the newest signed head the last
        verification that held reached (all of it when none held). Refused with
        TooManyAttempts while another runs in this process."""
        if not _RUNNING.acquire(blocking=False):
            raise TooManyAttempts(RETRY_AFTER, "a verification of the ledger is already running")
        try:
            return self._run(witnesses, progress, since_last)
        finally:
            _RUNNING.release()

    def _run(
        self,
        witnesses: Sequence[TreeHead],
        progress: Callable[[int], None] | None,
        since_last: bool,
    ) -> Report:
        if since_last:
            # Heads are what a later run can start from: one over everything there is now
            # (refused over a tampered ledger, which the verification then reports).
            with contextlib.suppress(LedgerTampered):
                self.scope.ledger.sign_head()
        start = self._verified_head() if since_last else None
        report = self.scope.ledger.verify(witnesses, progress, since=start)
        if since_last and start is None:
            report.warnings.append("no earlier verification held: all of it was verified")
        now = self.scope.clock()
        found = {"entries": report.entries, "witnesses": report.witnesses_checked, "ok": report.ok}
        detail: dict[str, Any] = {**found, "since": report.since}
        # The head the check itself found good (read in its snapshot), not one signed while
        # it ran: that one's entries were unsealed then, so their index rows went unseen.
        good = report.ok and report.head_size > 0
        verified = self.scope.ledger.newest_head(at_most=report.head_size) if good else None
        if verified is not None:
            detail["verified"] = self.scope.ledger.attest(verified)
        with self.scope.db.begin() as conn:
            index = self.scope.ledger.append(conn, self.scope.entry("audit", detail=detail))
            conn.execute(
                ledger_audits.insert().values(
                    id=str(uuid.uuid4()),
                    verified_at=now,
                    actor=self.scope.actor,
                    ledger_index=index,
                    since=report.since,
                    **found,
                )
            )
        self.scope.ledger.sign_head()  # so the record of this run is itself signed
        return report

    def _verified_head(self) -> TreeHead | None:
        """The newest signed head within what the last verification that held covered,
        if its own ledger entry says so too, with the ledger key's signature (the kept
        row is nothing signed, and an entry can be appended by whoever can write the
        database: neither alone must make a run skip the past). That entry comes after
        the head, so the run that starts there checks it."""
        with reading(self.scope.db) as conn:
            row = conn.execute(
                sa.select(ledger_audits.c.entries, ledger_audits.c.ledger_index)
                .where(ledger_audits.c.ok.is_(True))
                .order_by(ledger_audits.c.verified_at.desc())
                .limit(1)
            ).first()
            if row is None or row.ledger_index is None:
                return None
            try:
                entry = orjson.loads(log.entry_at(conn, int(row.ledger_index)))
            except (sa.exc.NoResultFound, orjson.JSONDecodeError):
                return None
        detail = entry.get("detail") if isinstance(entry, dict) else None
        if (
            not isinstance(detail, dict)
            or entry.get("kind") != "audit"
            or detail.get("ok") is not True
            or detail.get("entries") != row.entries
        ):
            return None
        return self.scope.ledger.attested(detail.get("verified"))

    def last(self, whole: bool = False) -> Audit | None:
        """The newest verification kept; ``whole``: the newest of the whole ledger."""
        query = sa.select(ledger_audits).order_by(ledger_audits.c.verified_at.desc()).limit(1)
        if whole:
            query = query.where(ledger_audits.c.since == 0)
        with reading(self.scope.db) as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return Audit(
            stored_utc(row.verified_at), row.actor, row.entries, row.witnesses, row.ok, row.since
        )
