"""A parent's verifiable consent to a child's record (DPDP Act s.9(1), Rules r.10).

The parent must be an identifiable adult, shown one of two ways:

- an adult customer of ours, whose identity and age we hold already (r.10(1)(a)), with
  what shows that parent consented (``evidence``: e.g. "confirmed in their signed-in
  session", kept as a SHA-256 like any consent's evidence);
- a token from an age verifier the policy registers (a DigiLocker-type service,
  r.10(1)(b)): JSON ``{"token_id", "adult": true, "email", "issued_at"}`` signed with
  the verifier's Ed25519 key, given as ``<base64url body>.<base64url signature>``. The
  e-mail is the verified parent's — signed, so nobody can send the codes for a child's
  requests elsewhere — and is kept sealed, to reach the parent. A token vouches for one
  child: its id is accepted once per verifier.

Only the evidence is kept — the verifier's name, the token's id and its SHA-256 —
never a document. The row goes when the child's record is erased.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from needtoknow.categories import Rules
from needtoknow.crypto import envelope
from needtoknow.errors import ValidationError
from needtoknow.guards.jsontext import is_evidence
from needtoknow.guards.names import unknown
from needtoknow.records.scope import Scope
from needtoknow.storage import notes
from needtoknow.storage.database import reading
from needtoknow.storage.schema import children
from needtoknow.types import checked_customer_id

TOKEN_LIFETIME = timedelta(days=1)  # a token older than this no longer vouches for anyone
GUARDIAN_SHAPES = (
    "{customer_id, evidence} (an adult customer) or {verifier, token} (an age verifier's "
    "signed token)"
)


@dataclass(frozen=True)
class Verified:
    """A parent shown to be an adult, ready to be linked to a child's record."""

    guardian_id: str | None  # an adult customer of ours
    verifier: str | None  # or the age verifier that signed the token
    token_id: str | None
    evidence_sha256: str
    email: str | None  # how to reach a parent who is not our customer

    @property
    def who(self) -> str:
        return f"customer:{self.guardian_id}" if self.guardian_id else f"verifier:{self.verifier}"


@dataclass(frozen=True)
class Guardian:
    """Who acts for a child: an adult customer, or a parent reached at ``email``."""

    child_id: str
    guardian_id: str | None
    verifier: str | None
    email: str | None


class Guardians:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def verified(self, given: Any, rules: Rules) -> Verified:
        """The parent ``given`` describes, checked (a customer's adulthood is the
        vault's to check: it may need their date of birth); ValidationError naming
        the first thing wrong."""
        if not isinstance(given, Mapping):
            raise ValidationError("guardian", "customer", "shape", GUARDIAN_SHAPES)
        if "customer_id" in given:
            if set(given) != {"customer_id", "evidence"}:
                raise ValidationError("guardian", "customer", "shape", GUARDIAN_SHAPES)
            evidence = given["evidence"]
            if not is_evidence(evidence):
                raise ValidationError("guardian.evidence", "customer", "text", "1-1000 characters")
            guardian_id = checked_customer_id(given["customer_id"])
            digest = hashlib.sha256(evidence.encode()).hexdigest()
            return Verified(guardian_id, None, None, digest, None)
        if set(given) != {"verifier", "token"}:
            raise ValidationError("guardian", "customer", "shape", GUARDIAN_SHAPES)
        name, token = given["verifier"], given["token"]
        verifiers = self.scope.policy().age_verifiers
        if name not in verifiers:
            detail = (
                unknown("age verifier", str(name), verifiers) if verifiers else "none registered"
            )
            raise ValidationError("guardian.verifier", "customer", "unknown", detail)
        claims = _claims(token, verifiers[name].public_key)
        issued = claims["issued_at"]
        now = self.scope.clock()
        if not now - TOKEN_LIFETIME <= issued <= now + timedelta(minutes=5):
            detail = f"issued within {TOKEN_LIFETIME.days} day"
            raise ValidationError("guardian.token", "customer", "stale", detail)
        email = self.scope.categories()["email"].normalise(claims["email"], rules, "guardian.token")
        with reading(self.scope.db) as conn:
            used = conn.execute(
                sa.select(children.c.id).where(
                    children.c.verifier == name, children.c.token_id == claims["token_id"]
                )
            ).first()
        if used is not None:
            raise ValidationError("guardian.token", "customer", "used", "a token vouches once")
        digest = hashlib.sha256(token.encode()).hexdigest()
        return Verified(None, name, claims["token_id"], digest, str(email.value))

    def link(self, conn: sa.Connection, child_id: str, parent: Verified) -> None:
        """Record the parent's consent to the child's record, in the caller's
        transaction (the one storing the record), and ledger it."""
        contact = None
        if parent.email is not None:
            owner = notes.owner(children, child_id, "contact")
            contact = envelope.seal_note(self.scope.keys, owner, {"email": parent.email})
        conn.execute(
            children.insert().values(
                id=child_id,
                guardian_id=parent.guardian_id,
                verifier=parent.verifier,
                token_id=parent.token_id,
                evidence_sha256=parent.evidence_sha256,
                contact=contact,
                consented_at=self.scope.clock(),
                recorded_by=self.scope.actor,
            )
        )
        detail: dict[str, Any] = {
            "action": "parental_consent",
            "guardian": parent.who,
            "evidence_sha256": parent.evidence_sha256,
        }
        if parent.token_id:
            detail["token_id"] = parent.token_id
        entry = self.scope.entry("consent", customer_id=child_id, detail=detail)
        self.scope.ledger.append(conn, entry)

    def of(self, child_id: str) -> Guardian | None:
        """The parent linked to ``child_id``'s record, or None for anyone else."""
        with reading(self.scope.db) as conn:
            row = conn.execute(sa.select(children).where(children.c.id == child_id)).first()
        if row is None:
            return None
        email = None
        if row.contact is not None:
            owner = notes.owner(children, child_id, "contact")
            email = envelope.open_note(self.scope.keys, owner, bytes(row.contact))["email"]
        return Guardian(child_id, row.guardian_id, row.verifier, email)

    def flagged(self, customer_id: str) -> bool:
        """Whether the record was stored as a child's (they may have come of age since:
        the vault checks the date of birth)."""
        with reading(self.scope.db) as conn:
            found = conn.execute(
                sa.select(children.c.id).where(children.c.id == customer_id)
            ).first()
        return found is not None


def _claims(token: Any, public_key: bytes) -> dict[str, Any]:
    """The token's claims, once its signature checks under ``public_key``."""
    if (
        not isinstance(token, str)
        or not token.isascii()
        or token.count(".") != 1
        or len(token) > 4096
    ):
        raise ValidationError("guardian.token", "customer", "format", "<body>.<signature>")
    body_text, signature_text = token.split(".")
    try:
        body = base64.urlsafe_b64decode(body_text + "=" * (-len(body_text) % 4))
        signature = base64.urlsafe_b64decode(signature_text + "=" * (-len(signature_text) % 4))
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, body)
        claims = json.loads(body)
    except (binascii.Error, ValueError, InvalidSignature):
        raise ValidationError("guardian.token", "customer", "signature") from None
    if not isinstance(claims, dict) or claims.get("adult") is not True:
        raise ValidationError("guardian.token", "customer", "not_adult", '"adult": true')
    token_id = claims.get("token_id")
    if not isinstance(token_id, str) or not 0 < len(token_id) <= 200:
        raise ValidationError("guardian.token", "customer", "token_id", "1-200 characters")
    try:
        issued = datetime.fromisoformat(str(claims.get("issued_at")).replace("Z", "+00:00"))
    except ValueError:
        issued = None
    if issued is None or issued.tzinfo is None:
        raise ValidationError("guardian.token", "customer", "issued_at", "RFC 3339 with zone")
    if not isinstance(claims.get("email"), str):
        raise ValidationError("guardian.token", "customer", "email", "the parent's e-mail")
    return {"token_id": token_id, "issued_at": issued, "email": claims["email"]}
