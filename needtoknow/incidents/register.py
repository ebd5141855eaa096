"""The incident register: open an incident when it is noticed (its clocks start then),
scope it from evidence — what a key, a recipient or an actor actually received in a
window, by the ledger, or everyone holding a leaked category — as many times as the
investigation needs (each scope a new version; the affected set only grows), and
close it. Every step is a ledger entry; the summary is sealed like a customer's note.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from needtoknow.crypto import envelope
from needtoknow.errors import NeedToKnowError, NotFound, ValidationError
from needtoknow.guards.names import unknown
from needtoknow.incidents import notices, reports
from needtoknow.incidents.kinds import BOARD_REPORT, CERT_IN, KINDS
from needtoknow.ledger.ledger import CLOCK_SKEW
from needtoknow.moments import india, utc_text
from needtoknow.storage import notes, store
from needtoknow.storage.database import reading, stored_utc
from needtoknow.storage.schema import (
    incident_customers,
    incident_scopes,
    incidents,
    notifications,
)
from needtoknow.vault import Vault

# Ledger entries by which a recipient received customers' data (allowed ones only; a
# disclosure's release is recorded as such reads).
RECEIPTS = frozenset({"read", "find"})
MAX_SUMMARY = 5_000
NOTICE_PREFIX = "incident:"  # the outbox's key for an incident's notices


@dataclass(frozen=True)
class Incident:
    id: str
    kind: str
    noticed_at: datetime
    opened_at: datetime
    opened_by: str
    status: str  # open, closed
    closed_at: datetime | None
    closed_by: str | None
    scope_version: int
    customers: int
    categories: tuple[str, ...]

    def deadlines(self) -> dict[str, datetime]:
        """When each report is due: CERT-In six hours from noticing; the Board told
        without delay (due at once) and its detailed report within 72 hours."""
        return {
            "cert_in": self.noticed_at + CERT_IN,
            "board_intimation": self.noticed_at,
            "board_report": self.noticed_at + BOARD_REPORT,
        }

    def to_json(self, now: datetime) -> dict[str, Any]:
        ist = india()

        def clock(due: datetime) -> dict[str, Any]:
            return {
                "due": utc_text(due),
                "due_ist": due.astimezone(ist).isoformat(timespec="seconds"),
                "seconds_left": int((due - now).total_seconds()),
                "overdue": self.status == "open" and due < now,
            }

        return {
            "incident_id": self.id,
            "kind": self.kind,
            "description": KINDS[self.kind],
            "status": self.status,
            "noticed_at": utc_text(self.noticed_at),
            "opened_at": utc_text(self.opened_at),
            "opened_by": self.opened_by,
            "closed_at": utc_text(self.closed_at),
            "closed_by": self.closed_by,
            "deadlines": {name: clock(due) for name, due in self.deadlines().items()},
            "scope": {
                "version": self.scope_version,
                "customers": self.customers,
                "categories": list(self.categories),
            },
        }


@dataclass(frozen=True)
class Scoped:
    """What one scoping found: the new version, customers it added, and the totals."""

    incident_id: str
    version: int
    basis: dict[str, Any]
    found: int
    added: int
    customers: int
    categories: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident_id,
            "version": self.version,
            "basis": self.basis,
            "found": self.found,
            "added": self.added,
            "customers": self.customers,
            "categories": list(self.categories),
        }


class Incidents:
    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self._scope = vault.scope

    def open(self, kind: str, noticed_at: datetime, summary: str) -> Incident:
        """Open an incident noticed at ``noticed_at`` (its clocks run from then)."""
        if kind not in KINDS:
            raise ValidationError("kind", "incident", "unknown", unknown("kind", kind, KINDS))
        now = self._scope.clock()
        if noticed_at.tzinfo is None:
            raise ValidationError("noticed_at", "incident", "zone", "a time with its zone")
        noticed_at = noticed_at.astimezone(UTC)  # SQLite keeps the clock face, not the zone
        if noticed_at > now + CLOCK_SKEW:
            raise ValidationError("noticed_at", "incident", "future", "not after now")
        if not summary.strip() or len(summary) > MAX_SUMMARY:
            detail = f"1 to {MAX_SUMMARY} characters"
            raise ValidationError("summary", "incident", "length", detail)
        incident_id = str(uuid.uuid4())
        sealed = envelope.seal_note(
            self._scope.keys, notes.owner(incidents, incident_id, "summary"), summary.strip()
        )
        with self._scope.db.begin() as conn:
            conn.execute(
                incidents.insert().values(
                    id=incident_id,
                    kind=kind,
                    summary=sealed,
                    noticed_at=noticed_at,
                    opened_at=now,
                    opened_by=self._scope.actor,
                    status="open",
                    scope_version=0,
                )
            )
            self._ledger(conn, incident_id, "opened", kind=kind, noticed_at=utc_text(noticed_at))
        return self.get(incident_id)

    def get(self, incident_id: str) -> Incident:
        with reading(self._scope.db) as conn:
            row = conn.execute(sa.select(incidents).where(incidents.c.id == incident_id)).first()
            if row is None:
                raise NotFound(f"no incident {incident_id!r}")
            return _incident(row, *_totals(conn, incident_id))

    def listing(self, open_only: bool = False) -> list[Incident]:
        query = sa.select(incidents).order_by(incidents.c.noticed_at.desc())
        if open_only:
            query = query.where(incidents.c.status == "open")
        with reading(self._scope.db) as conn:
            return [_incident(row, *_totals(conn, row.id)) for row in conn.execute(query)]

    def summary(self, incident_id: str) -> str:
        """What staff wrote when opening it (sealed at rest)."""
        with reading(self._scope.db) as conn:
            blob = conn.execute(
                sa.select(incidents.c.summary).where(incidents.c.id == incident_id)
            ).scalar()
        if blob is None:
            raise NotFound(f"no incident {incident_id!r}")
        owner = notes.owner(incidents, incident_id, "summary")
        return str(envelope.open_note(self._scope.keys, owner, bytes(blob)))

    def scope(
        self,
        incident_id: str,
        *,
        key: str | None = None,
        recipient: str | None = None,
        actor: str | None = None,
        category: str | None = None,
        file: Path | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Scoped:
        """Add to the incident everyone the evidence shows was touched: the customers
        (and categories) that API key, recipient or actor received in [since, until),
        by the ledger's allowed reads, lookups and disclosures; every customer holding
        ``category``, for a leak of a whole category; or the customers a leaked
        ``file`` names, found by the PII scanner and matched through the blind indexes
        (nothing decrypted). Returns the new version."""
        given = {
            "key": key,
            "recipient": recipient,
            "actor": actor,
            "category": category,
            "file": None if file is None else file.name,
        }
        chosen = {name: value for name, value in given.items() if value}
        if len(chosen) != 1:
            detail = "key, recipient, actor, category, file"
            raise ValidationError("scope", "incident", "one_of", detail)
        if since is not None and until is not None and until <= since:
            raise ValidationError("to", "incident", "before_from", "after --from")
        if self.get(incident_id).status != "open":
            raise NeedToKnowError(f"incident {incident_id} is closed")
        basis: dict[str, Any] = {
            **chosen,
            "from": utc_text(since),
            "to": utc_text(until),
        }
        if category is not None:
            if category not in self.vault.registry:
                detail = unknown("category", category, self.vault.registry)
                raise ValidationError("category", "incident", "unknown", detail)
            found = self._holding(category)
        elif file is not None:
            found = self._named_in(file)
        else:
            who = f"api:{key}" if key is not None else actor
            found = self._received(who, recipient, since, until)
        return self._grow(incident_id, basis, found)

    def customers(self, incident_id: str) -> dict[str, tuple[str, ...]]:
        """Every customer in the scope, with the categories that reached others."""
        with reading(self._scope.db) as conn:
            rows = conn.execute(
                sa.select(incident_customers.c.customer_id, incident_customers.c.categories)
                .where(incident_customers.c.incident_id == incident_id)
                .order_by(incident_customers.c.customer_id)
            )
            return {row.customer_id: tuple(json.loads(row.categories)) for row in rows}

    def notify(self, incident_id: str, notice: Any) -> dict[str, Any]:
        """Queue the notice to every person in the scope not told yet (each is told once,
        however often this runs as the scope grows); ``notice`` is the company's words
        (:data:`notices.NOTICE_FIELDS`, each in English and Hindi). The outbox sends
        them (``Vault.outbox(smtp, Incidents(vault).compose)``)."""
        words = notices.checked(notice)
        key, now = NOTICE_PREFIX + incident_id, self._scope.clock()
        if self.get(incident_id).status != "open":
            raise NeedToKnowError(f"incident {incident_id} is closed")
        with self._scope.db.begin() as conn:
            conn.execute(
                incidents.update()
                .where(incidents.c.id == incident_id)
                .values(notice=json.dumps(words, ensure_ascii=False))
            )
            told: set[str] = set(
                conn.execute(
                    sa.select(notifications.c.customer_id).where(notifications.c.version == key)
                ).scalars()
            )
            scoped: list[str] = list(
                conn.execute(
                    sa.select(incident_customers.c.customer_id).where(
                        incident_customers.c.incident_id == incident_id
                    )
                ).scalars()
            )
            new = sorted(set(scoped) - told)
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
            self._ledger(conn, incident_id, "notices_queued", queued=len(new), before=len(told))
        return {"incident_id": incident_id, "queued": len(new), "queued_before": len(told)}

    def compose(self, key: str, customer_id: str) -> tuple[str, str]:
        """One person's notice for the outbox (``key`` is ``incident:<id>``)."""
        incident_id = key.removeprefix(NOTICE_PREFIX)
        with reading(self._scope.db) as conn:
            row = conn.execute(
                sa.select(incidents.c.notice, incidents.c.noticed_at).where(
                    incidents.c.id == incident_id
                )
            ).one()
            categories: str = conn.execute(
                sa.select(incident_customers.c.categories).where(
                    incident_customers.c.incident_id == incident_id,
                    incident_customers.c.customer_id == customer_id,
                )
            ).scalar_one()
        policy = self.vault.policy
        return notices.compose(
            json.loads(row.notice),
            tuple(json.loads(categories)),
            stored_utc(row.noticed_at),
            policy.grievance_contact,
            policy.name,
        )

    def revoke(
        self, incident_id: str, *, key: str | None = None, agreement: str | None = None
    ) -> dict[str, Any]:
        """Stop a leaked API key or a breached contractor's agreement at once, in every
        process (each request and decision looks them up), on the incident's record."""
        if (key is None) == (agreement is None):
            raise ValidationError("revoke", "incident", "one_of", "key, agreement")
        if self.get(incident_id).status != "open":
            raise NeedToKnowError(f"incident {incident_id} is closed")
        if key is not None:
            done: dict[str, Any] = {"key": self.vault.api_keys.revoke(key).id}
        else:
            assert agreement is not None
            self.vault.agreements.revoke(agreement, f"incident {incident_id}")
            done = {"agreement": agreement}
        with self._scope.db.begin() as conn:
            self._ledger(conn, incident_id, "revoked", **done)
        return {"incident_id": incident_id, "revoked": done}

    def record(self, incident_id: str) -> dict[str, Any]:
        """Everything the reports draw on: the incident and its clocks, the company and
        its contact, what was observed (the sealed summary), each scope version, the
        notices' status, and what was revoked — from the register, outbox and ledger."""
        incident = self.get(incident_id)
        with reading(self._scope.db) as conn:
            scopes = [
                {
                    "version": row.version,
                    "made_at": stored_utc(row.made_at),
                    "basis": json.loads(row.basis),
                    "added": row.added,
                }
                for row in conn.execute(
                    sa.select(incident_scopes)
                    .where(incident_scopes.c.incident_id == incident_id)
                    .order_by(incident_scopes.c.version)
                )
            ]
        revoked = [
            (what, str(detail[what]))
            for detail in self._events(incident)
            if detail["event"] == "revoked"
            for what in ("key", "agreement")
            if what in detail
        ]
        policy = self.vault.policy
        return {
            "incident": incident.to_json(self._scope.clock()),
            "company": policy.name,
            "contact": policy.grievance_contact,
            "summary": self.summary(incident_id),
            "scopes": scopes,
            "notices": self.vault.outbox().status(NOTICE_PREFIX + incident_id),
            "revoked": revoked,
        }

    def report(self, incident_id: str, words: Any, directory: Path) -> dict[str, Any]:
        """Write the Board's detailed report and CERT-In's report into ``directory``,
        each as Markdown and PDF, from the record and the company's ``words``
        (:data:`reports.REPORT_FIELDS`); their SHA-256 go into the ledger."""
        import hashlib

        from needtoknow.guards.output import replacing

        checked = reports.checked(words)
        record, now = self.record(incident_id), self._scope.clock()
        made: dict[str, str] = {}
        for name, text in (
            ("board-report", reports.board_report(record, checked, now)),
            ("cert-in-report", reports.cert_in_report(record, checked, now)),
        ):
            markdown, pdf = directory / f"{name}.md", directory / f"{name}.pdf"
            with replacing(markdown) as temporary:
                temporary.write_text(text, "utf-8")
            with replacing(pdf) as temporary:
                reports.write_pdf(text, temporary)
            for path in (markdown, pdf):
                made[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
        with self._scope.db.begin() as conn:
            self._ledger(conn, incident_id, "reported", documents=made)
        return {"incident_id": incident_id, "directory": str(directory), "documents": made}

    def _events(self, incident: Incident) -> list[dict[str, Any]]:
        """The incident's own ledger entries' details, oldest first."""
        since = incident.opened_at - CLOCK_SKEW
        return [
            entry["detail"]
            for _, entry in self.vault.ledger.between(since, None)
            if entry.get("kind") == "incident"
            and entry.get("detail", {}).get("incident_id") == incident.id
        ]

    def close(self, incident_id: str) -> Incident:
        with self._scope.db.begin() as conn:
            done = conn.execute(
                incidents.update()
                .where(incidents.c.id == incident_id, incidents.c.status == "open")
                .values(status="closed", closed_at=self._scope.clock(), closed_by=self._scope.actor)
            ).rowcount
            if not done:
                self.get(incident_id)  # NotFound for an unknown id
                raise NeedToKnowError(f"incident {incident_id} is closed already")
            self._ledger(conn, incident_id, "closed")
        return self.get(incident_id)

    # -- evidence ---------------------------------------------------------------------

    def _received(
        self,
        actor: str | None,
        recipient: str | None,
        since: datetime | None,
        until: datetime | None,
    ) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for _, entry in self.vault.ledger.between(since, until):
            if not _received_data(entry):
                continue
            if actor is not None and entry.get("actor") != actor:
                continue
            if recipient is not None and entry.get("recipient") != recipient:
                continue
            customer = entry.get("customer_id")
            if isinstance(customer, str):
                found.setdefault(customer, set()).update(entry.get("categories", ()))
        return found

    def _holding(self, category: str) -> dict[str, set[str]]:
        with reading(self._scope.db) as conn:
            return {
                customer: {category}
                for customer, held in store.live_categories(conn)
                if category in held
            }

    def _named_in(self, path: Path) -> dict[str, set[str]]:
        """Customers whose e-mail, telephone or identity number the file holds: each
        finding normalised as the vault stores it and looked up by its blind index."""
        from needtoknow.categories import Rules
        from needtoknow.guards.extras import require

        require("detect")
        from needtoknow.detect.files import Located, scan_file
        from needtoknow.detect.redact import STORABLE
        from needtoknow.detect.scanner import Scanner

        registry, rules = self.vault.registry, Rules(today=self._scope.clock().date())
        found: dict[str, set[str]] = {}
        with reading(self._scope.db) as conn:
            for item in scan_file(path, Scanner()):
                if not isinstance(item, Located) or item.finding.entity not in STORABLE:
                    continue
                category, as_stored = STORABLE[item.finding.entity]
                if category not in registry or not registry[category].blind_index:
                    continue
                try:
                    terms = registry[category].normalise(as_stored(item.value), rules).index_terms
                except ValidationError:
                    continue  # looked like one, is not one: nobody to match
                for term in terms:
                    digest = self.vault.index_digest(category, term)
                    for customer in store.find(conn, category, digest):
                        found.setdefault(customer, set()).add(category)
        return found

    def _grow(self, incident_id: str, basis: dict[str, Any], found: dict[str, set[str]]) -> Scoped:
        now = self._scope.clock()
        with self._scope.db.begin() as conn:
            version = 1 + int(
                conn.execute(
                    sa.select(incidents.c.scope_version)
                    .where(incidents.c.id == incident_id)
                    .with_for_update()
                ).scalar_one()
            )
            known = {
                row.customer_id: set(json.loads(row.categories))
                for row in conn.execute(
                    sa.select(incident_customers).where(
                        incident_customers.c.incident_id == incident_id
                    )
                )
            }
            new = [c for c in found if c not in known]
            grown = [c for c in found if c in known and not found[c] <= known[c]]
            if new:
                conn.execute(
                    incident_customers.insert(),
                    [
                        {
                            "incident_id": incident_id,
                            "customer_id": c,
                            "categories": json.dumps(sorted(found[c])),
                            "since_version": version,
                        }
                        for c in new
                    ],
                )
            for customer in grown:
                conn.execute(
                    incident_customers.update()
                    .where(
                        incident_customers.c.incident_id == incident_id,
                        incident_customers.c.customer_id == customer,
                    )
                    .values(categories=json.dumps(sorted(known[customer] | found[customer])))
                )
            conn.execute(
                incident_scopes.insert().values(
                    incident_id=incident_id,
                    version=version,
                    basis=json.dumps(basis, sort_keys=True),
                    added=len(new),
                    made_at=now,
                    made_by=self._scope.actor,
                )
            )
            conn.execute(
                incidents.update()
                .where(incidents.c.id == incident_id)
                .values(scope_version=version)
            )
            customers, categories = _totals(conn, incident_id)
            self._ledger(
                conn,
                incident_id,
                "scoped",
                version=version,
                basis=basis,
                found=len(found),
                added=len(new),
                customers=customers,
            )
        return Scoped(incident_id, version, basis, len(found), len(new), customers, categories)

    def _ledger(self, conn: sa.Connection, incident_id: str, event: str, **detail: Any) -> None:
        entry = self._scope.entry(
            "incident", detail={"event": event, "incident_id": incident_id, **detail}
        )
        self._scope.ledger.append(conn, entry)


def _received_data(entry: dict[str, Any]) -> bool:
    """Whether an entry records data leaving: an allowed read or lookup. (A legal
    disclosure's release reads through the same path, so its reads are these too, with
    the categories actually sent; its own entries name everyone requested.)"""
    return entry.get("kind") in RECEIPTS and entry.get("decision") == "allow"


def _totals(conn: sa.Connection, incident_id: str) -> tuple[int, tuple[str, ...]]:
    rows: list[str] = list(
        conn.execute(
            sa.select(incident_customers.c.categories).where(
                incident_customers.c.incident_id == incident_id
            )
        ).scalars()
    )
    count, categories = 0, set[str]()
    for listed in rows:
        count += 1
        categories.update(json.loads(listed))
    return count, tuple(sorted(categories))


def _incident(row: Any, customers: int, categories: tuple[str, ...]) -> Incident:
    closed = stored_utc(row.closed_at) if row.closed_at else None
    return Incident(
        row.id,
        row.kind,
        stored_utc(row.noticed_at),
        stored_utc(row.opened_at),
        row.opened_by,
        row.status,
        closed,
        row.closed_by,
        row.scope_version,
        customers,
        categories,
    )
