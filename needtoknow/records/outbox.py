"""Telling customers about a material policy change: a tracked, retried e-mail outbox.

When a material version is posted, every customer whose data the widened rules reach is
queued, in the posting's own transaction (``PolicyVersions.propose``): the customers
holding a category a widening change names (the vault knows which categories a customer
has without decrypting anything), or every customer when a change names none (a new
recipient or purpose, a changed legal basis) or collects a category newly (anyone may be
asked for it); a purpose that keeps its data longer reaches the customers holding a
category it collects. Queuing is idempotent: one row per (version, customer).

Delivery reads each customer's e-mail address through the one path out — as the
notification provider, for service notification, so the read is decided and ledgered
like any other — and sends the version's notice over SMTP, encrypted unless the server
is this machine's loopback (see Smtp). A sent row is marked sent at
once and never sent again; a failure is retried with growing delays, then given up and
marked failed. Every message has a Message-ID made from (version, time it was posted,
customer), so even a crash between the server's acceptance and the mark leaves a
duplicate a mail system can recognise, while a version re-posted with other changes is a
new message.
"""

from __future__ import annotations

import smtplib
import ssl
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from needtoknow.errors import NeedToKnowError, ValidationError
from needtoknow.guards.network import LOOPBACK_EXAMPLES, is_loopback
from needtoknow.policy.notice import render
from needtoknow.records.scope import Reader, Scope
from needtoknow.storage.database import reading
from needtoknow.storage.schema import notifications

if TYPE_CHECKING:
    from needtoknow.ledger import Entry
    from needtoknow.records.versions import PolicyVersions

NOTIFIER = ("notification_provider", "service_notification")
# Writes a non-policy notice for one customer: (key, customer id) → (subject, text).
Compose = Callable[[str, str], tuple[str, str]]
MAX_ATTEMPTS = 8


SMTP_TLS = ("starttls", "implicit", "plain")


@dataclass(frozen=True)
class Smtp:
    """Where notices are sent, and how. ``tls``: ``starttls`` (upgrade, required: a
    server that does not offer it gets nothing), ``implicit`` (TLS from the first byte,
    as on port 465) or ``plain`` — loopback only, since each message carries a
    customer's address. The server's certificate is checked against the system's
    authorities, or ``ca_file``'s."""

    host: str
    port: int
    sender: str
    tls: str = "starttls"
    ca_file: Path | None = None

    def __post_init__(self) -> None:
        if self.tls not in SMTP_TLS:
            raise ValidationError("smtp_tls", "smtp", "one_of", ", ".join(SMTP_TLS))
        if self.tls == "plain" and not is_loopback(self.host):
            raise ValidationError(
                "smtp_tls",
                "smtp",
                "plain_beyond_loopback",
                f"starttls or implicit, or a loopback host ({LOOPBACK_EXAMPLES})",
            )

    def connect(self) -> smtplib.SMTP:
        """A connection ready to send on, encrypted unless ``plain``; raises OSError or
        SMTPException (a refused upgrade is SMTPNotSupportedError) otherwise."""
        context = ssl.create_default_context(cafile=self.ca_file)
        if self.tls == "implicit":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=30, context=context)
        server = smtplib.SMTP(self.host, self.port, timeout=30)
        try:
            if self.tls == "starttls":
                server.starttls(context=context)
        except BaseException:
            server.close()
            raise
        return server


class Outbox:
    def __init__(
        self,
        scope: Scope,
        reader: Reader,
        versions: PolicyVersions,
        smtp: Smtp | None = None,
        compose: Compose | None = None,
    ) -> None:
        """``reader`` reads each address through the policy, as the notification
        provider; ``smtp`` is needed only to deliver. ``compose`` writes the messages of
        notices that are not about a policy version (their key has a ``kind:`` prefix,
        e.g. ``incident:<id>``): (key, customer id) → (subject, text); without it
        those stay queued."""
        self.scope = scope
        self.reader = reader
        self.versions = versions
        self.smtp = smtp
        self.compose = compose

    def deliver(
        self, limit: int = 100, progress: Callable[[int], None] | None = None
    ) -> dict[str, int]:
        """Send up to ``limit`` due notices; returns counts by outcome. ``progress`` is
        called with 1 after each attempt (a progress bar's advance)."""
        if self.smtp is None:
            raise ValueError("delivery needs an SMTP server")
        now = self.scope.clock()
        query = sa.select(
            notifications.c.version, notifications.c.customer_id, notifications.c.attempts
        ).where(notifications.c.status == "pending", notifications.c.next_attempt_at <= now)
        if self.compose is None:  # others' notices wait for a compose; they don't use the limit
            query = query.where(~notifications.c.version.contains(":"))
        with reading(self.scope.db) as conn:
            due = conn.execute(query.order_by(notifications.c.next_attempt_at).limit(limit)).all()
        outcomes: Counter[str] = Counter()
        notices: dict[str, tuple[str, str]] = {}
        for row in due:
            version, customer_id, attempts = str(row[0]), str(row[1]), int(row[2])
            if ":" in version:  # another kind of notice: its own words for each customer
                assert self.compose is not None
                subject, text = self.compose(version, customer_id)
                posting = version.replace(":", ".")
            else:
                if version not in notices:
                    posted, policy, registry = self.versions.get(version)
                    posting = f"{version[:32]}.{int(posted.posted_at.timestamp())}"
                    text = render(policy, registry, "en", posted.changes).markdown()
                    notices[version] = (posting, text)
                posting, text = notices[version]
                subject = "Changes to our privacy policy"
            outcomes[self._send(version, posting, customer_id, attempts, subject, text)] += 1
            if progress is not None:
                progress(1)
        return dict(outcomes)

    @staticmethod
    def queue(
        conn: sa.Connection, key: str, customer_ids: Iterable[str], now: datetime
    ) -> list[str]:
        """Queue the notice ``key`` (a policy version, or ``kind:…``) to each customer
        not queued for it yet, in the caller's transaction; returns those queued now."""
        queued: set[str] = set(
            conn.execute(
                sa.select(notifications.c.customer_id).where(notifications.c.version == key)
            ).scalars()
        )
        new = [c for c in dict.fromkeys(customer_ids) if c not in queued]
        if new:
            conn.execute(
                notifications.insert(),
                [
                    {
                        "version": key,
                        "customer_id": customer,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                    }
                    for customer in new
                ],
            )
        return new

    def status(self, version: str, prefix: bool = False) -> dict[str, int]:
        """Notices of ``version`` by status; ``prefix``: of every key starting with it
        (all of an incident's notices, ``incident:<id>:``)."""
        key = notifications.c.version
        chosen = key.startswith(version, autoescape=True) if prefix else key == version
        with reading(self.scope.db) as conn:
            rows = conn.execute(
                sa.select(notifications.c.status, sa.func.count())
                .where(chosen)
                .group_by(notifications.c.status)
            )
            return {str(row[0]): int(row[1]) for row in rows}

    def _send(
        self,
        version: str,
        posting: str,
        customer_id: str,
        attempts: int,
        subject: str,
        notice: str,
    ) -> str:
        recipient, purpose = NOTIFIER
        try:
            values = self.reader.get(
                customer_id, recipient=recipient, purpose=purpose, categories=["email"]
            ).values
        except NeedToKnowError:  # erased, or the policy no longer lets us: nothing to send
            return self._mark(version, customer_id, "skipped")
        address = values.get("email")
        if not address:
            return self._mark(version, customer_id, "skipped")
        assert self.smtp is not None
        message = EmailMessage()
        message["From"] = self.smtp.sender
        message["To"] = address
        message["Subject"] = subject
        message["Message-ID"] = f"<{posting}.{customer_id}@needtoknow>"
        message.set_content(notice)
        try:
            with self.smtp.connect() as server:
                server.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            return self._retry(version, customer_id, attempts + 1, type(exc).__name__)
        return self._mark(version, customer_id, "sent")

    def _mark(self, version: str, customer_id: str, status: str) -> str:
        now = self.scope.clock()
        with self.scope.db.begin() as conn:
            conn.execute(
                notifications.update()
                .where(
                    notifications.c.version == version, notifications.c.customer_id == customer_id
                )
                .values(status=status, sent_at=now if status == "sent" else None)
            )
            self.scope.ledger.append(conn, self._entry(version, customer_id, status))
        return status

    def _retry(self, version: str, customer_id: str, attempts: int, error: str) -> str:
        status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
        delay = timedelta(minutes=2**attempts)
        with self.scope.db.begin() as conn:
            conn.execute(
                notifications.update()
                .where(
                    notifications.c.version == version, notifications.c.customer_id == customer_id
                )
                .values(
                    status=status,
                    attempts=attempts,
                    last_error=error[:100],
                    next_attempt_at=self.scope.clock() + delay,
                )
            )
            if status == "failed":
                self.scope.ledger.append(conn, self._entry(version, customer_id, status))
        return "retry" if status == "pending" else status

    def _entry(self, version: str, customer_id: str, status: str) -> Entry:
        kind, _, subject = version.partition(":")
        if subject:  # e.g. incident:<id>:<notice number>
            subject, _, number = subject.partition(":")
            detail: dict[str, Any] = {"notice": kind, f"{kind}_id": subject, "status": status}
            if number:
                detail["number"] = int(number)
            return self.scope.entry("notice", customer_id=customer_id, detail=detail)
        return self.scope.entry(
            "notice",
            customer_id=customer_id,
            policy_version=version,
            detail={"notice": "policy_change", "status": status},
        )
