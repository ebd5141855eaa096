"""One-time codes: proof that a person controls the e-mail address or telephone on file.

Six digits, so only a keyed MAC of each is stored (a plain hash of a million
possibilities is no secret); a code expires after ten minutes and allows five attempts,
after which its subject is locked until a new code is sent (``attempts`` counts the
wrong ones). Issuing a code replaces the
subject's earlier ones. Every refusal and every success is ledgered.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from needtoknow.errors import VerificationFailed
from needtoknow.records.scope import Scope
from needtoknow.storage.database import stored_utc
from needtoknow.storage.schema import one_time_codes

CODE_LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5


class OneTimeCodes:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def _digest(self, code_id: str, code: str) -> bytes:
        # The token MAC key, domain-separated: a recipient name never contains '/'.
        return self.scope.keys.mac("token", f"ntk/otp/v1\x00{code_id}\x00{code}".encode())

    def issue(self, conn: sa.Connection, subject: str, customer_id: str | None) -> str:
        """A new code for ``subject`` (a request or session id), in ``conn``'s
        transaction; earlier codes of the subject stop working."""
        now = self.scope.clock()
        conn.execute(
            one_time_codes.update()
            .where(one_time_codes.c.subject == subject, one_time_codes.c.used_at.is_(None))
            .values(used_at=now)
        )
        code_id, code = str(uuid.uuid4()), f"{secrets.randbelow(10**6):06d}"
        conn.execute(
            one_time_codes.insert().values(
                id=code_id,
                subject=subject,
                customer_id=customer_id,
                digest=self._digest(code_id, code),
                issued_at=now,
                expires_at=now + CODE_LIFETIME,
                attempts=0,
            )
        )
        self._ledger(conn, subject, customer_id, "sent")
        return code

    def check(self, subject: str, code: str) -> str | None:
        """Use ``subject``'s code; returns the customer it was sent for (None: the
        address was not on file, and no code can match). Raises VerificationFailed."""
        now = self.scope.clock()
        with self.scope.db.begin() as conn:
            row = conn.execute(
                sa.select(one_time_codes)
                .where(one_time_codes.c.subject == subject, one_time_codes.c.used_at.is_(None))
                .order_by(one_time_codes.c.issued_at.desc())
                .limit(1)
                .with_for_update()
            ).first()
            if row is None or stored_utc(row.expires_at) <= now:
                reason = "expired"
            elif row.attempts >= MAX_ATTEMPTS:
                reason = "locked"
            elif row.customer_id is not None and hmac.compare_digest(
                bytes(row.digest), self._digest(row.id, code.strip())
            ):
                conn.execute(
                    one_time_codes.update().where(one_time_codes.c.id == row.id).values(used_at=now)
                )
                self._ledger(conn, subject, row.customer_id, "used")
                return str(row.customer_id)
            else:
                attempts = row.attempts + 1
                conn.execute(
                    one_time_codes.update()
                    .where(one_time_codes.c.id == row.id)
                    .values(attempts=attempts)
                )
                reason = "locked" if attempts >= MAX_ATTEMPTS else "wrong_code"
            customer = row.customer_id if row is not None else None
            self._ledger(conn, subject, customer, reason)
        raise VerificationFailed(reason)

    @staticmethod
    def failures(conn: sa.Connection, customer_id: str, since: datetime) -> int:
        """Wrong attempts at the codes sent for ``customer_id`` since ``since``."""
        found: Any = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(one_time_codes.c.attempts), 0)).where(
                one_time_codes.c.customer_id == customer_id, one_time_codes.c.issued_at > since
            )
        ).scalar_one()
        return int(found)

    def _ledger(
        self, conn: sa.Connection, subject: str, customer_id: str | None, event: str
    ) -> None:
        entry = self.scope.entry(
            "verification", customer_id=customer_id, detail={"event": event, "subject": subject}
        )
        self.scope.ledger.append(conn, entry)
