"""Legal disclosures: requested, approved by a second person, released as a package.

The seed policy discloses PII outside service work only to conform to legal process,
for investigations under the IT Act 2000, to defend rights, or to enforce terms. Each
such disclosure is a request that records the authority, the legal basis (e.g. IT Act
2000 s.69, BNSS 2023 s.94), the order's reference, the scope (customers, categories,
period) and the case owner. Nothing is released until a *different* person approves
(four eyes); a rejection needs a reason. Release reads every customer through the
normal read path — the policy decides, every read is a ledger entry — and produces a
JSON package with a manifest of hashes, optionally encrypted to the requester's X25519
public key with HPKE (RFC 9180). A period that ends before a customer joined keeps that
customer out of the read, and values corrected since the period are flagged as such.
Each customer disclosed is owed a notice, held while a non-disclosure order runs.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from needtoknow.errors import NeedToKnowError, NotFound, PolicyDenied, ValidationError
from needtoknow.guards.actors import checked_actor, same_person
from needtoknow.ledger import Entry
from needtoknow.moments import utc_text
from needtoknow.records.scope import Reader, Scope
from needtoknow.storage import store
from needtoknow.storage.database import reading
from needtoknow.storage.schema import customer_notices, disclosure_requests
from needtoknow.types import Context, Disclosure, checked_customer_id

HPKE_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
HPKE_NAME = "DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM"


@dataclass(frozen=True)
class Request:
    id: str
    authority: str
    purpose: str
    legal_basis: str
    reference: str
    customer_ids: tuple[str, ...]
    categories: tuple[str, ...]
    period: tuple[str | None, str | None]
    case_owner: str
    status: str
    requested_by: str
    decided_by: str | None = None
    reason: str | None = None
    non_disclosure_until: date | None = None
    package_sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "authority": self.authority,
            "purpose": self.purpose,
            "legal_basis": self.legal_basis,
            "reference": self.reference,
            "customer_ids": list(self.customer_ids),
            "categories": list(self.categories),
            "period": {"from": self.period[0], "to": self.period[1]},
            "case_owner": self.case_owner,
            "status": self.status,
            "requested_by": self.requested_by,
            "decided_by": self.decided_by,
            "reason": self.reason,
            "non_disclosure_until": (
                self.non_disclosure_until.isoformat() if self.non_disclosure_until else None
            ),
            "package_sha256": self.package_sha256,
        }


@dataclass(frozen=True)
class Package:
    """What leaves: the package bytes (encrypted when a key was given) and its manifest."""

    payload: bytes
    manifest: dict[str, Any]


class Disclosures:
    def __init__(self, scope: Scope, reader: Reader) -> None:
        """``reader`` is the vault's read path: a release reads through it like any read."""
        self.scope = scope
        self.reader = reader

    # -- the workflow --------------------------------------------------------------------

    def request(
        self,
        *,
        authority: str,
        purpose: str,
        legal_basis: str,
        reference: str,
        customer_ids: Iterable[str],
        categories: Iterable[str],
        case_owner: str,
        period: tuple[date | None, date | None] = (None, None),
        non_disclosure_until: date | None = None,
    ) -> Request:
        policy = self.scope.policy()
        recipient = policy.recipients.get(authority)
        if recipient is None or recipient.kind != "authority":
            raise ValidationError("authority", "disclosure", "not_an_authority")
        if purpose not in policy.purposes or purpose in policy.prohibited_purposes:
            raise ValidationError("purpose", "disclosure", "unknown_purpose")
        checked_actor(self.scope.actor)  # who asks must be told apart from who approves
        checked_actor(case_owner, "case_owner")
        for name, value in (("legal_basis", legal_basis), ("reference", reference)):
            if not value.strip():
                raise ValidationError(name, "disclosure", "empty")
        ids = tuple(dict.fromkeys(checked_customer_id(cid) for cid in customer_ids))
        wanted = tuple(dict.fromkeys(categories))
        if not ids or not wanted:
            raise ValidationError("scope", "disclosure", "empty")
        unknown = [c for c in wanted if c not in self.scope.categories()]
        if unknown:
            raise ValidationError("categories", "disclosure", "unknown_category")
        if period[0] and period[1] and period[1] < period[0]:
            raise ValidationError("period", "disclosure", "ends_before_start")
        made = Request(
            id=str(uuid.uuid4()),
            authority=authority,
            purpose=purpose,
            legal_basis=legal_basis.strip(),
            reference=reference.strip(),
            customer_ids=ids,
            categories=wanted,
            period=(_iso(period[0]), _iso(period[1])),
            case_owner=case_owner.strip(),
            status="requested",
            requested_by=self.scope.actor,
            non_disclosure_until=non_disclosure_until,
        )
        now = self.scope.clock()
        with self.scope.db.begin() as conn:
            conn.execute(
                disclosure_requests.insert().values(
                    id=made.id,
                    authority=authority,
                    purpose=purpose,
                    legal_basis=made.legal_basis,
                    reference=made.reference,
                    case_owner=made.case_owner,
                    status=made.status,
                    scope=json.dumps(
                        {"customer_ids": ids, "categories": wanted, "period": list(made.period)}
                    ),
                    requested_by=made.requested_by,
                    requested_at=now,
                    non_disclosure_until=non_disclosure_until,
                )
            )
            self._ledger(conn, made, "request", now, made.customer_ids)
        return made

    def approve(self, request_id: str) -> Request:
        """Approve as the acting user, who must not be the one who requested it."""
        return self._decide(request_id, "approved", None)

    def reject(self, request_id: str, reason: str) -> Request:
        if not reason.strip():
            raise ValidationError("reason", "disclosure", "empty")
        return self._decide(request_id, "rejected", reason.strip())

    def release(self, request_id: str, public_key: bytes | None = None) -> Package:
        """Read the approved scope through the policy and build the package.

        The request is claimed first (approved → releasing), so two releases cannot both
        run. The policy must allow every requested category to the authority for the
        purpose, or nothing is read and the request stays approved. Every customer is
        read with the request's legal reference and id, so each read is an ordinary
        ledger entry; unknown or erased customers are listed as not found. This is the
        only way an authority is read (``access.decide`` denies it any other read).
        """
        recipient_key = _x25519(public_key) if public_key is not None else None
        current = self._claim(request_id)
        try:
            in_period, disclosed = self._read(current)
        except BaseException:
            self._set_status(current.id, "approved", expected="releasing")
            raise
        now = self.scope.clock()
        package = self._package(current, in_period, disclosed, recipient_key, now)
        self._record_release(current, in_period, {d.customer_id for d in disclosed}, package, now)
        return package

    def _read(self, request: Request) -> tuple[list[str], list[Disclosure]]:
        """The customers in the request's period, and what the policy released of them."""
        context = Context(
            now=self.scope.clock(),
            legal_reference=request.reference,
            case_id=request.id,
            request_id=self.scope.request_id,
            disclosure_request=request.id,  # the one way an authority is read
        )
        decision = self.scope.engine().decide(
            request.authority, request.purpose, request.categories, context
        )
        if decision.denied:
            raise PolicyDenied(request.authority, request.purpose, dict(decision.denied))
        in_period = self._in_period(request)
        disclosed = self.reader.get_many(
            in_period,
            recipient=request.authority,
            purpose=request.purpose,
            categories=request.categories,
            context=context,
        )
        return in_period, disclosed

    def _package(
        self,
        request: Request,
        in_period: list[str],
        disclosed: list[Disclosure],
        recipient_key: X25519PublicKey | None,
        now: datetime,
    ) -> Package:
        """The package bytes (HPKE-sealed to the requester's key when given) and the
        manifest whose hashes the ledger keeps."""
        found = {d.customer_id for d in disclosed}
        corrected_after = self._corrected_after_period(request, found)
        body = json.dumps(
            {
                # Random, so the package's hash (which the ledger keeps) cannot be matched
                # against guessed values of the PII inside.
                "nonce": secrets.token_hex(32),
                "request": request.to_json(),
                "customers": [
                    {
                        "customer_id": d.customer_id,
                        "fields": d.values,
                        "corrected_after_period": d.customer_id in corrected_after,
                    }
                    for d in disclosed
                ],
                "outside_period": [cid for cid in request.customer_ids if cid not in in_period],
                "not_found": [cid for cid in in_period if cid not in found],
            },
            sort_keys=True,
            ensure_ascii=False,
        ).encode()
        info = f"needtoknow disclosure {request.id}"
        payload = (
            body
            if recipient_key is None
            else HPKE_SUITE.encrypt(body, recipient_key, info=info.encode())
        )
        manifest = {
            "request_id": request.id,
            "reference": request.reference,
            "authority": request.authority,
            "released_at": utc_text(now),
            "customers": sorted(found),
            "package_sha256": hashlib.sha256(body).hexdigest(),
            "payload_sha256": hashlib.sha256(payload).hexdigest(),
            "encryption": None if recipient_key is None else {"hpke": HPKE_NAME, "info": info},
        }
        return Package(payload, manifest)

    def _record_release(
        self,
        request: Request,
        in_period: list[str],
        found: set[str],
        package: Package,
        now: datetime,
    ) -> None:
        """Mark the request released, queue (or hold) each customer's notice, and ledger
        the outcome per customer, in one transaction."""
        digest = package.manifest["package_sha256"]
        hold = request.non_disclosure_until
        with self.scope.db.begin() as conn:
            conn.execute(
                disclosure_requests.update()
                .where(disclosure_requests.c.id == request.id)
                .values(status="released", released_at=now, package_sha256=digest)
            )
            if found:
                conn.execute(
                    customer_notices.insert(),
                    [
                        {
                            "customer_id": cid,
                            "kind": "disclosure",
                            "subject_id": request.id,
                            "hold_until": hold,
                            "status": "held" if hold else "due",
                            "created_at": now,
                            "due_at": None if hold else now,
                        }
                        for cid in sorted(found)
                    ],
                )
            results: dict[str, list[str]] = {}
            for cid in request.customer_ids:
                result = (
                    "released"
                    if cid in found
                    else "not_found"
                    if cid in in_period
                    else "outside_period"
                )
                results.setdefault(result, []).append(cid)
            for result, ids in results.items():
                self._ledger(
                    conn,
                    request,
                    "release",
                    now,
                    ids,
                    result=result,
                    package_sha256=digest,
                    non_disclosure_until=_iso(hold),
                )

    def _in_period(self, request: Request) -> list[str]:
        """The requested customers whose record existed during the request's period (days
        in UTC). Unknown customers stay in, to be recorded as not found; a record created
        after the period is never read."""
        end = _period_end(request)
        if end is None:
            return list(request.customer_ids)
        with reading(self.scope.db) as conn:
            lives = store.lifetimes(conn, request.customer_ids)
        return [cid for cid in request.customer_ids if cid not in lives or lives[cid][0] < end]

    def _corrected_after_period(self, request: Request, disclosed: set[str]) -> set[str]:
        """Disclosed customers whose record changed after the period ended (read after the
        values, so a correction made meanwhile counts): today's values may not be the
        ones the period saw."""
        end = _period_end(request)
        if end is None:
            return set()
        with reading(self.scope.db) as conn:
            lives = store.lifetimes(conn, disclosed)
        return {cid for cid, (_, updated) in lives.items() if updated >= end}

    def _claim(self, request_id: str) -> Request:
        current = self.get(request_id)
        if not self._set_status(request_id, "releasing", expected="approved"):
            raise NeedToKnowError(f"disclosure {request_id} is {current.status}, not approved")
        return current

    def _set_status(self, request_id: str, status: str, expected: str) -> bool:
        with self.scope.db.begin() as conn:
            changed = conn.execute(
                disclosure_requests.update()
                .where(
                    disclosure_requests.c.id == request_id,
                    disclosure_requests.c.status == expected,
                )
                .values(status=status)
            ).rowcount
        return bool(changed == 1)

    def release_due_notices(self) -> int:
        """Make held notices due once their non-disclosure order has expired."""
        now = self.scope.clock()
        with self.scope.db.begin() as conn:
            rows = conn.execute(
                sa.select(customer_notices).where(
                    customer_notices.c.status == "held", customer_notices.c.hold_until < now.date()
                )
            ).all()
            for row in rows:
                conn.execute(
                    customer_notices.update()
                    .where(customer_notices.c.id == row.id)
                    .values(status="due", due_at=now)
                )
                self.scope.ledger.append(
                    conn,
                    Entry(
                        kind="notice",
                        time=now,
                        actor=self.scope.actor,
                        customer_id=row.customer_id,
                        detail={
                            "notice": row.kind,
                            "subject": row.subject_id,
                            "held_until": row.hold_until.isoformat(),
                        },
                    ),
                )
        return len(rows)

    # -- reading -------------------------------------------------------------------------

    def get(self, request_id: str) -> Request:
        with reading(self.scope.db) as conn:
            row = conn.execute(
                sa.select(disclosure_requests).where(disclosure_requests.c.id == request_id)
            ).first()
        if row is None:
            raise NotFound(f"no disclosure request {request_id!r}")
        return _request(row)

    def requests(self) -> list[Request]:
        with reading(self.scope.db) as conn:
            rows = conn.execute(
                sa.select(disclosure_requests).order_by(disclosure_requests.c.requested_at)
            )
            return [_request(row) for row in rows]

    def under_order(self) -> dict[str, str]:
        """Requests a customer may not learn of yet, whatever their status (requested,
        approved, rejected, released): those whose non-disclosure order runs today
        (UTC, last day included) → the authority that asked. Notices held for released
        ones become due here too."""
        self.release_due_notices()
        today = self.scope.clock().date()
        with reading(self.scope.db) as conn:
            rows = conn.execute(
                sa.select(disclosure_requests.c.id, disclosure_requests.c.authority).where(
                    disclosure_requests.c.non_disclosure_until >= today
                )
            )
            return {row.id: row.authority for row in rows}

    def notices(self, customer_id: str | None = None) -> list[dict[str, Any]]:
        query = sa.select(customer_notices).order_by(customer_notices.c.id)
        if customer_id:
            query = query.where(customer_notices.c.customer_id == customer_id)
        with reading(self.scope.db) as conn:
            return [
                {
                    "customer_id": r.customer_id,
                    "kind": r.kind,
                    "subject": r.subject_id,
                    "status": r.status,
                    "hold_until": r.hold_until.isoformat() if r.hold_until else None,
                }
                for r in conn.execute(query)
            ]

    # -- internals -----------------------------------------------------------------------

    def _decide(self, request_id: str, status: str, reason: str | None) -> Request:
        """Four eyes: the decider is neither the requester nor the case owner, as their
        names read (see :mod:`needtoknow.guards.actors`)."""
        checked_actor(self.scope.actor)
        now = self.scope.clock()
        with self.scope.db.begin() as conn:
            row = conn.execute(
                sa.select(disclosure_requests)
                .where(disclosure_requests.c.id == request_id)
                .with_for_update()
            ).first()
            if row is None:
                raise NotFound(f"no disclosure request {request_id!r}")
            current = _request(row)
            if current.status != "requested":
                raise NeedToKnowError(f"disclosure {request_id} is already {current.status}")
            if any(
                same_person(who, self.scope.actor)
                for who in (current.requested_by, current.case_owner)
            ):
                raise PolicyDenied(
                    self.scope.actor,
                    current.purpose,
                    {
                        "*": "four eyes: the requester or case owner cannot approve or reject "
                        "their own request"
                    },
                )
            conn.execute(
                disclosure_requests.update()
                .where(disclosure_requests.c.id == request_id)
                .values(status=status, decided_by=self.scope.actor, decided_at=now, reason=reason)
            )
            decided = _request(
                conn.execute(
                    sa.select(disclosure_requests).where(disclosure_requests.c.id == request_id)
                ).one()
            )
            action = {"approved": "approve", "rejected": "reject"}[status]
            self._ledger(conn, decided, action, now, decided.customer_ids, reason=reason)
        return decided

    def _ledger(
        self,
        conn: sa.Connection,
        request: Request,
        action: str,
        now: datetime,
        customer_ids: Iterable[str],
        **detail: Any,
    ) -> None:
        """One entry per customer of the request's scope (see Entry.for_each)."""
        purpose = self.scope.policy().purposes.get(request.purpose)
        self.scope.ledger.append_each(
            conn,
            Entry(
                kind="disclosure",
                time=now,
                actor=self.scope.actor,
                recipient=request.authority,
                purpose=request.purpose,
                legal_basis=purpose.legal_basis if purpose else None,
                legal_reference=request.reference,
                case_id=request.id,
                categories=request.categories,
                policy_version=self.scope.policy().version,
                request_id=self.scope.request_id,
                detail={
                    "action": action,
                    "statute": request.legal_basis,
                    "case_owner": request.case_owner,
                    **{k: v for k, v in detail.items() if v is not None},
                },
            ),
            customer_ids,
        )


def _period_end(request: Request) -> datetime | None:
    """The first instant after the request's period (its last day ends at UTC midnight)."""
    if request.period[1] is None:
        return None
    return datetime.combine(
        date.fromisoformat(request.period[1]) + timedelta(days=1), time(), tzinfo=UTC
    )


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _x25519(public_key: bytes) -> X25519PublicKey:
    try:
        return X25519PublicKey.from_public_bytes(public_key)
    except ValueError:
        raise ValidationError("public_key", "disclosure", "x25519_raw_32_bytes") from None


def seal_to(public_key: bytes, body: bytes, info: str) -> tuple[bytes, dict[str, str]]:
    """``body`` sealed with HPKE to a raw 32-byte X25519 public key, and how (for a
    manifest): a disclosure package's form, used also for a customer's copy."""
    sealed = HPKE_SUITE.encrypt(body, _x25519(public_key), info=info.encode())
    return sealed, {"hpke": HPKE_NAME, "info": info}


def _request(row: Any) -> Request:
    scope = json.loads(row.scope)
    return Request(
        id=row.id,
        authority=row.authority,
        purpose=row.purpose,
        legal_basis=row.legal_basis,
        reference=row.reference,
        customer_ids=tuple(scope["customer_ids"]),
        categories=tuple(scope["categories"]),
        period=(scope["period"][0], scope["period"][1]),
        case_owner=row.case_owner,
        status=row.status,
        requested_by=row.requested_by,
        decided_by=row.decided_by,
        reason=row.reason,
        non_disclosure_until=row.non_disclosure_until,
        package_sha256=row.package_sha256,
    )
