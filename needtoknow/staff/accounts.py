"""Staff accounts: a password (kept only as an Argon2id hash) and a TOTP second factor
(its secret sealed under the vault's keys), both needed to sign in.

Guessing is throttled per account: five failures lock it for fifteen minutes, and a
TOTP code is accepted once (a code seen on a shoulder cannot be replayed within its
30 seconds). An unknown name costs the same Argon2 work as a known one and is refused
with the same reason, so sign-in does not reveal who has an account. Every addition,
sign-in, refusal and lock-out is a ledger entry; no password or secret ever is.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa

from needtoknow.crypto import envelope
from needtoknow.errors import NotFound, TooManyAttempts, ValidationError, VerificationFailed
from needtoknow.guards.actors import checked_actor
from needtoknow.guards.names import unknown
from needtoknow.moments import utc_text
from needtoknow.policy.notice import LANGUAGES
from needtoknow.records.scope import Scope
from needtoknow.storage import notes
from needtoknow.storage.database import reading, stored_utc
from needtoknow.storage.schema import staff_accounts

ROLES = {
    "officer": "the privacy officer: everything in the console",
    "approver": "approves or rejects disclosure requests filed by someone else",
    "analyst": "reads the ledger, reports and budgets; changes nothing",
}
MIN_PASSWORD = 12
MAX_FAILURES = 5
LOCKED_FOR = timedelta(minutes=15)
STEP = 30  # seconds per TOTP code (RFC 6238's default, what authenticator apps use)
ISSUER = "needtoknow"


@dataclass(frozen=True)
class StaffMember:
    name: str
    role: str
    created_at: datetime
    disabled_at: datetime | None
    language: str = "en"  # what the console speaks to them (policy.notice.LANGUAGES)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "language": self.language,
            "created_at": utc_text(self.created_at),
            "disabled_at": utc_text(self.disabled_at),
        }


@dataclass(frozen=True)
class Enrolment:
    """A new account and its TOTP secret — shown this once, to load into an app."""

    member: StaffMember
    totp_secret: str  # base32, as authenticator apps take it
    totp_uri: str  # otpauth://, for a QR code

    def to_json(self) -> dict[str, Any]:
        return {**self.member.to_json(), "totp_secret": self.totp_secret, "totp_uri": self.totp_uri}


class StaffAccounts:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._hasher = _hasher()

    def add(self, name: str, role: str, password: str, language: str = "en") -> Enrolment:
        """A new account; the TOTP secret it returns is stored only sealed."""
        name = checked_actor(name, "name")
        if role not in ROLES:
            raise ValidationError("role", "staff", "unknown", unknown("role", role, ROLES))
        if language not in LANGUAGES:
            detail = unknown("language", language, LANGUAGES)
            raise ValidationError("language", "staff", "unknown", detail)
        if len(password) < MIN_PASSWORD or name.lower() in password.lower():
            detail = f"at least {MIN_PASSWORD} characters, not containing the name"
            raise ValidationError("password", "staff", "weak", detail)
        account_id, secret, now = str(uuid.uuid4()), secrets.token_bytes(20), self.scope.clock()
        sealed = envelope.seal_note(
            self.scope.keys,
            notes.owner(staff_accounts, account_id, "totp_secret"),
            base64.b64encode(secret).decode(),
        )
        with self.scope.db.begin() as conn:
            taken = conn.execute(
                sa.select(staff_accounts.c.id).where(staff_accounts.c.name == name)
            ).first()
            if taken is not None:
                raise ValidationError("name", "staff", "taken")
            conn.execute(
                staff_accounts.insert().values(
                    id=account_id,
                    name=name,
                    role=role,
                    password_hash=self._hasher.hash(password),
                    totp_secret=sealed,
                    failures=0,
                    created_at=now,
                    language=language,
                )
            )
            self._ledger(conn, name, "added", role=role)
        member = StaffMember(name, role, now, None, language)
        text = base64.b32encode(secret).decode()
        return Enrolment(member, text, _totp(secret).get_provisioning_uri(name, ISSUER))

    def listing(self) -> list[StaffMember]:
        with reading(self.scope.db) as conn:
            rows = conn.execute(sa.select(staff_accounts).order_by(staff_accounts.c.name))
            return [member_of(row) for row in rows]

    def disable(self, name: str) -> StaffMember:
        """The account signs in no more (kept, so its past ledger entries keep a name)."""
        with self.scope.db.begin() as conn:
            row = self._row(conn, name)
            now = self.scope.clock()
            conn.execute(
                staff_accounts.update()
                .where(staff_accounts.c.id == row.id)
                .values(disabled_at=row.disabled_at or now)
            )
            self._ledger(conn, row.name, "disabled")
        return replace(member_of(row), disabled_at=stored_utc(row.disabled_at or now))

    def sign_in(self, name: str, password: str, code: str) -> StaffMember:
        """The member, if the password and a fresh TOTP code are right. Raises
        VerificationFailed (``wrong_credentials`` whichever was wrong, or the name is
        unknown; ``disabled``) or TooManyAttempts while the account is locked. The
        refusal and the failure count are committed before it is raised."""
        now = self.scope.clock()
        with self.scope.db.begin() as conn:
            outcome = self._attempt(conn, name.strip(), password, code, now)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def _attempt(
        self, conn: sa.Connection, name: str, password: str, code: str, now: datetime
    ) -> StaffMember | VerificationFailed | TooManyAttempts:
        row = conn.execute(
            sa.select(staff_accounts).where(staff_accounts.c.name == name).with_for_update()
        ).first()
        if row is None:
            self._password_ok(_dummy_hash(), password)  # the same work as a real account
            self._ledger(conn, "(unknown)", "refused", reason="wrong_credentials")
            return VerificationFailed("wrong_credentials")
        locked = stored_utc(row.locked_until) if row.locked_until else None
        if locked is not None and locked > now:
            return TooManyAttempts(int((locked - now).total_seconds()) + 1)
        if row.disabled_at is not None:
            self._ledger(conn, row.name, "refused", reason="disabled")
            return VerificationFailed("disabled")
        step = (
            self._step(row, code, now) if self._password_ok(row.password_hash, password) else None
        )
        if step is not None:
            values: dict[str, Any] = {"failures": 0, "locked_until": None, "last_step": step}
            self._ledger(conn, row.name, "signed_in")
        elif row.failures + 1 >= MAX_FAILURES:
            values = {"failures": 0, "locked_until": now + LOCKED_FOR}
            self._ledger(conn, row.name, "locked", reason="wrong_credentials")
        else:
            values = {"failures": row.failures + 1}
            self._ledger(conn, row.name, "refused", reason="wrong_credentials")
        conn.execute(staff_accounts.update().where(staff_accounts.c.id == row.id).values(values))
        if step is not None:
            return member_of(row)
        if "locked_until" in values:
            return TooManyAttempts(int(LOCKED_FOR.total_seconds()))
        return VerificationFailed("wrong_credentials")

    def _step(self, row: Any, code: str, now: datetime) -> int | None:
        """The time step of a valid code not used before (one step of clock drift
        either way), or None."""
        from cryptography.hazmat.primitives.twofactor import InvalidToken

        owner = notes.owner(staff_accounts, row.id, "totp_secret")
        secret = base64.b64decode(
            envelope.open_note(self.scope.keys, owner, bytes(row.totp_secret))
        )
        totp, current = _totp(secret), int(now.timestamp()) // STEP
        for step in (current, current - 1, current + 1):
            if row.last_step is not None and step <= row.last_step:
                continue
            try:
                totp.verify(code.strip().encode(), step * STEP)
            except InvalidToken:
                continue
            return step
        return None

    def _password_ok(self, stored: str, password: str) -> bool:
        from argon2.exceptions import VerificationError, VerifyMismatchError

        try:
            return bool(self._hasher.verify(stored, password))
        except (VerifyMismatchError, VerificationError):
            return False

    def _row(self, conn: sa.Connection, name: str) -> Any:
        row = conn.execute(sa.select(staff_accounts).where(staff_accounts.c.name == name)).first()
        if row is None:
            raise NotFound(f"no staff account {name!r}")
        return row

    def _ledger(self, conn: sa.Connection, name: str, action: str, **detail: Any) -> None:
        entry = self.scope.entry("staff", detail={"action": action, "staff": name, **detail})
        self.scope.ledger.append(conn, entry)


def member_of(row: Any) -> StaffMember:
    """The member a row of ``staff_accounts`` (or a join with it) describes."""
    disabled = stored_utc(row.disabled_at) if row.disabled_at else None
    return StaffMember(row.name, row.role, stored_utc(row.created_at), disabled, row.language)


def _totp(secret: bytes) -> Any:
    from cryptography.hazmat.primitives.hashes import SHA1
    from cryptography.hazmat.primitives.twofactor.totp import TOTP

    # SHA-1 is what RFC 6238 and every authenticator app use; HMAC-SHA-1 is not broken.
    return TOTP(secret, 6, SHA1(), STEP, enforce_key_length=True)


def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()  # Argon2id, RFC 9106's low-memory profile


@cache
def _dummy_hash() -> str:
    """A hash to check unknown names against, so they cost what a real account costs."""
    return str(_hasher().hash(secrets.token_hex(16)))
