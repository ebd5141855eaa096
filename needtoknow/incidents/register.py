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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from needtoknow.crypto import envelope
from needtoknow.errors import NeedToKnowError, NotFound, ValidationError
from needtoknow.guards.names import unknown
from needtoknow.incidents import notices, reports
from needtoknow.incidents.kinds import BOARD_REPORT, BREACH_KINDS, CERT_IN, KINDS, REPORTS
from needtoknow.moments import india, utc_text
from needtoknow.records.outbox import Outbox
from needtoknow.storage import notes, store
from needtoknow.storage.database import reading, stored_utc
from needtoknow.storage.schema import (
    incident_customers,
    incident_scopes,
    incident_steps,
    incidents,
)
from needtoknow.vault import Vault

MAX_SUMMARY = 5_000
NOTICE_PREFIX = "incident:"  # the outbox's keys for an incident's notices: incident:<id>:<n>
# How far ahead of this machine's clock a noticing time may be (another machine's clock)
FUTURE_GRACE = timedelta(minutes=5)


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
    filed: dict[str, datetime]  # report → when it was made (Incidents.filed)

    @property
    def personal_data_breach(self) -> bool:
        """A breach under the DPDP Act (s.2(u)) — so the Board's clocks run — when its
        kind is one, or when a scope found anyone's personal data in it."""
        return self.kind in BREACH_KINDS or self.customers > 0

    def deadlines(self) -> dict[str, datetime | None]:
        """When each report is due: CERT-In six hours from noticing; for a personal data
        breach, the Board told without delay (no fixed hour: None) and its detailed
        report within 72 hours of becoming aware."""
        due: dict[str, datetime | None] = {"cert_in": self.noticed_at + CERT_IN}
        if self.personal_data_breach:
            due |= {"board_intimation": None, "board_report": self.noticed_at + BOARD_REPORT}
        return due

    def to_json(self, now: datetime) -> dict[str, Any]:
        ist = india()

        def clock(report: str, due: datetime | None) -> dict[str, Any]:
            filed = self.filed.get(report)
            pending = filed is None and self.status == "open"
            shown: dict[str, Any] = {
                "due": utc_text(due) if due else "without delay",
                "due_ist": due.astimezone(ist).isoformat(timespec="seconds") if due else None,
                "seconds_left": int((due - now).total_seconds()) if due else None,
                "filed_at": utc_text(filed),
                "overdue": pending and due is not None and due < now,
            }
            if due is None:  # how long it has waited
                shown["seconds_since_noticed"] = int((now - self.noticed_at).total_seconds())
            return shown

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
            "personal_data_breach": self.personal_data_breach,
            "deadlines": {name: clock(name, due) for name, due in self.deadlines().items()},
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
        if noticed_at > now + FUTURE_GRACE:
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
            self._step(conn, incident_id, "opened", kind=kind, noticed_at=utc_text(noticed_at))
        return self.get(incident_id)

    def get(self, incident_id: str) -> Incident:
        with reading(self._scope.db) as conn:
            row = conn.execute(sa.select(incidents).where(incidents.c.id == incident_id)).first()
            if row is None:
                raise NotFound(f"no incident {incident_id!r}")
            return _incident(conn, row)

    def listing(self, open_only: bool = False) -> list[Incident]:
        query = sa.select(incidents).order_by(incidents.c.noticed_at.desc())
        if open_only:
            query = query.where(incidents.c.status == "open")
        with reading(self._scope.db) as conn:
            return [_incident(conn, row) for row in conn.execute(query)]

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
        if (category or file) and (since or until):  # a whole category: no window applies
            raise ValidationError("from", "incident", "not_with", "--key, --recipient, --actor")
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
            if recipient is not None:
                party = f"recipient:{recipient}"
            else:
                party = f"actor:api:{key}" if key is not None else f"actor:{actor}"
            found = self.vault.ledger.received(party, since, until)
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
        """Queue the notice to every person in the scope not yet told of everything the
        scope now holds about them: each is told once, and again only when a later scope
        adds a category. ``notice`` is the company's words (:data:`notices.NOTICE_FIELDS`,
        each in English and Hindi); each call's words are kept as sent, as notice number
        n, with their SHA-256, and earlier notices keep their own words. The outbox sends
        them (``Vault.outbox(smtp, Incidents(vault).compose)``)."""
        import hashlib

        words = notices.checked(notice)
        text = json.dumps(words, ensure_ascii=False, sort_keys=True)
        now = self._scope.clock()
        with self._scope.db.begin() as conn:
            self._open_row(conn, incident_id)  # locked: one notify at a time
            number = 1 + max(
                (n["number"] for n in _steps(conn, incident_id, "notified")), default=0
            )
            due = {
                row.customer_id: row.categories
                for row in conn.execute(
                    sa.select(incident_customers).where(
                        incident_customers.c.incident_id == incident_id
                    )
                )
                if row.told is None
                or not set(json.loads(row.categories)) <= set(json.loads(row.told))
            }
            key = f"{NOTICE_PREFIX}{incident_id}:{number}"
            queued = Outbox.queue(conn, key, sorted(due), now)
            for customer, categories in due.items():
                conn.execute(
                    incident_customers.update()
                    .where(
                        incident_customers.c.incident_id == incident_id,
                        incident_customers.c.customer_id == customer,
                    )
                    .values(told=categories)
                )
            sha256 = hashlib.sha256(text.encode()).hexdigest()
            self._step(
                conn,
                incident_id,
                "notified",
                {"words": words},
                number=number,
                queued=len(queued),
                sha256=sha256,
            )
        return {
            "incident_id": incident_id,
            "notice": number,
            "queued": len(queued),
            "sha256": sha256,
        }

    def compose(self, key: str, customer_id: str) -> tuple[str, str]:
        """One person's notice for the outbox (``key`` is ``incident:<id>:<n>``): notice
        n's words, with every category the scope holds about them."""
        incident_id, _, number = key.removeprefix(NOTICE_PREFIX).partition(":")
        with reading(self._scope.db) as conn:
            words = next(
                step["words"]
                for step in _steps(conn, incident_id, "notified")
                if str(step["number"]) == number
            )
            noticed_at: datetime = conn.execute(
                sa.select(incidents.c.noticed_at).where(incidents.c.id == incident_id)
            ).scalar_one()
            categories: str = conn.execute(
                sa.select(incident_customers.c.categories).where(
                    incident_customers.c.incident_id == incident_id,
                    incident_customers.c.customer_id == customer_id,
                )
            ).scalar_one()
        policy = self.vault.policy
        return notices.compose(
            words,
            tuple(json.loads(categories)),
            stored_utc(noticed_at),
            policy.grievance_contact,
            policy.name,
        )

    def filed(
        self, incident_id: str, report: str, at: datetime, reference: str | None = None
    ) -> Incident:
        """Record that ``report`` (:data:`kinds.REPORTS`) was made at ``at``, with the
        authority's ``reference`` if one was given: its clock stops."""
        if report not in REPORTS:
            raise ValidationError(
                "report", "incident", "unknown", unknown("report", report, REPORTS)
            )
        if at.tzinfo is None:
            raise ValidationError("at", "incident", "zone", "a time with its zone")
        if at > self._scope.clock() + FUTURE_GRACE:
            raise ValidationError("at", "incident", "future", "not after now")
        incident = self.get(incident_id)
        if at < incident.noticed_at:
            raise ValidationError("at", "incident", "before_noticed", "after it was noticed")
        if reference is not None and not 0 < len(reference) <= 200:
            raise ValidationError("reference", "incident", "length", "1 to 200 characters")
        if report not in incident.deadlines():
            raise NeedToKnowError(
                f"incident {incident_id} owes no {report}: it is not a personal data breach"
            )
        with self._scope.db.begin() as conn:
            self._open_row(conn, incident_id)
            self._step(
                conn, incident_id, "filed", report=report, at=utc_text(at), reference=reference
            )
        return self.get(incident_id)

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
            self._step(conn, incident_id, "revoked", **done)
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
                for detail in _steps(conn, incident_id, "revoked")
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
            "notices": self.vault.outbox().status(f"{NOTICE_PREFIX}{incident_id}:", prefix=True),
            "revoked": revoked,
        }

    def report(self, incident_id: str, words: Any, directory: Path) -> dict[str, Any]:
        """Write CERT-In's report and, for a personal data breach, the Board's detailed
        report into ``directory``, each as Markdown and PDF, from the record and the
        company's ``words`` (:data:`reports.REPORT_FIELDS`); their SHA-256 go into the
        ledger. Every document is made before any is written, so a failure leaves the
        directory as it was."""
        import hashlib

        from needtoknow.guards.output import replacing

        checked = reports.checked(words)
        reports.check_font()
        record, now = self.record(incident_id), self._scope.clock()
        texts = {"cert-in-report": reports.cert_in_report(record, checked, now)}
        if record["incident"]["personal_data_breach"]:
            texts["board-report"] = reports.board_report(record, checked, now)
        documents = {
            f"{name}.{suffix}": content
            for name, text in sorted(texts.items())
            for suffix, content in (("md", text.encode()), ("pdf", reports.pdf_bytes(text)))
        }
        for file_name, content in documents.items():
            with replacing(directory / file_name) as temporary:
                temporary.write_bytes(content)
        made = {name: hashlib.sha256(content).hexdigest() for name, content in documents.items()}
        with self._scope.db.begin() as conn:
            self._step(conn, incident_id, "reported", documents=made)
        return {"incident_id": incident_id, "directory": str(directory), "documents": made}

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
            self._step(conn, incident_id, "closed")
        return self.get(incident_id)

    # -- evidence ---------------------------------------------------------------------

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
            self._step(
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

    def _step(
        self,
        conn: sa.Connection,
        incident_id: str,
        event: str,
        kept: dict[str, Any] | None = None,
        **detail: Any,
    ) -> None:
        """Record a step on the incident's record and in the ledger, in the caller's
        transaction; ``kept`` goes on the record only (a notice's words: the ledger has
        their hash)."""
        conn.execute(  # steps are numbered under the incident's row lock: one at a time
            sa.select(incidents.c.id).where(incidents.c.id == incident_id).with_for_update()
        )
        step = 1 + int(
            conn.execute(
                sa.select(sa.func.count()).where(incident_steps.c.incident_id == incident_id)
            ).scalar_one()
        )
        conn.execute(
            incident_steps.insert().values(
                incident_id=incident_id,
                step=step,
                event=event,
                at=self._scope.clock(),
                actor=self._scope.actor,
                detail=json.dumps({**detail, **(kept or {})}, ensure_ascii=False),
            )
        )
        entry = self._scope.entry(
            "incident", detail={"event": event, "incident_id": incident_id, **detail}
        )
        self._scope.ledger.append(conn, entry)

    @staticmethod
    def _open_row(conn: sa.Connection, incident_id: str) -> None:
        """Lock the incident's row for this transaction; refuse an unknown or closed one."""
        status = conn.execute(
            sa.select(incidents.c.status).where(incidents.c.id == incident_id).with_for_update()
        ).scalar()
        if status is None:
            raise NotFound(f"no incident {incident_id!r}")
        if status != "open":
            raise NeedToKnowError(f"incident {incident_id} is closed")


def _steps(conn: sa.Connection, incident_id: str, event: str) -> list[dict[str, Any]]:
    """The details of an incident's steps of one kind, oldest first."""
    rows: list[str] = list(
        conn.execute(
            sa.select(incident_steps.c.detail)
            .where(incident_steps.c.incident_id == incident_id, incident_steps.c.event == event)
            .order_by(incident_steps.c.step)
        ).scalars()
    )
    return [json.loads(detail) for detail in rows]


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


def _incident(conn: sa.Connection, row: Any) -> Incident:
    closed = stored_utc(row.closed_at) if row.closed_at else None
    customers, categories = _totals(conn, row.id)
    filed = {
        step["report"]: datetime.fromisoformat(step["at"].replace("Z", "+00:00"))
        for step in _steps(conn, row.id, "filed")
    }
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
        filed,
    )
