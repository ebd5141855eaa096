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
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from needtoknow.errors import AuthenticationError, NeedToKnowError, ValidationError
from needtoknow.guards.names import unknown
from needtoknow.records.consents import Consents
from needtoknow.records.scope import Scope
from needtoknow.storage.schema import consent_manager_events

FRESHNESS = timedelta(minutes=10)
ACTIONS = ("grant", "withdraw")
FIELDS = ("event_id", "action", "customer_id", "purpose", "artefact_id", "issued_at")
MAX_BODY = 16_384


class ConsentManagerEvents:
    def __init__(self, scope: Scope, consents: Consents) -> None:
        self.scope = scope
        self.consents = consents

    def receive(self, manager: str, body: bytes, signature: str) -> dict[str, Any]:
        """Apply one signed event; returns what was done (``duplicate``: seen before)."""
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
            self._refused(manager, "bad_signature")
            raise AuthenticationError("malformed", "consent manager signature") from None
        event = _event(body)
        digest = hashlib.sha256(body).hexdigest()
        with self.scope.db.begin() as conn:
            seen = conn.execute(
                sa.select(consent_manager_events).where(
                    consent_manager_events.c.manager == manager,
                    consent_manager_events.c.event_id == event["event_id"],
                )
            ).first()
        if seen is not None:
            if seen.body_sha256 != digest:
                self._refused(manager, "replayed_id")
                raise NeedToKnowError(
                    f"event {event['event_id']!r} was received with other content"
                )
            return {"event_id": event["event_id"], "outcome": "duplicate"}
        now = self.scope.clock()
        if abs(now - event["issued_at"]) > FRESHNESS:
            self._refused(manager, "stale")
            raise ValidationError("issued_at", "consent_manager", "stale", f"within {FRESHNESS}")
        if event["action"] == "grant":
            self.consents.grant(
                event["customer_id"],
                event["purpose"],
                "consent_manager",
                f"{manager} event {event['event_id']}",
                manager=manager,
                artefact_id=event["artefact_id"],
            )
        else:
            self.consents.withdraw(event["customer_id"], event["purpose"], "consent_manager")
        with self.scope.db.begin() as conn:
            conn.execute(
                consent_manager_events.insert().values(
                    manager=manager,
                    event_id=event["event_id"],
                    body_sha256=digest,
                    received_at=now,
                    outcome=event["action"],
                )
            )
        return {"event_id": event["event_id"], "outcome": event["action"]}

    def _refused(self, manager: str, reason: str) -> None:
        entry = self.scope.entry(
            "consent",
            detail={"action": "manager_event_refused", "manager": manager, "reason": reason},
        )
        self.scope.ledger.record(entry)


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
