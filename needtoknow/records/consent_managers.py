"""Events from consent managers (DPDP Act s.6(7)-(9), Rules r.4): a person gives or
withdraws consent on the manager's platform, and the manager tells us in an event it
signs with the Ed25519 key the policy registers for it.

An event is accepted once: its id is kept, so the same event sent again is answered as
before (idempotent), and a different body under a used id is refused (a replay or a
forgery). An event older or newer than ``FRESHNESS`` is refused too, so one captured
and held back cannot be played later. A withdrawal through a manager stops the next
read at once, like any withdrawal. Consent records are never deleted — those given
through a manager must be kept at least seven years (Rules, First Schedule, Part B).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from needtoknow.errors import AuthenticationError, NeedToKnowError, ValidationError
from needtoknow.guards.names import unknown
from needtoknow.records.consents import Consents
from needtoknow.records.scope import Scope
from needtoknow.storage import scrubs, store
from needtoknow.storage.database import reading, stored_utc
from needtoknow.storage.schema import consent_manager_events, consents
from needtoknow.types import checked_customer_id

FRESHNESS = timedelta(minutes=10)
ACTIONS = ("grant", "withdraw")
FIELDS = ("event_id", "action", "customer_id", "purpose", "artefact_id", "issued_at")
MAX_BODY = 16_384
MAX_FIELD = 200  # what the event table keeps of an id


class ConsentManagerEvents:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def receive(
        self,
        manager: str,
        body: bytes,
        signature: str,
        admit_refusal: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        """Apply one signed event; returns what was done: ``grant`` or ``withdraw``,
        ``duplicate`` (seen before), or ``superseded`` (issued before the last event
        applied to the same consent, or before a withdrawal by any channel: kept, not
        applied). Until the signature checks, the caller's scope acts for nobody in
        particular; after, the event is ledgered as ``consent_manager:<name>``.
        ``admit_refusal`` is called before each refusal is ledgered and raises when the
        sender is over its limit (then nothing is written): a flood of bad events cannot
        fill the ledger, and a good one never counts."""
        admit = admit_refusal or (lambda: None)
        managers = self.scope.policy().consent_managers
        registered = managers.get(manager)
        if registered is None:
            raise AuthenticationError("unknown", "consent manager")
        if len(body) > MAX_BODY:
            raise ValidationError("body", "consent_manager", "too_long", f"{MAX_BODY} bytes")
        try:
            Ed25519PublicKey.from_public_bytes(registered.public_key).verify(
                bytes.fromhex(signature), body
            )
        except (InvalidSignature, ValueError):
            self._refused(self.scope, manager, "bad_signature", admit)
            raise AuthenticationError("malformed", "consent manager signature") from None
        signed = self.scope.acting(f"consent_manager:{manager}", self.scope.request_id)
        event, digest = _event(body), hashlib.sha256(body).hexdigest()
        event["customer_id"] = checked_customer_id(event["customer_id"])
        if not Consents(signed).needed(event["purpose"]):
            purposes = [
                p for p, spec in signed.policy().purposes.items() if spec.legal_basis == "consent"
            ]
            detail = unknown("purpose", event["purpose"], purposes)
            raise ValidationError("purpose", "consent_manager", "not_consent_based", detail)
        now = signed.clock()
        if abs(now - event["issued_at"]) > FRESHNESS:
            self._refused(signed, manager, "stale", admit)
            raise ValidationError("issued_at", "consent_manager", "stale", f"within {FRESHNESS}")
        try:
            applied = self._apply(signed, manager, event, digest, now)
        except sa.exc.IntegrityError:  # the same id, committed meanwhile by another request
            applied = None
        if applied is None:
            return {
                "event_id": event["event_id"],
                "outcome": self._seen(signed, manager, event, digest, admit),
            }
        outcome, erased = applied
        if erased:
            scrubs.complete(signed.db)
        return {"event_id": event["event_id"], "outcome": outcome}

    def _apply(
        self, scope: Scope, manager: str, event: dict[str, Any], digest: str, now: datetime
    ) -> tuple[str, list[str]] | None:
        """Keep the event and apply it in one transaction: its id is claimed by the same
        commit that changes the consent, so it is applied once or not at all; and under the
        customer's row lock, so two events about one person are decided one after the
        other (on PostgreSQL a later withdrawal cannot commit between an older grant's
        check and its write). None: the id was received before."""
        consents = Consents(scope)
        erased: list[str] = []
        with scope.db.begin() as conn:
            store.locked_record(conn, event["customer_id"])
            if self._known(conn, manager, event["event_id"]) is not None:
                return None
            outcome = event["action"]
            if self._superseded(conn, manager, event):
                outcome = "superseded"
                detail = {"action": "manager_event_superseded", "manager": manager}
                detail["event_id"] = event["event_id"]
                scope.ledger.append(
                    conn,
                    scope.entry(
                        "consent",
                        customer_id=event["customer_id"],
                        purpose=event["purpose"],
                        detail=detail,
                    ),
                )
            elif outcome == "grant":
                consents.grant_in(
                    conn,
                    event["customer_id"],
                    event["purpose"],
                    "consent_manager",
                    f"{manager} event {event['event_id']}",
                    manager=manager,
                    artefact_id=event["artefact_id"],
                )
            else:
                erased = consents.withdraw_in(
                    conn, event["customer_id"], event["purpose"], "consent_manager", now
                )
            conn.execute(
                consent_manager_events.insert().values(
                    manager=manager,
                    event_id=event["event_id"],
                    body_sha256=digest,
                    received_at=now,
                    outcome=outcome,
                    customer_id=event["customer_id"],
                    purpose=event["purpose"],
                    issued_at=event["issued_at"].astimezone(UTC),
                )
            )
        return outcome, erased

    @staticmethod
    def _known(conn: sa.Connection, manager: str, event_id: str) -> Any:
        return conn.execute(
            sa.select(consent_manager_events).where(
                consent_manager_events.c.manager == manager,
                consent_manager_events.c.event_id == event_id,
            )
        ).first()

    def _seen(
        self,
        scope: Scope,
        manager: str,
        event: dict[str, Any],
        digest: str,
        admit: Callable[[], None],
    ) -> str:
        """An event id received before: the same body is answered as before; another
        body under it is a replay or a forgery, refused."""
        with reading(scope.db) as conn:
            seen = self._known(conn, manager, event["event_id"])
        if seen is None or seen.body_sha256 != digest:
            self._refused(scope, manager, "replayed_id", admit)
            raise NeedToKnowError(f"event {event['event_id']!r} was received with other content")
        return "duplicate"

    @staticmethod
    def _superseded(conn: sa.Connection, manager: str, event: dict[str, Any]) -> bool:
        """Whether a later event from this manager, or a withdrawal by any channel, has
        already decided this consent."""
        issued = event["issued_at"].astimezone(UTC)
        table = consent_manager_events.c
        newer = conn.execute(
            sa.select(sa.func.count()).where(
                table.manager == manager,
                table.customer_id == event["customer_id"],
                table.purpose == event["purpose"],
                table.outcome.in_(ACTIONS),
                table.issued_at >= issued,
            )
        ).scalar_one()
        if newer:
            return True
        if event["action"] != "grant":
            return False
        withdrawn = conn.execute(
            sa.select(sa.func.max(consents.c.withdrawn_at)).where(
                consents.c.customer_id == event["customer_id"],
                consents.c.purpose == event["purpose"],
            )
        ).scalar()
        return withdrawn is not None and stored_utc(withdrawn) >= issued  # ties: withdrawn

    @staticmethod
    def _refused(scope: Scope, manager: str, reason: str, admit: Callable[[], None]) -> None:
        admit()
        entry = scope.entry(
            "consent",
            detail={"action": "manager_event_refused", "manager": manager, "reason": reason},
        )
        scope.ledger.record(entry)


def _event(body: bytes) -> dict[str, Any]:
    """The event's fields, checked (JSON: ``FIELDS``; ``issued_at`` with its zone)."""
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("body", "consent_manager", "json") from None
    if not isinstance(event, Mapping):
        raise ValidationError("body", "consent_manager", "object", ", ".join(FIELDS))
    for name in FIELDS:
        if not isinstance(event.get(name), str) or not event[name].strip():
            raise ValidationError(name, "consent_manager", "missing", ", ".join(FIELDS))
        if len(event[name]) > MAX_FIELD:
            raise ValidationError(name, "consent_manager", "too_long", f"{MAX_FIELD} characters")
    if event["action"] not in ACTIONS:
        raise ValidationError(
            "action", "consent_manager", "unknown", unknown("action", event["action"], ACTIONS)
        )
    try:
        issued = datetime.fromisoformat(event["issued_at"].replace("Z", "+00:00"))
    except ValueError:
        issued = None
    if issued is None or issued.tzinfo is None:
        raise ValidationError("issued_at", "consent_manager", "time", "RFC 3339 with its zone")
    return {**event, "issued_at": issued}
