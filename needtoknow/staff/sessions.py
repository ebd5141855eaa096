"""A staff member's signed-in session, for the console: a random token (what the
browser's cookie holds; only a MAC of it is stored), ended by signing out, after
``IDLE`` without a request, or ``LIFETIME`` after it began — and at once when the
account is disabled. (The forms' CSRF tokens are derived from it: ``web.forms``.)
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

import sqlalchemy as sa

from needtoknow.errors import AuthenticationError
from needtoknow.records.scope import Scope
from needtoknow.staff.accounts import StaffAccounts, StaffMember, member_of
from needtoknow.storage.database import stored_utc
from needtoknow.storage.schema import staff_accounts, staff_sessions

IDLE = timedelta(minutes=15)
LIFETIME = timedelta(hours=8)
PREFIX = "ntks_"


class StaffSessions:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.accounts = StaffAccounts(scope)

    def start(self, name: str, password: str, code: str) -> str:
        """Sign in (see :meth:`StaffAccounts.sign_in`) and return a new session token."""
        member = self.accounts.sign_in(name, password, code)
        token, now = PREFIX + secrets.token_urlsafe(32), self.scope.clock()
        with self.scope.db.begin() as conn:
            account: str = conn.execute(
                sa.select(staff_accounts.c.id).where(staff_accounts.c.name == member.name)
            ).scalar_one()
            conn.execute(
                staff_sessions.insert().values(
                    id=str(uuid.uuid4()),
                    account_id=account,
                    token_digest=self._digest(token),
                    started_at=now,
                    last_seen_at=now,
                )
            )
        return token

    def member(self, token: str) -> StaffMember:
        """Who a session token signs in, counting this as activity; raises
        AuthenticationError (``malformed``, ``unknown``, ``expired``, ``revoked``)."""
        if not token.startswith(PREFIX):
            raise AuthenticationError("malformed", "session")
        now = self.scope.clock()
        with self.scope.db.begin() as conn:
            row = conn.execute(
                sa.select(staff_sessions, staff_accounts)
                .join(staff_accounts, staff_accounts.c.id == staff_sessions.c.account_id)
                .where(staff_sessions.c.token_digest == self._digest(token))
            ).first()
            if row is None or row.ended_at is not None:
                raise AuthenticationError("unknown", "session")
            if row.disabled_at is not None:
                raise AuthenticationError("revoked", "session")
            idle = stored_utc(row.last_seen_at) + IDLE <= now
            if idle or stored_utc(row.started_at) + LIFETIME <= now:
                raise AuthenticationError("expired", "session")
            conn.execute(
                staff_sessions.update()
                .where(staff_sessions.c.id == row.id)
                .values(last_seen_at=now)
            )
            return member_of(row)

    def end(self, token: str) -> None:
        """Sign out: the token stops working at once (unknown tokens: nothing to do)."""
        with self.scope.db.begin() as conn:
            conn.execute(
                staff_sessions.update()
                .where(
                    staff_sessions.c.token_digest == self._digest(token),
                    staff_sessions.c.ended_at.is_(None),
                )
                .values(ended_at=self.scope.clock())
            )

    def _digest(self, token: str) -> bytes:
        return self.scope.keys.mac("token", f"ntk/staff-session/v1\x00{token}".encode())
