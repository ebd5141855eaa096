"""Customers signing in to the customer API with a one-time code — no password to keep.

``start`` takes the e-mail address or telephone number a person gives. If it is on file
for exactly one customer (found through the blind index, by the customer as their own
recipient, so the lookup is decided and ledgered), a code goes to that address; if not,
nothing is sent — and the answer, the session id and the work done are the same, so no
one learns which addresses are on file. ``verify`` exchanges the code for a bearer token
good for fifteen minutes; only a MAC of it is stored.

Limits, counted in the database so every server process shares them: sessions started
per address and per client address in an hour, and a lock-out of a customer after too
many wrong codes in an hour (while locked, a start sends nothing, alike again).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from needtoknow.categories import Rules
from needtoknow.errors import (
    AuthenticationError,
    NotFound,
    TooManyAttempts,
    VerificationFailed,
)
from needtoknow.moments import utc_text
from needtoknow.rights.codes import CODE_LIFETIME, OneTimeCodes
from needtoknow.rights.senders import Sender
from needtoknow.rights.summary import SELF
from needtoknow.storage.database import reading, stored_utc
from needtoknow.storage.schema import customer_sessions
from needtoknow.types import Context
from needtoknow.vault import Vault

SESSION_LIFETIME = timedelta(minutes=15)
WINDOW = timedelta(hours=1)
STARTS_PER_ADDRESS = 5  # in WINDOW
STARTS_PER_CLIENT = 20  # in WINDOW
FAILURES_PER_CUSTOMER = 10  # wrong codes in WINDOW before a customer is locked out

Delivery = Callable[[], None]


@dataclass(frozen=True)
class Session:
    token: str
    customer_id: str
    expires_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "token_type": "bearer",
            "expires_at": utc_text(self.expires_at),
        }


class CustomerSessions:
    def __init__(self, vault: Vault, sender: Sender | None = None) -> None:
        self.vault = vault
        self.scope = vault.scope
        self.codes = OneTimeCodes(vault.scope)
        self.sender = sender

    def start(self, address: str, client: str) -> tuple[str, Delivery | None]:
        """A session id for ``address`` (an e-mail or telephone) asked from ``client``
        (the caller's network address), and the delivery of its code to run after
        answering — None when nothing is sent. Raises TooManyAttempts over a limit."""
        category = "email" if "@" in address else "telephone"
        normal = self.vault.registry[category].normalise(
            address, Rules(today=self.scope.clock().date()), "address"
        )
        term = normal.index_terms[0] if normal.index_terms else str(normal.value)
        address_digest = self.scope.keys.mac(
            "token", f"ntk/session/v1\x00{category}\x00{term}".encode()
        )
        client_digest = self.scope.keys.mac("token", f"ntk/client/v1\x00{client}".encode())
        now = self.scope.clock()
        with reading(self.scope.db) as conn:
            self._limit(
                conn, customer_sessions.c.address_digest, address_digest, STARTS_PER_ADDRESS, now
            )
            self._limit(
                conn, customer_sessions.c.client_digest, client_digest, STARTS_PER_CLIENT, now
            )
        session_id = str(uuid.uuid4())
        with self.scope.db.begin() as conn:
            conn.execute(
                customer_sessions.insert().values(
                    id=session_id,
                    customer_id=None,
                    address_digest=address_digest,
                    client_digest=client_digest,
                    started_at=now,
                    failures=0,
                )
            )
        recipient, purpose = SELF
        context = Context(now=now, case_id=session_id, rights_request=session_id)
        found = self.vault.find(
            category, address, recipient=recipient, purpose=purpose, context=context
        )
        customer = found[0] if len(found) == 1 else None
        if customer is not None and self.vault.minor(customer):
            customer = None  # a parent acts for a child (DPDP Act s.9): no code to the child
        with self.scope.db.begin() as conn:
            if customer is not None and self._locked(conn, customer, now):
                customer = None
            code = self.codes.issue(conn, session_id, customer)
            self.scope.ledger.append(
                conn,
                self.scope.entry(
                    "session",
                    customer_id=customer,
                    detail={"event": "started", "session_id": session_id},
                ),
            )
        if customer is None or self.sender is None:
            return session_id, None
        sender, channel = self.sender, "email" if category == "email" else "sms"
        minutes = int(CODE_LIFETIME.total_seconds() // 60)
        text = (
            f"Your sign-in code is {code}. It expires in {minutes} minutes. "
            f"If you did not ask for it, contact {self.vault.policy.grievance_contact}."
        )
        return session_id, lambda: sender.send(
            channel, str(normal.value), "Your sign-in code", text
        )

    def verify(self, session_id: str, code: str) -> Session:
        """Exchange the code for a bearer token (raises VerificationFailed)."""
        now = self.scope.clock()
        with reading(self.scope.db) as conn:
            row = conn.execute(
                sa.select(customer_sessions).where(customer_sessions.c.id == session_id)
            ).first()
        if row is None or row.token_digest is not None:
            raise VerificationFailed("expired")
        try:
            customer = self.codes.check(session_id, code)
        except VerificationFailed:
            with self.scope.db.begin() as conn:
                conn.execute(
                    customer_sessions.update()
                    .where(customer_sessions.c.id == session_id)
                    .values(failures=customer_sessions.c.failures + 1)
                )
            raise
        if customer is None:  # no code can match an address not on file
            raise VerificationFailed("wrong_code")
        token = "ntkc_" + secrets.token_urlsafe(32)
        expires = now + SESSION_LIFETIME
        with self.scope.db.begin() as conn:
            conn.execute(
                customer_sessions.update()
                .where(customer_sessions.c.id == session_id)
                .values(customer_id=customer, token_digest=self._digest(token), expires_at=expires)
            )
            self.scope.ledger.append(
                conn,
                self.scope.entry(
                    "session",
                    customer_id=customer,
                    detail={"event": "verified", "session_id": session_id},
                ),
            )
        return Session(token, customer, expires)

    def customer(self, token: str) -> str:
        """The customer a bearer token signs in (raises AuthenticationError)."""
        if not token.startswith("ntkc_"):
            raise AuthenticationError("malformed", "session token")
        with reading(self.scope.db) as conn:
            row = conn.execute(
                sa.select(customer_sessions.c.customer_id, customer_sessions.c.expires_at).where(
                    customer_sessions.c.token_digest == self._digest(token)
                )
            ).first()
        if row is None:
            raise AuthenticationError("unknown", "session token")
        if stored_utc(row.expires_at) <= self.scope.clock():
            raise AuthenticationError("expired", "session token")
        return str(row.customer_id)

    def end(self, token: str) -> None:
        """Sign out: the token stops working at once."""
        with self.scope.db.begin() as conn:
            ended = conn.execute(
                customer_sessions.update()
                .where(customer_sessions.c.token_digest == self._digest(token))
                .values(expires_at=self.scope.clock())
            ).rowcount
        if not ended:
            raise NotFound("no such session")

    def _digest(self, token: str) -> bytes:
        return self.scope.keys.mac("token", f"ntk/session-token/v1\x00{token}".encode())

    def _limit(
        self, conn: sa.Connection, column: Any, digest: bytes, most: int, now: datetime
    ) -> None:
        started = conn.execute(
            sa.select(sa.func.count(), sa.func.min(customer_sessions.c.started_at)).where(
                column == digest, customer_sessions.c.started_at > now - WINDOW
            )
        ).one()
        if started[0] >= most:
            retry = stored_utc(started[1]) + WINDOW - now
            raise TooManyAttempts(max(1, int(retry.total_seconds())))

    def _locked(self, conn: sa.Connection, customer: str, now: datetime) -> bool:
        """Whether ``customer``'s codes of the last hour met too many wrong attempts."""
        return self.codes.failures(conn, customer, now - WINDOW) >= FAILURES_PER_CUSTOMER
