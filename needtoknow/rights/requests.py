"""The rights request queue: open, verify who is asking, answer within the published
period, escalate what is late.

A request is answered only once its customer is verified — by a one-time code sent to
the e-mail or telephone on file (or to a nominee's contact, when a nominee with checked
evidence acts), by staff after an offline check, or by opening it from a verified
customer session. Its deadline is the policy's published period for its kind
(``settings.response_days``). Every step is a ledger entry naming the customer, so the
customer sees their own requests in their history. What the customer wrote is a sealed
note, destroyed once the request is answered; every answer carries the contact
(DPDP Rules 2025, Rule 9).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from needtoknow.crypto import envelope
from needtoknow.errors import NeedToKnowError, NotFound, ValidationError, VerificationFailed
from needtoknow.moments import utc_text
from needtoknow.policy.model import RIGHT_KINDS
from needtoknow.records.outbox import NOTIFIER
from needtoknow.rights.codes import CODE_LIFETIME, OneTimeCodes
from needtoknow.rights.nominees import Nominees, checked_details
from needtoknow.rights.senders import CHANNEL_CATEGORY, CHANNELS, Sender
from needtoknow.rights.summary import access_summary, sealed_copy
from needtoknow.storage import notes, store
from needtoknow.storage.database import reading, stored_utc
from needtoknow.storage.schema import rights_requests
from needtoknow.types import checked_customer_id
from needtoknow.vault import Vault

STAFF_METHODS = ("in_person", "video_kyc", "document")
MAX_NOTE = 10_000  # characters of what a customer writes
_EMAIL = re.compile(r"[^\s,;<>]+@[^\s,;<>]+\.[A-Za-z]{2,}")


@dataclass(frozen=True)
class RightsRequest:
    id: str
    customer_id: str
    kind: str
    status: str  # open, fulfilled, closed
    verification: str  # pending, verified
    verified_by: str | None
    verified_method: str | None
    nominee_id: str | None
    opened_by: str
    opened_at: datetime
    due_at: datetime
    escalated_at: datetime | None
    finished_at: datetime | None

    def overdue(self, now: datetime) -> bool:
        return self.status == "open" and self.due_at < now

    def to_json(self, now: datetime) -> dict[str, Any]:
        return {
            "request_id": self.id,
            "customer_id": self.customer_id,
            "kind": self.kind,
            "status": self.status,
            "verification": self.verification,
            "verified_by": self.verified_by,
            "verified_method": self.verified_method,
            "nominee_id": self.nominee_id,
            "opened_by": self.opened_by,
            "opened_at": utc_text(self.opened_at),
            "due_at": utc_text(self.due_at),
            "overdue": self.overdue(now),
            "days_left": (self.due_at - now).days if self.status == "open" else None,
            "escalated_at": utc_text(self.escalated_at),
            "finished_at": utc_text(self.finished_at),
        }


class RightsRequests:
    def __init__(self, vault: Vault, sender: Sender | None = None) -> None:
        """``sender`` delivers one-time codes and escalations (rights.senders)."""
        self.vault = vault
        self.scope = vault.scope
        self.codes = OneTimeCodes(vault.scope)
        self.nominees = Nominees(vault.scope)
        self.sender = sender

    @property
    def contact(self) -> str:
        return self.vault.policy.grievance_contact

    # -- the queue ------------------------------------------------------------------

    def open(
        self,
        customer_id: str,
        kind: str,
        details: Any = None,
        nominee_id: str | None = None,
        verified_method: str | None = None,
    ) -> RightsRequest:
        """Open a request; ``verified_method`` is ``session`` when the customer opened it
        from a verified customer session (their identity is already proven)."""
        customer_id = checked_customer_id(customer_id)
        if kind not in RIGHT_KINDS:
            raise ValidationError("kind", "request", "one_of", ", ".join(RIGHT_KINDS))
        details = self._checked_details(kind, details)
        if nominee_id is not None:
            self.nominees.acting_for(nominee_id, customer_id)
            if kind == "nomination":
                raise ValidationError("kind", "request", "not_by_nominee")
        now, request_id = self.scope.clock(), str(uuid.uuid4())
        due = now + timedelta(days=self.vault.policy.response_days[kind])
        with self.scope.db.begin() as conn:
            store.require_live(conn, customer_id)
            conn.execute(
                rights_requests.insert().values(
                    id=request_id,
                    customer_id=customer_id,
                    kind=kind,
                    status="open",
                    verification="verified" if verified_method else "pending",
                    verified_by="customer" if verified_method else None,
                    verified_method=verified_method,
                    nominee_id=nominee_id,
                    details=None if details is None else self._seal(request_id, details),
                    opened_by=self.scope.actor,
                    opened_at=now,
                    due_at=due,
                )
            )
            found = self._get(conn, request_id)
            self._ledger(conn, found, "opened", due_at=utc_text(due))
            return found

    def get(self, request_id: str) -> RightsRequest:
        with reading(self.scope.db) as conn:
            return self._get(conn, request_id)

    def listing(
        self, customer_id: str | None = None, overdue: bool = False, open_only: bool = False
    ) -> list[RightsRequest]:
        query = sa.select(rights_requests).order_by(rights_requests.c.due_at, rights_requests.c.id)
        if customer_id is not None:
            query = query.where(rights_requests.c.customer_id == checked_customer_id(customer_id))
        if overdue or open_only:
            query = query.where(rights_requests.c.status == "open")
        if overdue:
            query = query.where(rights_requests.c.due_at < self.scope.clock())
        with reading(self.scope.db) as conn:
            return [_request(row) for row in conn.execute(query)]

    # -- verification ---------------------------------------------------------------

    def send_code(self, request_id: str, channel: str = "email") -> dict[str, Any]:
        """Send a one-time code to the customer's e-mail or telephone on file (a
        nominee's, when one acts); the address is read through the policy as the
        notification provider, and never returned."""
        if channel not in CHANNELS:
            raise ValidationError("channel", "request", "one_of", ", ".join(CHANNELS))
        if self.sender is None:
            raise NeedToKnowError("no sender is configured for one-time codes")
        request = self._pending(request_id)
        category = CHANNEL_CATEGORY[channel]
        if request.nominee_id is not None:
            address = self.nominees.contact(request.nominee_id).get(category)
        elif self.vault.minor(request.customer_id):  # the parent acts for a child (s.9)
            address = self._guardian_address(request.customer_id, category)
        else:
            recipient, purpose = NOTIFIER
            values = self.vault.get(
                request.customer_id, recipient=recipient, purpose=purpose, categories=[category]
            ).values
            address = values.get(category)
        if not isinstance(address, str) or not address:
            raise ValidationError("channel", "request", "no_address_on_file", channel)
        with self.scope.db.begin() as conn:
            code = self.codes.issue(conn, request.id, request.customer_id)
        minutes = int(CODE_LIFETIME.total_seconds() // 60)
        self.sender.send(
            channel,
            address,
            "Your verification code",
            f"Your code is {code}. It confirms your {request.kind} request {request.id[:8]} "
            f"and expires in {minutes} minutes. If you did not ask, contact {self.contact}.",
        )
        return {"request_id": request.id, "sent": channel, "expires_in": minutes * 60}

    def verify(self, request_id: str, code: str) -> RightsRequest:
        """Verify with the one-time code the customer (or nominee) received."""
        request = self._pending(request_id)
        customer = self.codes.check(request.id, code)
        if customer != request.customer_id:  # a code is bound to its request: never
            raise VerificationFailed("wrong_code")
        by = f"nominee:{request.nominee_id}" if request.nominee_id else "customer"
        if request.nominee_id is None and self.vault.minor(request.customer_id):
            by = "guardian"
        return self._verified(request, by, "code")

    def _guardian_address(self, child_id: str, category: str) -> Any:
        """Where a child's parent is reached: the address on the parent's own record
        (read through the policy as the notification provider), or the e-mail given
        with an age verifier's token."""
        guardian = self.vault.guardians.of(child_id)
        if guardian is None:
            return None
        if guardian.guardian_id is None:
            return guardian.email if category == "email" else None
        recipient, purpose = NOTIFIER
        return self.vault.get(
            guardian.guardian_id, recipient=recipient, purpose=purpose, categories=[category]
        ).values.get(category)

    def verify_offline(self, request_id: str, verified_by: str, method: str) -> RightsRequest:
        """Staff checked who is asking without a code: in person, by video KYC, or from
        documents. ``verified_by`` names the member of staff who checked."""
        if method not in STAFF_METHODS:
            raise ValidationError("method", "request", "one_of", ", ".join(STAFF_METHODS))
        if not verified_by.strip() or len(verified_by) > 200:
            raise ValidationError("verified_by", "request", "text", "1-200 characters")
        return self._verified(self._pending(request_id), verified_by.strip(), method)

    def _verified(self, request: RightsRequest, by: str, method: str) -> RightsRequest:
        with self.scope.db.begin() as conn:
            updated = conn.execute(
                rights_requests.update()
                .where(
                    rights_requests.c.id == request.id,
                    rights_requests.c.verification == "pending",
                )
                .values(verification="verified", verified_by=by, verified_method=method)
            ).rowcount
            if not updated:
                raise NeedToKnowError(f"request {request.id} is already verified")
            found = self._get(conn, request.id)
            self._ledger(conn, found, "verified", method=method)
            return found

    # -- answers --------------------------------------------------------------------

    def fulfil(self, request_id: str, copy_key: bytes | None = None) -> dict[str, Any]:
        """Answer a verified request: the access summary (and, with ``copy_key``, a copy
        sealed to it), the erasure's outcome, the correction made, or the nominee
        recorded. A grievance is answered by :meth:`close` with a resolution."""
        request = self._answerable(request_id)
        if request.kind == "grievance":
            raise ValidationError("kind", "request", "close_with_resolution")
        details = self._details(request)
        answer: dict[str, Any]
        if request.kind == "access":
            answer = access_summary(self.vault, request.customer_id)
            if copy_key is not None:
                answer["copy"] = sealed_copy(self.vault, request.customer_id, copy_key, request.id)
        elif request.kind == "erasure":
            answer = self.vault.erase(request.customer_id).to_json()
        elif request.kind == "correction":
            result = self.vault.correct(request.customer_id, details)
            answer = {"corrected": list(result.categories)}
        else:  # nomination
            with self.scope.db.begin() as conn:
                answer = {
                    "nominee": self.nominees.record(conn, request.customer_id, details).to_json()
                }
        finished = self._finish(request, "fulfilled")
        return {
            "request": finished.to_json(self.scope.clock()),
            "answer": answer,
            "contact": self.contact,
        }

    def close(self, request_id: str, resolution: str) -> dict[str, Any]:
        """Close a request with a resolution: a grievance's answer, or why another
        request was not carried out (one whose asker could not be verified, too). The
        text is kept sealed, shown to the customer only in a verified session."""
        if not resolution.strip() or len(resolution) > MAX_NOTE:
            raise ValidationError("resolution", "request", "text", f"1-{MAX_NOTE} characters")
        request = self._open(request_id)
        sealed = envelope.seal_note(
            self.scope.keys, notes.owner(rights_requests, request.id, "resolution"), resolution
        )
        finished = self._finish(request, "closed", resolution=sealed)
        return {
            "request": finished.to_json(self.scope.clock()),
            "resolution": resolution,
            "contact": self.contact,
        }

    def resolution(self, request_id: str) -> str | None:
        """A closed request's resolution, opened (None: not closed with one)."""
        with reading(self.scope.db) as conn:
            blob: bytes | None = conn.execute(
                sa.select(rights_requests.c.resolution).where(rights_requests.c.id == request_id)
            ).scalar_one_or_none()
        if blob is None:
            return None
        owner = notes.owner(rights_requests, request_id, "resolution")
        return str(envelope.open_note(self.scope.keys, owner, bytes(blob)))

    def escalate(self) -> list[RightsRequest]:
        """Escalate every overdue request not yet escalated: ledgered, and the contact
        person told (by e-mail, to the address in the policy's grievance contact)."""
        now = self.scope.clock()
        escalated = []
        with self.scope.db.begin() as conn:
            rows = conn.execute(
                sa.select(rights_requests).where(
                    rights_requests.c.status == "open",
                    rights_requests.c.due_at < now,
                    rights_requests.c.escalated_at.is_(None),
                )
            ).fetchall()
            for row in rows:
                conn.execute(
                    rights_requests.update()
                    .where(rights_requests.c.id == row.id)
                    .values(escalated_at=now)
                )
                found = self._get(conn, row.id)
                self._ledger(conn, found, "escalated", due_at=utc_text(found.due_at))
                escalated.append(found)
        contact = _EMAIL.search(self.contact)
        if escalated and self.sender is not None and contact:
            lines = [f"- {r.kind} request {r.id}, due {utc_text(r.due_at)}" for r in escalated]
            self.sender.send(
                "email",
                contact.group(0),
                f"{len(escalated)} rights request(s) overdue",
                "These requests are past their published deadline:\n" + "\n".join(lines),
            )
        return escalated

    # -- internals ------------------------------------------------------------------

    def _checked_details(self, kind: str, details: Any) -> Any:
        if details is not None and len(json.dumps(details, ensure_ascii=False)) > MAX_NOTE:
            raise ValidationError(
                "details", "request", "too_long", f"at most {MAX_NOTE} characters"
            )
        if kind == "correction":
            registry = self.vault.registry
            if not isinstance(details, Mapping) or not details:
                raise ValidationError("details", "request", "changes", "{category: new value}")
            for name in details:
                if name not in registry:
                    raise ValidationError("details", "request", "unknown_category", str(name))
        elif kind == "nomination":
            return checked_details(self.vault.registry, details, self.scope.clock().date())
        elif kind == "grievance" and (not isinstance(details, str) or not details.strip()):
            raise ValidationError("details", "request", "text", "what the grievance is about")
        return details

    def _seal(self, request_id: str, value: Any) -> bytes:
        owner = notes.owner(rights_requests, request_id, "details")
        return envelope.seal_note(self.scope.keys, owner, value)

    def _details(self, request: RightsRequest) -> Any:
        with reading(self.scope.db) as conn:
            blob: bytes | None = conn.execute(
                sa.select(rights_requests.c.details).where(rights_requests.c.id == request.id)
            ).scalar_one()
        if blob is None:
            return None
        owner = notes.owner(rights_requests, request.id, "details")
        return envelope.open_note(self.scope.keys, owner, bytes(blob))

    def _pending(self, request_id: str) -> RightsRequest:
        request = self._open(request_id)
        if request.verification != "pending":
            raise NeedToKnowError(f"request {request_id} is already verified")
        return request

    def _open(self, request_id: str) -> RightsRequest:
        request = self.get(request_id)
        if request.status != "open":
            raise NeedToKnowError(f"request {request_id} is {request.status}")
        return request

    def _answerable(self, request_id: str) -> RightsRequest:
        request = self._open(request_id)
        if request.verification != "verified":
            raise VerificationFailed("unverified")
        if request.nominee_id is not None:  # evidence may have been withdrawn since
            self.nominees.acting_for(request.nominee_id, request.customer_id)
        return request

    def _finish(self, request: RightsRequest, status: str, **values: Any) -> RightsRequest:
        with self.scope.db.begin() as conn:
            updated = conn.execute(
                rights_requests.update()
                .where(rights_requests.c.id == request.id, rights_requests.c.status == "open")
                .values(status=status, finished_at=self.scope.clock(), details=None, **values)
            ).rowcount
            if not updated:
                raise NeedToKnowError(f"request {request.id} was answered meanwhile")
            found = self._get(conn, request.id)
            self._ledger(conn, found, status)
            return found

    def _get(self, conn: sa.Connection, request_id: str) -> RightsRequest:
        row = conn.execute(
            sa.select(rights_requests).where(rights_requests.c.id == request_id)
        ).first()
        if row is None:
            raise NotFound(f"no request {request_id!r}")
        return _request(row)

    def _ledger(
        self, conn: sa.Connection, request: RightsRequest, event: str, **detail: Any
    ) -> None:
        entry = self.scope.entry(
            "request",
            customer_id=request.customer_id,
            detail={"event": event, "request_id": request.id, "kind": request.kind, **detail},
        )
        self.scope.ledger.append(conn, entry)


def _request(row: Any) -> RightsRequest:
    def moment(value: Any) -> datetime | None:
        return stored_utc(value) if value is not None else None

    return RightsRequest(
        row.id,
        row.customer_id,
        row.kind,
        row.status,
        row.verification,
        row.verified_by,
        row.verified_method,
        row.nominee_id,
        row.opened_by,
        stored_utc(row.opened_at),
        stored_utc(row.due_at),
        moment(row.escalated_at),
        moment(row.finished_at),
    )
