"""The vault's front door: write, read (through :mod:`.access`), find, erase, rotate.

Every write is validated in full before anything is stored, then stored in one
transaction, so a bad field leaves nothing behind. Every read names a recipient
and a purpose. Time comes from ``clock`` so tests move it instead of sleeping.
"""

from __future__ import annotations

import base64
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

import sqlalchemy as sa

from needtoknow.categories import Normalised, Registry, Rules
from needtoknow.children import Guardians
from needtoknow.crypto import envelope
from needtoknow.crypto.keys import KeyProvider
from needtoknow.errors import (
    CategoryError,
    NeedToKnowError,
    NotCollected,
    NotFound,
    PolicyDenied,
    ValidationError,
)
from needtoknow.guards.names import unknown
from needtoknow.ledger import Entry, InclusionProof, Ledger
from needtoknow.ledger.heads import TreeHead
from needtoknow.lifecycle.accounts import Accounts
from needtoknow.lifecycle.erasure import Erasures
from needtoknow.lifecycle.holds import LegalHolds
from needtoknow.policy import Engine, Policy, load_stored_policy
from needtoknow.policy.collection import explain_collection
from needtoknow.records.agreements import AgreementRegistry
from needtoknow.records.apikeys import ApiKeys
from needtoknow.records.audits import LedgerAudits
from needtoknow.records.consent_managers import ConsentManagerEvents
from needtoknow.records.consents import Consents
from needtoknow.records.disclosures import Disclosures
from needtoknow.records.instructions import Instructions
from needtoknow.records.outbox import Compose, Outbox, Smtp
from needtoknow.records.scope import Clock, Scope
from needtoknow.records.versions import PolicyVersions
from needtoknow.storage import scrubs, store
from needtoknow.storage.database import reading
from needtoknow.storage.fastpath import RawTransaction, ThreadConnections, Transaction
from needtoknow.storage.schema import policies
from needtoknow.types import Context, Disclosure, checked_customer_id, view_of
from needtoknow.vault import access, declarations, history, keychanges, minors
from needtoknow.vault.keychanges import RotationResult


def _ledger_durability(engine: sa.Engine, sync: str) -> Callable[[Any], None] | None:
    """Setup for the per-thread connections, which commit the ledger entries of reads and
    denials. By default (``full``) each commit is fsynced like every other write, so no
    disclosure survives a power cut without its entry. ``normal`` (NTK_LEDGER_SYNC) commits
    them to SQLite's WAL without an fsync — about 3x cheaper: an entry then survives the
    process being killed, but an OS crash or power cut can lose the last moments' entries
    (never tear the ledger). PostgreSQL follows its own ``synchronous_commit``."""
    if sync not in ("full", "normal"):
        raise ValueError(f"ledger sync must be 'full' or 'normal', not {sync!r}")
    if engine.dialect.name != "sqlite" or sync == "full":
        return None

    def on_open(connection: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_open


class _Engines:
    """The active policy (and the category registry it extends) and its compilation
    with the agreement registry, shared by a vault and its views: (registry version,
    engine), replaced as one object so threads never pair an engine with a version it
    was not built from. Activating a policy version bumps the registry version too."""

    def __init__(self, policy: Policy, registry: Registry) -> None:
        self.policy = policy
        self.registry = registry
        self.compiled: tuple[int, Engine] = (-1, Engine(policy, ()))


def _active_policy(db: sa.Engine, loaded: Policy) -> Policy:
    """The policy version marked active in the database: ``loaded`` if it still is."""
    with reading(db) as conn:
        row = conn.execute(
            sa.select(policies.c.version, policies.c.source).where(policies.c.active.is_(True))
        ).one()
    if row.version == loaded.version:
        return loaded
    return load_stored_policy(row.source, f"policy {row.version[:12]}")[0]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class WriteResult:
    customer_id: str
    categories: tuple[str, ...]
    notices: tuple[str, ...]
    policy_version: str  # the version that let these categories be collected

    def to_json(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "categories": list(self.categories),
            "notices": list(self.notices),
            "policy_version": self.policy_version,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WriteResult:
        return cls(
            data["customer_id"],
            tuple(data["categories"]),
            tuple(data["notices"]),
            data.get("policy_version", ""),
        )


@dataclass(frozen=True)
class Refused:
    """A record of a batch that was not stored, and why (names and rules, never values)."""

    index: int
    error: NeedToKnowError


@dataclass(frozen=True)
class Prepared:
    """A record validated and sealed, not yet written (:meth:`Vault.prepare_many`):
    ciphertext, wrapped key and blind indexes only — picklable, so it can be made in
    another process."""

    index: int
    key: store.KeyRow
    sealed: dict[str, bytes]
    blind: dict[str, list[bytes]]
    categories: tuple[str, ...]
    notices: tuple[str, ...]
    policy_version: str
    written_consent: dict[str, Any] | None = None  # what to record of it (vault.declarations)


@dataclass(frozen=True)
class Known:
    """A record whose source-system id an earlier import stored: not stored again."""

    index: int
    customer_id: str


@dataclass(frozen=True)
class Erasure:
    customer_id: str
    scrubbed: bool  # the deleted bytes are gone from the database's files (see Vault.erase)
    erased: tuple[str, ...] = ()  # the categories crypto-shredded
    kept: tuple[dict[str, Any], ...] = ()  # each kept category: until when, under what law

    def to_json(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "erased": True,
            "scrubbed": self.scrubbed,
            "categories_erased": list(self.erased),
            "kept": list(self.kept),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Erasure:
        return cls(
            data["customer_id"],
            bool(data["scrubbed"]),
            tuple(data["categories_erased"]),
            tuple(data["kept"]),
        )


class Vault:
    """Encrypted customer PII, released only as the policy decides."""

    def __init__(
        self,
        db: sa.Engine,
        keys: KeyProvider,
        policy: Policy,
        registry: Registry,
        clock: Clock = utc_now,
        actor: str = "library",
        ledger_sync: str = "full",
    ) -> None:
        self.db = db
        self.keys = keys
        self._engines = _Engines(policy, registry)
        self.connections = ThreadConnections(db, on_open=_ledger_durability(db, ledger_sync))
        self.reader = store.Reader(self.connections)
        self.ledger = Ledger(db, keys, clock, self.connections)
        self.scope = Scope(
            db,
            self.connections,
            self.ledger,
            keys,
            clock,
            actor,
            None,
            policy=lambda: self._engines.policy,
            engine=lambda: self.engine,
            categories=lambda: self._engines.registry,
        )
        self.agreements = AgreementRegistry(self.scope)

    @property
    def clock(self) -> Clock:
        return self.scope.clock

    @property
    def actor(self) -> str:
        return self.scope.actor

    @property
    def request_id(self) -> str | None:
        return self.scope.request_id

    @property
    def policy(self) -> Policy:
        """The active policy version (as of the last decision)."""
        return self._engines.policy

    @property
    def registry(self) -> Registry:
        return self._engines.registry

    def acting(self, actor: str, request_id: str | None = None) -> Vault:
        """This vault as one caller uses it (an API key serving one request): the same
        database, keys, connections and compiled policy, with every ledger entry naming
        ``actor`` and ``request_id``. Cheap; close the vault it came from, not the view."""
        scope = self.scope.acting(actor, request_id)
        return view_of(self, scope=scope, agreements=self.agreements.within(scope))

    @property
    def guardians(self) -> Guardians:
        """Parents' verified consents to children's records, and who acts for a child."""
        return Guardians(self.scope)

    def minor(self, customer_id: str) -> bool:
        """Whether the customer is a child today (see vault.minors)."""
        return minors.is_minor(self, customer_id)

    @property
    def consents(self) -> Consents:
        """Customers' consents to the purposes whose legal basis is consent."""
        return Consents(self.scope)

    @property
    def disclosures(self) -> Disclosures:
        """The legal-disclosure workflow (four eyes, packages, held notices)."""
        return Disclosures(self.scope, self)

    @property
    def versions(self) -> PolicyVersions:
        """Policy versions: proposed, posted with their changes, activated after notice."""
        return PolicyVersions(self.scope, self.agreements)

    @property
    def api_keys(self) -> ApiKeys:
        """API keys, each bound to one recipient of the policy."""
        return ApiKeys(self.scope, self.agreements)

    @property
    def accounts(self) -> Accounts:
        """Accounts: closed (retention counts from here), reopened, the services held."""
        return Accounts(self.scope)

    @property
    def holds(self) -> LegalHolds:
        """Legal holds placed by hand on some categories of a customer."""
        return LegalHolds(self.scope)

    @property
    def consent_managers(self) -> ConsentManagerEvents:
        """Signed events from the consent managers the policy registers."""
        return ConsentManagerEvents(self.scope)

    @property
    def audits(self) -> LedgerAudits:
        """Verifications of the ledger, each kept (``ntk ledger verify``, the console)."""
        return LedgerAudits(self.scope)

    @property
    def instructions(self) -> Instructions:
        """Erasure instructions to the recipients that received erased data."""
        return Instructions(self.scope)

    @property
    def erasures(self) -> Erasures:
        """Erasure requests and retention runs, keeping what a hold keeps."""
        return Erasures(self.scope, self.holds, self.instructions)

    def outbox(self, smtp: Smtp | None = None, compose: Compose | None = None) -> Outbox:
        """Customer notices of posted material changes, and of whatever ``compose``
        writes (incidents); ``smtp`` is needed to deliver."""
        return Outbox(self.scope, self, self.versions, smtp, compose)

    @property
    def engine(self) -> Engine:
        """The policy compiled with the agreement registry as it is now: rebuilt when any
        process has changed an agreement since, so a revocation takes effect at once."""
        version = self.agreements.version()
        built, engine = self._engines.compiled
        if version == built:
            return engine
        # Read the agreements and the active policy, then confirm nothing changed
        # meanwhile; else try again.
        while True:
            current = self.agreements.current()
            active = _active_policy(self.db, self._engines.policy)
            confirmed = self.agreements.version()
            if confirmed == version:
                break
            version = confirmed
        if active is not self._engines.policy:
            self._engines.policy, self._engines.registry = (
                active,
                load_stored_policy(active.source, f"policy {active.version[:12]}")[1],
            )
        engine = Engine(active, current)
        if version > self._engines.compiled[0]:
            self._engines.compiled = (version, engine)
        return engine

    def close(self) -> None:
        """Commit queued ledger entries, then release the per-thread connections and the
        engine's pool."""
        self.ledger.close()
        self.connections.close()
        self.db.dispose()

    # -- writes -----------------------------------------------------------------------

    def _normalise(
        self,
        record: Mapping[str, Any],
        standing: frozenset[str] | None,
        active: Policy | None = None,
    ) -> tuple[Policy, dict[str, Normalised]]:
        """Check ``record`` may be collected (see :meth:`_collectable`), then validate it.
        ``active``: the active policy, when the caller (a batch) looked it up already."""
        if not isinstance(record, Mapping) or not record:
            raise ValidationError("record", "customer", "type", "expected a non-empty object")
        for name in record:
            if name not in self.registry:
                raise ValidationError(
                    name, name, "unknown_category", unknown("category", name, self.registry)
                )
        policy = self._collectable(record, standing, active)
        rules = self._rules(policy)
        return policy, {
            name: self.registry[name].normalise(value, rules) for name, value in record.items()
        }

    def _rules(self, policy: Policy) -> Rules:
        return Rules(
            today=self.clock().date(), store_full_card_numbers=policy.store_full_card_numbers
        )

    def _collectable(
        self,
        categories: Iterable[str],
        standing: frozenset[str] | None,
        active: Policy | None = None,
    ) -> Policy:
        """Refuse categories no purpose of the active policy collects, and — unless
        ``standing`` is None (checked later, under the customer's row lock) — those
        collected only for consent-based purposes none of the ``standing`` consents
        covers. Returns the policy both checks were made against."""
        # the active version, as any process last activated it
        policy = active if active is not None else self.engine.policy
        refused = sorted(c for c in categories if not policy.collectors(c))
        if refused:
            raise NotCollected(refused, policy.name)
        if standing is not None:
            needs = {c: policy.consent_to_collect(c) for c in categories}
            lacking = sorted(c for c, ps in needs.items() if ps and standing.isdisjoint(ps))
            if lacking:
                consent = sorted({p for c in lacking for p in needs[c]})
                raise NotCollected(lacking, policy.name, consent)
        return policy

    def _seal(
        self, dek: bytes, customer_id: str, dek_version: int, normal: Mapping[str, Normalised]
    ) -> tuple[dict[str, bytes], dict[str, list[bytes]]]:
        sealed = {
            c: envelope.encrypt_field(dek, customer_id, c, dek_version, n.value)
            for c, n in normal.items()
        }
        index = {
            c: [self.index_digest(c, term) for term in n.index_terms]
            for c, n in normal.items()
            if self.registry[c].blind_index
        }
        return sealed, index

    def add(self, record: Mapping[str, Any]) -> WriteResult:
        """Store a new customer; returns its id and any notices (e.g. a discarded card number).
        A category collected only with consent waits for one: add, grant, then correct.
        A child's record (``is_child``, or a date of birth under 18 years ago) comes in
        only with its parent's verified consent (``guardian``: see vault.minors), and a
        sensitive category the policy collects only with consent in writing only with its
        evidence (``written_consent``: see vault.declarations)."""
        record, declared = declarations.split(record)
        policy, normal = self._normalise(record, standing=frozenset())  # no consent yet
        rules = self._rules(policy)
        parent = minors.parent_for(self, normal, declared.is_child, declared.guardian, rules)
        if parent is not None:
            minors.check_guardian(self, parent)
        written = declarations.written_consent(policy, normal, declared, rules.today)
        customer_id = str(uuid.uuid4())
        dek, dek_version = envelope.new_dek(), 1
        kek_version, wrapped = envelope.wrap_dek(self.keys, dek, customer_id, dek_version)
        sealed, index = self._seal(dek, customer_id, dek_version, normal)
        key = store.KeyRow(customer_id, dek_version, kek_version, wrapped)
        now = self.clock()
        with self.db.begin() as conn:
            store.insert(conn, key, sealed, index, now)
            result = self._recorded(conn, "write", now, customer_id, normal, policy, written)
            if parent is not None:
                self.guardians.link(conn, customer_id, parent)
            return result

    def screen(
        self, external_ids: Sequence[str | None]
    ) -> tuple[dict[int, bytes], dict[int, Known | Refused]]:
        """A bulk import's first step, then :meth:`prepare_many` (which another process
        can run) and :meth:`commit_prepared` — run as a pipeline by
        ``imports.run.import_rows``. Each external id's digest (a MAC: the id itself is
        not kept), and the records settled by it already: stored by an earlier import —
        even of a customer erased since, who is not brought back — (:class:`Known`), or
        a second record with one id in the same batch (:class:`Refused`)."""
        digests = {
            i: self.keys.mac("index", b"ntk/external/v1\x00" + key.encode())
            for i, key in enumerate(external_ids)
            if key
        }
        with reading(self.db) as conn:
            known = store.known_external(conn, sorted(set(digests.values())))
        settled: dict[int, Known | Refused] = {}
        first: dict[bytes, int] = {}
        for i, digest in digests.items():
            if digest in known:
                settled[i] = Known(i, known[digest])
            elif digest in first:
                clash = ValidationError(
                    "key", "import", "duplicate_key", f"as record {first[digest]}"
                )
                settled[i] = Refused(i, clash)
            else:
                first[digest] = i
        return digests, settled

    def prepare_many(
        self, records: Sequence[Mapping[str, Any]], dry_run: bool = False
    ) -> list[Prepared | Refused | WriteResult]:
        """Validate and seal each record — a data key, its fields encrypted, its blind
        indexes — without writing anything: :class:`Prepared` rows for
        :meth:`commit_prepared`, :class:`Refused` ones, or with ``dry_run`` the
        :class:`WriteResult` a write would give (with an empty customer id). Reads no
        database, so another process with the vault's keys and policy can run it."""
        active = self.engine.policy  # one look at the registry version for the batch
        out: list[Prepared | Refused | WriteResult] = []
        for i, record in enumerate(records):
            try:
                record, declared = declarations.split(record)
                if declared.guardian is not None:
                    detail = "add a child's record on its own, with its guardian (ntk customer add)"
                    raise ValidationError("guardian", "customer", "one_at_a_time", detail)
                policy, normal = self._normalise(record, frozenset(), active)
                rules = self._rules(policy)
                minors.parent_for(self, normal, declared.is_child, None, rules)
                written = declarations.written_consent(policy, normal, declared, rules.today)
            except ValidationError as exc:
                out.append(Refused(i, exc))
                continue
            notices = tuple(n for value in normal.values() for n in value.notices)
            if dry_run:
                out.append(WriteResult("", tuple(normal), notices, policy.version))
                continue
            customer_id, dek = str(uuid.uuid4()), envelope.new_dek()
            kek_version, wrapped = envelope.wrap_dek(self.keys, dek, customer_id, 1)
            sealed, index = self._seal(dek, customer_id, 1, normal)
            key = store.KeyRow(customer_id, 1, kek_version, wrapped)
            out.append(
                Prepared(i, key, sealed, index, tuple(normal), notices, policy.version, written)
            )
        return out

    def commit_prepared(
        self, prepared: Sequence[Prepared], digests: Mapping[int, bytes]
    ) -> dict[int, WriteResult | Known]:
        """Write prepared records in one transaction with one ledger commit; ``digests``
        (by a record's ``index``) keeps each one's external id. A record whose id was
        stored meanwhile (by the batch before, or another import) is :class:`Known`,
        checked again in this transaction, and not written."""
        if not prepared:
            return {}
        now = self.clock()
        results: dict[int, WriteResult | Known] = {}
        with self.db.begin() as conn:
            known = store.known_external(
                conn, sorted({digests[p.index] for p in prepared if p.index in digests})
            )
            fresh = []
            for p in prepared:
                digest = digests.get(p.index)
                if digest is not None and digest in known:
                    results[p.index] = Known(p.index, known[digest])
                else:
                    fresh.append(p)
            store.insert_many(conn, [(p.key, p.sealed, p.blind) for p in fresh], now)
            store.record_external(
                conn,
                {digests[p.index]: p.key.customer_id for p in fresh if p.index in digests},
                now,
            )
            self.ledger.append_many(
                conn,
                [
                    self.entry(
                        "write",
                        time=now,
                        customer_id=p.key.customer_id,
                        categories=p.categories,
                        policy_version=p.policy_version,
                        detail={"written_consent": p.written_consent} if p.written_consent else {},
                    )
                    for p in fresh
                ],
            )
        for p in fresh:
            results[p.index] = WriteResult(
                p.key.customer_id, p.categories, p.notices, p.policy_version
            )
        return results

    def correct(self, customer_id: str, changes: Mapping[str, Any]) -> WriteResult:
        """Replace some categories of an existing customer (a correction under DPDP s.12)."""
        write = self._correction(customer_id, changes)
        # Every statement is Prepared: on the thread's own connection, not through Core
        # (a correction is the API's costliest hot call; docs/benchmarks.md).
        with self.connections.transaction() as cursor:
            return write(cursor)

    async def correct_async(self, customer_id: str, changes: Mapping[str, Any]) -> WriteResult:
        """:meth:`correct` for a coroutine on a local database: its writes and entry commit
        in the transaction of the loop's turn, with the turn's read entries (one commit
        and one fsync for all, not one more per correction; docs/benchmarks.md)."""
        return await self.ledger.write_async(self._correction(customer_id, changes))

    def _correction(
        self, customer_id: str, changes: Mapping[str, Any]
    ) -> Callable[[Any], WriteResult]:
        """Check and normalise ``changes`` now; the write, given a cursor inside a
        transaction, reads the record under its lock and replaces the categories."""
        changes, declared = declarations.split(changes)
        if declared.is_child is not None or declared.guardian is not None:
            detail = "is_child and guardian are declared when the record is added"
            raise ValidationError("guardian", "customer", "at_signup", detail)
        active, normal = self._normalise(changes, standing=None)
        minors.check_correction(self, checked_customer_id(customer_id), normal)
        written = declarations.written_consent(active, normal, declared, self.clock().date())
        return partial(self._correct_in, customer_id, normal, written)

    def _correct_in(
        self,
        customer_id: str,
        normal: Mapping[str, Normalised],
        written: Mapping[str, Any] | None,
        cursor: Any,
    ) -> WriteResult:
        conn = RawTransaction(cursor, self.db.dialect)
        found = store.locked_record(conn, checked_customer_id(customer_id))
        if found is None:
            raise NotFound(f"no customer {customer_id!r}")
        key, fields = found.key, found.fields
        # again under the row lock a withdrawal also takes, so none slips in between; the
        # policy and agreements as they stand now, not as a pin of the turn had them
        with self.agreements.unpinned():
            policy = self._collectable(normal, self.consents.standing(customer_id, conn))
        dek = envelope.unwrap_dek(
            self.keys, key.kek_version, key.wrapped_dek, customer_id, key.dek_version
        )
        sealed, index = self._seal(dek, customer_id, key.dek_version, normal)
        now = self.clock()
        store.replace_fields(conn, customer_id, {**fields, **sealed}, sealed, index, now)
        return self._recorded(conn, "correct", now, customer_id, normal, policy, written)

    def _recorded(
        self,
        conn: Transaction,
        kind: str,
        now: datetime,
        customer_id: str,
        normal: Mapping[str, Normalised],
        policy: Policy,
        written: Mapping[str, Any] | None = None,
    ) -> WriteResult:
        """Ledger a write in its own transaction, under the version that allowed it, with
        the artefact of the consent in writing it needed (vault.declarations), if any."""
        entry = self.entry(
            kind,
            time=now,
            customer_id=customer_id,
            categories=tuple(normal),
            policy_version=policy.version,
            detail={"written_consent": written} if written else {},
        )
        self.ledger.append(conn, entry)
        notices = tuple(n for value in normal.values() for n in value.notices)
        return WriteResult(customer_id, tuple(normal), notices, policy.version)

    def erase(self, customer_id: str) -> Erasure:
        """Erase a customer as an erasure request does (DPDP Act s.12(3)): every category
        no hold keeps is crypto-shredded now, and an open account closes. What a statutory
        hold of the policy (CERT-In's subscriber records, tax invoices) or a legal hold
        keeps stays, readable only for the hold's purposes, and is listed in ``kept``
        with the law and the date; nothing kept, the wrapped DEK, ciphertext and index
        digests are deleted and a tombstone row remains. Raises NotFound if there is
        nothing to erase.

        ``scrubbed`` on the result says whether the deleted bytes are gone from the
        database's files. On SQLite that is checked: ``secure_delete`` zeroes them once a
        WAL checkpoint copies the pages back, and the checkpoint must then complete and
        truncate the log. A reader holding an older snapshot can block it past the
        retries; the result is then False and the scrub stays pending (see
        :mod:`needtoknow.storage.scrubs`) until a later one completes. On PostgreSQL it is
        always False, and nothing is pending: the old row versions stay in the table's
        pages until VACUUM reuses them (it does not zero them) and in WAL segments and
        archives, which no retry here can reach. There, and in backups made earlier on
        either database, the DEK is still wrapped by the KEK of that time: it becomes
        unreadable once that KEK version is retired (``rotate_keys`` then ``retire_key``).
        """
        outcome, scrubbed = self.erasures.erase(customer_id)
        kept = tuple(f.to_json() for f in outcome.fates if f.action != "erase")
        return Erasure(outcome.customer_id, scrubbed, outcome.erased, kept)

    def scrub_pending(self) -> bool:
        """Retry the scrubs left pending (by this or any process); True when none is left.
        ``open_vault`` calls it whenever some are pending."""
        if not scrubs.pending(self.db):
            return True
        return scrubs.complete(self.db)

    def pending_scrubs(self) -> list[scrubs.PendingScrub]:
        """Erasures (and consent withdrawals that deleted fields) whose bytes may still be
        in SQLite's files, oldest first; always empty on PostgreSQL (see :meth:`erase`)."""
        return scrubs.pending(self.db)

    # -- reads ------------------------------------------------------------------------

    def get(
        self,
        customer_id: str,
        *,
        recipient: str,
        purpose: str,
        categories: Iterable[str] | None = None,
        context: Context | None = None,
    ) -> Disclosure:
        """What ``recipient`` may see of this customer for ``purpose``; see :func:`access.read`."""
        return access.read(
            self, customer_id, recipient, purpose, categories, self._context(context)
        )

    async def get_async(
        self,
        customer_id: str,
        *,
        recipient: str,
        purpose: str,
        categories: Iterable[str] | None = None,
        context: Context | None = None,
    ) -> Disclosure:
        """``get`` for a coroutine on a local database; see :func:`access.read_async`."""
        return await access.read_async(
            self, customer_id, recipient, purpose, categories, self._context(context)
        )

    def get_many(
        self,
        customer_ids: Iterable[str],
        *,
        recipient: str,
        purpose: str,
        categories: Iterable[str] | None = None,
        context: Context | None = None,
    ) -> list[Disclosure]:
        """``get`` for many customers, ledgered in one commit; see :func:`access.read_many`."""
        return access.read_many(
            self, customer_ids, recipient, purpose, categories, self._context(context)
        )

    def find(
        self,
        category: str,
        value: Any,
        *,
        recipient: str,
        purpose: str,
        context: Context | None = None,
    ) -> list[str]:
        """Customer ids whose ``category`` exactly matches ``value``, without decrypting.

        Knowing that a number belongs to a customer is itself personal data, so a lookup
        is allowed only to a recipient the policy grants ``category`` for ``purpose``
        (raises PolicyDenied otherwise). The value is normalised the way writes are, so
        ``+91 98765 43210`` finds ``9876543210``. For identity numbers pass
        ``{"type": "pan", "number": …}``.
        """
        definition = self.registry[category]
        if not definition.blind_index:
            raise CategoryError(f"category {category!r} has no blind index")
        context = self._context(context)
        decision = access.decide(self, recipient, purpose, (category,), context, None)
        if not decision.allowed:
            self.ledger.record(access.ledger_entry(self, "find", decision, context))
            raise PolicyDenied(recipient, purpose, dict(decision.denied))
        try:
            terms = definition.normalise(value, Rules(today=self.clock().date())).index_terms
        except ValidationError:
            self.ledger.record(
                access.ledger_entry(self, "find", decision, context, outcome="invalid_value")
            )
            raise
        with self.db.begin() as conn:
            found = sorted(
                {
                    cid
                    for t in terms
                    for cid in store.find(conn, category, self.index_digest(category, t))
                }
            )
            if decision.customer_scope:  # a scoped contractor finds only its own customers
                found = [
                    c for c in found if not self.agreements.unassigned(c, decision.customer_scope)
                ]
            if self.consents.needed(purpose):  # and a consent-based purpose, the consenting
                found = [c for c in found if self.consents.active(c, purpose)]
            if purpose in self.engine.policy.tracking_purposes:  # never a child (s.9(3))
                found = [c for c in found if not self.minor(c)]
            # One entry per customer found (none found: one entry saying so), so that no
            # customer's history shows who else shares a number.
            entry = access.ledger_entry(self, "find", decision, context)
            if not found:
                entry = replace(entry, detail={"matches": 0})
            self.ledger.append_each(conn, entry, found)
        return found

    def customer_ids(self, limit: int = 100) -> list[str]:
        """Ids of live customers, oldest first."""
        with reading(self.db) as conn:
            return store.live_ids(conn, limit)

    def index_digest(self, category: str, term: str) -> bytes:
        return self.keys.mac("index", f"{category}\x00{term}".encode())

    def entry(self, kind: str, **fields: Any) -> Entry:
        """A ledger entry by whoever this vault acts for; see :meth:`Scope.entry`."""
        return self.scope.entry(kind, **fields)

    def tokenize(self, recipient: str, canonical: bytes) -> str:
        """A keyed, irreversible token for the ``token`` transform: stable for one recipient
        (it can link its own records) and different for each (recipients cannot join)."""
        digest = self.keys.mac("token", recipient.encode() + b"\x00" + canonical)
        return "tok_" + base64.b32encode(digest[:20]).decode("ascii").lower()

    def history(self, customer_id: str, include_held: bool = False) -> list[InclusionProof]:
        """Who saw this customer's data, with proofs: :func:`needtoknow.vault.history.of`."""
        return history.of(self, customer_id, include_held)

    def signed_history(
        self, customer_id: str, include_held: bool = False
    ) -> tuple[list[InclusionProof], TreeHead]:
        """:meth:`history` and the one signed head its proofs are under (a fresh head when
        there are none, so the answer still shows how big the ledger is)."""
        proofs = self.history(customer_id, include_held)
        return proofs, proofs[0].head if proofs else self.ledger.sign_head()

    def history_document(self, customer_id: str, include_held: bool = False) -> dict[str, Any]:
        """:meth:`history` as the CLI prints it and the API answers: the entries with
        their proofs and the one signed tree head they are proved under (a fresh head
        when there are none, so the answer still shows how big the ledger is)."""
        proofs, head = self.signed_history(customer_id, include_held)
        return {
            "customer_id": customer_id,
            "signed_tree_head": head.to_json(),
            "entries": [p.to_json() for p in proofs],
        }

    def _context(self, context: Context | None) -> Context:
        """The request's context at the vault's own time: agreements are judged, and
        ledger entries stamped, by the vault's clock, never by a time the caller sends."""
        if context is None:
            return Context(now=self.clock(), request_id=self.request_id)
        return replace(context, now=self.clock(), request_id=context.request_id or self.request_id)

    def explain(
        self, recipient: str, purpose: str, context: Context | None = None
    ) -> dict[str, object]:
        return self.engine.explain(recipient, purpose, self._context(context))

    def explain_collection(self, policy: Policy | None = None) -> dict[str, Any]:
        """What ``policy`` (default: the active one) lets the vault collect and for which
        purposes, with how many live customers hold each category now."""
        active = self.engine.policy
        policy = policy or active
        registry = (
            self.registry if policy is active else load_stored_policy(policy.source, policy.name)[1]
        )
        with reading(self.db) as conn:
            held = Counter(c for _, categories in store.live_categories(conn) for c in categories)
        return explain_collection(policy, registry, held)

    # -- keys (needtoknow.vault.keychanges) ----------------------------------------------

    def rotate_keys(
        self, batch: int = 500, progress: Callable[[int], None] | None = None
    ) -> RotationResult:
        """:func:`needtoknow.vault.keychanges.rotate_keys`."""
        return keychanges.rotate_keys(self, batch, progress)

    def rewrap(self, batch: int = 500, progress: Callable[[int], None] | None = None) -> int:
        """:func:`needtoknow.vault.keychanges.rewrap`."""
        return keychanges.rewrap(self, batch, progress)

    def key_inventory(self) -> dict[str, Any]:
        """:func:`needtoknow.vault.keychanges.inventory`."""
        return keychanges.inventory(self)

    def rotate_signing_key(self) -> TreeHead:
        """:func:`needtoknow.vault.keychanges.rotate_signing_key`."""
        return keychanges.rotate_signing_key(self)

    def retire_key(self, version: int) -> None:
        """:func:`needtoknow.vault.keychanges.retire_key`."""
        keychanges.retire_key(self, version)
