"""API keys: one credential per calling service, bound to one recipient of the policy.

The recipient a request acts for comes from its key, never from the request, so a
billing service cannot ask as the legal team. A key is shown once, when it is created:
``ntk_<id>_<secret>``. Only SHA-256 of the secret is stored — the secret is 256 random
bits, so a stolen table yields nothing to guess from — and the id is public: listings,
logs and ledger entries name keys by it (actor ``api:<id>``).

Scopes limit which *kinds* of call a key may make; what it may read is still decided by
the policy, per purpose, for its recipient. Creating and revoking a key, and every
refused use of a known key (expired, revoked, wrong secret), are ledger entries.

Each process keeps the keys it has looked up, trusted only while the registry version
is the one they were read under: a revocation bumps it in its transaction, so every
process looks the key up again before its next request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

import sqlalchemy as sa

from needtoknow.errors import AuthenticationError, NotFound, ScopeDenied, ValidationError
from needtoknow.ledger import Entry
from needtoknow.moments import utc_text
from needtoknow.records.agreements import AgreementRegistry, bump_version
from needtoknow.records.scope import Scope
from needtoknow.storage.database import reading, stored_utc
from needtoknow.storage.fastpath import prepared
from needtoknow.storage.schema import api_keys

SCOPES = {
    "customers:read": "read customers through the policy: get, lookup",
    "customers:write": "create and correct customers",
    "customers:erase": "erase customers",
    "policy:read": "decide and explain for the key's recipient; the active version",
    "ledger:read": "signed tree heads, consistency proofs, any customer's history",
    "agreements:manage": "list, create, amend, revoke and assign agreements",
    "disclosures:request": "file and list legal disclosure requests",
    "disclosures:decide": "approve or reject disclosure requests (four eyes)",
    "disclosures:release": "release approved disclosure requests",
    "events:write": "send usage events (pseudonymised and scrubbed of PII on the way in)",
    "reports:run": "run differentially private reports, charged to the key's recipient",
    "consents:manage": "record, withdraw and list customers' consents",
    "accounts:manage": "close and reopen accounts, set their services, place and release holds",
}
DEFAULT_SCOPES = ("customers:read", "policy:read")
# Scopes that change who may see what, or audit everyone: for the company's own teams,
# checked when a key is created and again at every use (see ApiKeys.permits).
STAFF_SCOPES = frozenset(
    {
        # Writes change the address every later notice, one-time code and disclosure goes
        # to: a recipient that could correct a customer's e-mail could take over the
        # account. Correcting is the company's duty to the customer (DPDP s.12), done by
        # its own staff; a contractor — even a collection agency whose customer-scoped
        # agreement assigns it the customer — passes new details on to them. So no
        # outside recipient writes at all, which is narrower than "only its assigned
        # customers" and needs no per-customer check on the write path.
        "customers:write",
        "customers:erase",
        "ledger:read",
        "agreements:manage",
        "disclosures:request",
        "disclosures:decide",
        "disclosures:release",
        "events:write",  # usage data comes from the company's own systems only
        "consents:manage",  # a recipient recording consents could grant itself purposes
        "accounts:manage",  # closure and holds decide when data is erased
    }
)
PREFIX = "ntk_"


@dataclass(frozen=True)
class ApiKey:
    id: str
    recipient: str
    scopes: frozenset[str]
    label: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @property
    def actor(self) -> str:
        """How ledger entries name whoever used this key."""
        return f"api:{self.id}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "recipient": self.recipient,
            "scopes": sorted(self.scopes),
            "label": self.label,
            "created_by": self.created_by,
            "created_at": utc_text(self.created_at),
            "expires_at": utc_text(self.expires_at),
            "revoked_at": utc_text(self.revoked_at),
        }


@dataclass(frozen=True)
class Refusal:
    """Why a token was not accepted, and the key it named if we know it."""

    reason: str
    key: ApiKey | None = None


@dataclass(frozen=True)
class IssuedKey:
    """A new key and its token: the only time the token exists outside its holder."""

    key: ApiKey
    token: str


class ApiKeys:
    """The key registry of one vault."""

    def __init__(self, scope: Scope, registry: AgreementRegistry) -> None:
        self.scope = scope
        self.registry = registry
        # key id -> (registry version, the secret's SHA-256, the key): known keys only, so
        # a flood of made-up ids grows nothing; emptied when it reaches CACHED_KEYS. The
        # key itself is kept, not its row: building it took a third of the check.
        self._cache: dict[str, tuple[int, tuple[bytes, ApiKey]]] = {}
        self._lookup = prepared(
            "api_key",
            scope.db.dialect,
            lambda: sa.select(*api_keys.columns).where(api_keys.c.id == sa.bindparam("id")),
        )

    def create(
        self,
        recipient: str,
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
        expires_at: datetime | None = None,
        label: str = "",
    ) -> IssuedKey:
        """A new key for ``recipient`` (a recipient the policy names)."""
        recipients = self.scope.policy().recipients
        if recipient not in recipients:
            raise ValidationError("recipient", "api_key", "unknown_recipient")
        if recipients[recipient].kind == "data_principal":
            # It reads any customer's whole record "as that customer": only a customer's
            # own verified session may act as it (rights.sessions), never a key.
            raise ValidationError("recipient", "api_key", "data_principal_signs_in_with_codes")
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise ValidationError("scopes", "api_key", "unknown_scope", ", ".join(unknown))
        if not self._staff(recipient):
            staff_only = sorted(set(scopes) & STAFF_SCOPES)
            if staff_only:
                # A contractor that could manage agreements would widen its own access;
                # an authority's key holder could release to itself.
                raise ValidationError("scopes", "api_key", "staff_only", ", ".join(staff_only))
        now = self.scope.clock()
        if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
            raise ValidationError("expires_at", "api_key", "not_in_future")
        if expires_at is not None:
            expires_at = expires_at.astimezone(UTC)  # SQLite keeps no offset
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        key = ApiKey(
            id=key_id,
            recipient=recipient,
            scopes=frozenset(scopes),
            label=label.strip()[:200],
            created_by=self.scope.actor,
            created_at=now,
            expires_at=expires_at,
            revoked_at=None,
        )
        with self.scope.db.begin() as conn:
            conn.execute(
                api_keys.insert().values(
                    id=key_id,
                    recipient=recipient,
                    secret_sha256=_digest(secret),
                    scopes=" ".join(sorted(key.scopes)),
                    label=key.label,
                    created_by=key.created_by,
                    created_at=now,
                    expires_at=expires_at,
                )
            )
            self.scope.ledger.append(conn, self._entry(key, "create", now))
        return IssuedKey(key, f"{PREFIX}{key_id}_{secret}")

    def revoke(self, key_id: str) -> ApiKey:
        """Stop a key at once, in every process (see the module's docstring)."""
        now = self.scope.clock()
        with self.scope.db.begin() as conn:
            changed = conn.execute(
                api_keys.update()
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now)
            ).rowcount
            row = conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).first()
            if row is None:
                raise NotFound(f"no API key {key_id!r}")
            key = _key(row._mapping)
            if changed:
                bump_version(conn)  # every process's cached copy of the key is stale
                self.scope.ledger.append(conn, self._entry(key, "revoke", now))
        return key

    def listing(self) -> list[ApiKey]:
        with reading(self.scope.db) as conn:
            rows = conn.execute(sa.select(api_keys).order_by(api_keys.c.created_at))
            return [_key(row._mapping) for row in rows]

    def authenticate(self, token: str | None) -> ApiKey:
        """The live key ``token`` belongs to, or AuthenticationError with the reason
        (recorded first when the key is one we know; see :meth:`refuse`)."""
        checked = self.check(token)
        if isinstance(checked, Refusal):
            self.refuse(checked)
        return checked

    def check(self, token: str | None) -> ApiKey | Refusal:
        """:meth:`authenticate` without its side effect: a read, no write, so a server
        can run it on its event loop and hand only refusals to a thread."""
        if not token:
            return Refusal("missing")
        key_id, _, secret = token.removeprefix(PREFIX).partition("_")
        if not token.startswith(PREFIX) or len(key_id) != 16 or not secret:
            return Refusal("malformed")
        stored = self._stored(key_id)
        if stored is None:
            return Refusal("unknown")
        secret_sha256, key = stored
        if not hmac.compare_digest(secret_sha256, _digest(secret)):
            return Refusal("unknown", key)
        if key.revoked_at is not None:
            return Refusal("revoked", key)
        if key.expires_at is not None and key.expires_at <= self.scope.clock():
            return Refusal("expired", key)
        return key

    def _stored(self, key_id: str) -> tuple[bytes, ApiKey] | None:
        """The key's secret digest and the key, from this process's cache while the
        registry version holds."""
        version = self.registry.version()
        cached = self._cache.get(key_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        with self.scope.connections.snapshot() as cursor:
            row = self._lookup.run(cursor, {"id": key_id}).fetchone()
        if row is None:
            return None
        if len(self._cache) >= CACHED_KEYS:
            self._cache.clear()
        columns = dict(zip(_COLUMNS, row, strict=True))
        stored = bytes(columns["secret_sha256"]), _key(columns)
        self._cache[key_id] = (version, stored)
        return stored

    def refuse(self, refusal: Refusal) -> NoReturn:
        """Raise AuthenticationError; first ledger the refusal of a key we know (expired,
        revoked, wrong secret): an attempt to reach data with a real credential. Unknown
        and malformed tokens are not ledgered, so noise cannot flood the ledger."""
        if refusal.key is not None:
            # A wrong secret is someone else using the key's id: not the key's holder.
            actor = "api:unauthenticated" if refusal.reason == "unknown" else refusal.key.actor
            entry = self._entry(
                refusal.key, "refused", self.scope.clock(), actor=actor, reason=refusal.reason
            )
            self.scope.ledger.record(entry)
        raise AuthenticationError(refusal.reason)

    def permits(self, key: ApiKey, scope: str) -> bool:
        """Whether ``key`` may make a call needing ``scope``: it carries the scope and, for
        a staff scope, its recipient is one of the company's own teams under the active
        policy. Checked at every use, not only at creation: a key issued before a scope
        became staff-only, or whose recipient's kind has since changed, loses it."""
        return scope in key.scopes and (scope not in STAFF_SCOPES or self._staff(key.recipient))

    def authorise(self, key: ApiKey, scope: str) -> None:
        """Raise ScopeDenied (and ledger the refusal) unless :meth:`permits`."""
        if not self.permits(key, scope):
            staff_only = scope in key.scopes  # carried, but its recipient is not staff
            reason = f"staff scope {scope}" if staff_only else f"scope {scope}"
            self.scope.ledger.record(self._entry(key, "refused", self.scope.clock(), reason=reason))
            raise ScopeDenied(key.id, scope, staff_only)

    def _staff(self, recipient: str) -> bool:
        known = self.scope.policy().recipients.get(recipient)
        return known is not None and known.kind == "internal_team"

    def _entry(
        self, key: ApiKey, action: str, now: datetime, actor: str | None = None, **detail: str
    ) -> Entry:
        return Entry(
            kind="api_key",
            time=now,
            actor=actor or (self.scope.actor if action != "refused" else key.actor),
            recipient=key.recipient,
            decision="deny" if action == "refused" else None,
            request_id=self.scope.request_id,
            detail={"action": action, "key": key.id, "scopes": sorted(key.scopes), **detail},
        )


_COLUMNS = tuple(column.name for column in api_keys.columns)
CACHED_KEYS = 10_000


def _key(row: Mapping[Any, Any]) -> ApiKey:
    """A key from a row's columns (from Core, or from the fast path, where SQLite's
    driver hands times back as text)."""
    return ApiKey(
        id=row["id"],
        recipient=row["recipient"],
        scopes=frozenset(row["scopes"].split()),
        label=row["label"],
        created_by=row["created_by"],
        created_at=_when(row["created_at"]),
        expires_at=_maybe(row["expires_at"]),
        revoked_at=_maybe(row["revoked_at"]),
    )


def _when(value: datetime | str) -> datetime:
    return stored_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def _maybe(value: datetime | str | None) -> datetime | None:
    return None if value is None else _when(value)


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()
