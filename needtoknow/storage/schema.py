"""The tables. Nothing here holds plaintext PII: values are AES-GCM ciphertext,
lookups are keyed HMAC digests, and the rest is ids, versions and timestamps."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# A ledger index: PostgreSQL's bigint; SQLite's INTEGER, the one key type that is the
# table's rowid (see ledger_entries).
ENTRY_INDEX = BigInteger().with_variant(Integer(), "sqlite")

customers = Table(
    "customers",
    metadata,
    Column("id", String(36), primary_key=True),
    # The customer's data-encryption key, wrapped by KEK `kek_version`. NULL once
    # erased: crypto-shredding leaves only this tombstone row.
    Column("dek_version", Integer, nullable=False),
    Column("kek_version", Integer, nullable=True, index=True),
    Column("wrapped_dek", LargeBinary, nullable=True),
    # category → AES-GCM ciphertext, framed by needtoknow.storage.store.pack_fields.
    Column("sealed_fields", LargeBinary, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("erased_at", DateTime(timezone=True), nullable=True),
    # The account's life (needtoknow.lifecycle): retention counts from the closure; the
    # services it held (policy `settings.services`) decide which statutory holds apply.
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("closed_reason", String(32), nullable=True),  # a word of CLOSE_REASONS
    Column("services", Text, nullable=True),  # JSON list of service names
    # Categories past their purposes but kept under a hold: category → the purposes
    # they may still be read for, framed by needtoknow.storage.store.pack_held.
    Column("held", LargeBinary, nullable=True),
    Index("customers_closed_at", "closed_at"),
)

blind_indexes = Table(
    "blind_indexes",
    metadata,
    Column("category", String(64), primary_key=True),
    Column("digest", LargeBinary(32), primary_key=True),
    Column(
        "customer_id",
        String(36),
        ForeignKey("customers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # A customer's digests of some categories (a correction replaces them): both columns,
    # or SQLite's planner takes the primary key's leading category and walks them all.
    Index("blind_indexes_customer", "customer_id", "category"),
)

policies = Table(
    "policies",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("source", Text, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),  # proposed (posted)
    Column("active", Boolean, nullable=False, default=False),
    # A version's life (needtoknow.records.versions): posted with its changes and the date it may
    # take effect; activated; retired when another version is activated.
    Column("material", Boolean, nullable=True),
    Column("changes", Text, nullable=True),  # JSON list of policy.diff.Change
    Column("effective_at", DateTime(timezone=True), nullable=True),
    Column("activated_at", DateTime(timezone=True), nullable=True),
    Column("retired_at", DateTime(timezone=True), nullable=True),
)

# The ledger: an append-only RFC 6962 log (see needtoknow.ledger). `idx` is the leaf
# index: gapless, assigned under the lock on ledger_state's single row.
ledger_state = Table(
    "ledger_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    # Entries indexed and hashed into the stored nodes, up to this size:
    Column("sealed", BigInteger, nullable=False),
    # The newest signed head's size (at most ``sealed``), moved in that head's transaction:
    Column("signed", BigInteger, nullable=False, server_default="0"),
)

# On SQLite `idx` is declared INTEGER, which makes it the rowid: an entry is one row of
# one B-tree (a BIGINT key is a second B-tree beside a hidden rowid, written on every
# append and read through on every lookup), and only integers fit (a forged 3.5 or
# 'abc' is refused by the database itself; a NULL would be given the next rowid, but
# every append names its index).
ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("idx", ENTRY_INDEX, primary_key=True, autoincrement=False),
    Column("entry", LargeBinary, nullable=False),  # canonical JSON: what is hashed
    Column("leaf_hash", LargeBinary(32), nullable=False),
)

# Which entries concern which customer ("who saw my data"): derived from the entries
# (customer_id and customer_ids) when they are sealed, and checked by verification. On
# SQLite the rows live in the key's B-tree (a customer's history is one range) and the
# index by entry holds both columns (verification reads a window of entries from it
# alone).
ledger_customers = Table(
    "ledger_customers",
    metadata,
    Column("customer_id", String(200), primary_key=True),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Index("ledger_customers_by_entry", "idx"),
    sqlite_with_rowid=False,
)

# Who received what, when: the allowed reads and lookups by actor and by recipient.
# Derived from the entries at seal and checked by verification; an incident scope reads
# one party's time window through the index by party instead of bisecting the log on
# time. The rows are kept in entry order (on SQLite, in the key's B-tree): verification
# reads every row, a window of entries at a time, and a scope only some.
ledger_receipts = Table(
    "ledger_receipts",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("party", String(300), primary_key=True),
    Column("at", BigInteger, nullable=False),
    Column("customer_id", String(200), nullable=False),
    Column("categories", Text, nullable=False),
    Index("ledger_receipts_by_party", "party", "at"),
    sqlite_with_rowid=False,
)

# Subtree hashes, written at seal and read by proofs by their key alone: on SQLite the
# rows live in the key's B-tree (no rowid table behind a second one).
ledger_nodes = Table(
    "ledger_nodes",
    metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
    sqlite_with_rowid=False,
)

ledger_heads = Table(
    "ledger_heads",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("public_key", LargeBinary, nullable=False),
)

# The agreement registry: which contractor is bound to which purposes, until when, and
# (for customer-scoped agreements) for which customers. `registry_state.version` changes
# with every edit so every process rebuilds its compiled policy.
agreements = Table(
    "agreements",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("recipient", String(100), nullable=False, index=True),
    Column("purposes", Text, nullable=False),  # JSON list of purpose names
    Column("reference", String(200), nullable=False),
    Column("starts", Date, nullable=False),
    Column("expires", Date, nullable=False),
    Column("customer_scoped", Boolean, nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

agreement_customers = Table(
    "agreement_customers",
    metadata,
    Column(
        "agreement_id",
        String(100),
        ForeignKey("agreements.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("customer_id", String(36), primary_key=True, index=True),
)

registry_state = Table(
    "registry_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)

# Legal disclosure requests (four eyes: requested by one person, approved by another).
disclosure_requests = Table(
    "disclosure_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("authority", String(100), nullable=False),
    Column("purpose", String(100), nullable=False),
    Column("legal_basis", String(200), nullable=False),  # e.g. "IT Act 2000 s.69"
    Column("reference", String(200), nullable=False),  # the order or notice number
    Column("scope", Text, nullable=False),  # JSON: customer_ids, categories, period
    Column("case_owner", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("requested_by", String(200), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(200), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("reason", Text, nullable=True),
    Column("non_disclosure_until", Date, nullable=True),
    Column("released_at", DateTime(timezone=True), nullable=True),
    Column("package_sha256", String(64), nullable=True),
)

# Notices owed to customers (a disclosure of their data); held while a non-disclosure
# order runs. Delivery is a later part (the notification outbox).
customer_notices = Table(
    "customer_notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", String(36), nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("subject_id", String(36), nullable=False),  # e.g. the disclosure request
    Column("hold_until", Date, nullable=True),
    Column("status", String(20), nullable=False),  # held, due
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=True),
    # Held notices whose order has run out are looked for at every history read.
    Index("customer_notices_held", "status", "hold_until"),
)

# API keys: one per calling service, bound to one recipient. Only SHA-256 of the secret
# is stored; the id is public (listings, logs, ledger entries).
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("recipient", String(100), nullable=False, index=True),
    Column("secret_sha256", LargeBinary(32), nullable=False),
    Column("scopes", Text, nullable=False),  # space-separated
    Column("label", String(200), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

# Differential-privacy budgets: what each recipient has spent per month of usage data
# (the budget itself is the policy's). Updated under a row lock in the transaction that
# records the charge, so two reports can never both spend the last of a budget.
privacy_budgets = Table(
    "privacy_budgets",
    metadata,
    Column("recipient", String(100), primary_key=True),
    Column("period", String(7), primary_key=True),  # YYYY-MM
    Column("epsilon_spent", Double, nullable=False),
    Column("delta_spent", Double, nullable=False),
)

privacy_charges = Table(
    "privacy_charges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recipient", String(100), nullable=False),
    Column("period", String(7), nullable=False),
    Column("report", String(100), nullable=False),
    Column("spec_sha256", String(64), nullable=False),
    Column("epsilon", Double, nullable=False),
    Column("delta", Double, nullable=False),
    Column("charged_at", DateTime(timezone=True), nullable=False),
    Column("ledger_index", BigInteger, nullable=False),
)

# A released report whole (its JSON document): aggregates under differential privacy,
# no PII, kept so it can be shown again (``ntk report show``) without a second charge.
# Its rows' SHA-256 is in the release's ledger entry, so a changed row is detected.
report_releases = Table(
    "report_releases",
    metadata,
    Column("ledger_index", BigInteger, primary_key=True),
    Column("recipient", String(100), nullable=False, index=True),
    Column("report", String(100), nullable=False),
    Column("released_at", DateTime(timezone=True), nullable=False),
    Column("document", Text, nullable=False),
)

# Consents (DPDP Act s.6): one row per grant, closed by its withdrawal. A purpose whose
# legal basis is consent is served for a customer only while a row is open.
consents = Table(
    "consents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", String(36), nullable=False),
    Column("purpose", String(100), nullable=False),
    Column("notice_version", String(64), nullable=False),  # the policy version shown
    Column("channel", String(50), nullable=False),
    Column("evidence_sha256", String(64), nullable=False),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    Column("granted_by", String(200), nullable=False),
    Column("withdrawn_at", DateTime(timezone=True), nullable=True),
    Column("withdrawn_channel", String(50), nullable=True),
    # given through a consent manager (DPDP Act s.6(7)): which, and its artefact's id
    Column("manager", String(100), nullable=True),
    Column("artefact_id", String(200), nullable=True),
    Index("consents_open", "customer_id", "purpose", "withdrawn_at"),
)

# Each signed event a consent manager sent, by its id: the same id again is the same
# event (answered as before) or a replay with other content (refused).
consent_manager_events = Table(
    "consent_manager_events",
    metadata,
    Column("manager", String(100), primary_key=True),
    Column("event_id", String(200), primary_key=True),
    Column("body_sha256", String(64), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("outcome", String(20), nullable=False),  # grant, withdraw, superseded
    # what it was about and when the manager issued it: an event issued before the last
    # one applied to the same consent (or before a withdrawal by any channel) is not
    # applied, so events arriving out of order cannot bring a withdrawn consent back
    Column("customer_id", String(36), nullable=True),
    Column("purpose", String(100), nullable=True),
    Column("issued_at", DateTime(timezone=True), nullable=True),
)

# The notification outbox: one row per (policy version, customer) to tell, so a notice is
# queued once however often it is queued, and sent (at most) once.
notifications = Table(
    "notifications",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("customer_id", String(36), primary_key=True),
    Column("status", String(10), nullable=False),  # pending, sent, failed, skipped
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("last_error", String(100), nullable=True),  # an exception class, never a message
)

# Erasures (and consent withdrawals that deleted fields) whose deleted bytes may still
# sit in SQLite's files: recorded in the deleting transaction, removed by the first WAL
# scrub that completes after it (needtoknow.storage.scrubs). Ids and times only.
pending_scrubs = Table(
    "pending_scrubs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", String(36), nullable=False),
    Column("kind", String(20), nullable=False),  # erase, withdrawal
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

# Legal holds placed by hand (`ntk hold place`): these categories of this customer are
# kept through erasure requests and retention runs until `until`, readable meanwhile
# only for `readable_for`. The statutory holds are the policy's (`holds:`).
legal_holds = Table(
    "legal_holds",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("customer_id", String(36), nullable=False, index=True),
    Column("categories", Text, nullable=False),  # JSON list
    Column("basis", String(200), nullable=False),  # e.g. "Court order CS 12/2026"
    Column("readable_for", Text, nullable=False),  # JSON list of purposes
    Column("until", Date, nullable=False),
    Column("placed_by", String(200), nullable=False),
    Column("placed_at", DateTime(timezone=True), nullable=False),
    Column("released_by", String(200), nullable=True),
    Column("released_at", DateTime(timezone=True), nullable=True),
)

# Erasure instructions: a recipient that received data under an agreement is told to
# erase its copy when the vault erases the original, and acknowledges by a deadline.
erasure_instructions = Table(
    "erasure_instructions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("customer_id", String(36), nullable=False, index=True),
    Column("recipient", String(100), nullable=False, index=True),
    Column("categories", Text, nullable=False),  # JSON list
    Column("cause", String(20), nullable=False),  # erasure, withdrawal, retention
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("acknowledged_at", DateTime(timezone=True), nullable=True),
    Column("acknowledged_by", String(200), nullable=True),
)

# Customers' rights requests (DPDP Act ss.11-14): the queue with its deadlines. What the
# customer wrote (a correction's changes, a grievance) and the answer to a grievance are
# notes sealed under a data key of the request's own (crypto.envelope.seal_note), and
# cleared when the request ends or the customer is erased.
rights_requests = Table(
    "rights_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("customer_id", String(36), nullable=False, index=True),
    Column("kind", String(20), nullable=False),  # access, correction, erasure, nomination, ...
    Column("status", String(20), nullable=False),  # open, fulfilled, closed
    Column("verification", String(20), nullable=False),  # pending, verified
    Column("verified_by", String(200), nullable=True),
    Column("verified_method", String(20), nullable=True),  # code, in_person, video_kyc, ...
    Column("nominee_id", String(36), nullable=True),  # a nominee acting for the customer
    Column("details", LargeBinary, nullable=True),  # a sealed note
    Column("resolution", LargeBinary, nullable=True),  # a sealed note
    Column("opened_by", String(200), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False, index=True),
    Column("escalated_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
)

# Staff who sign in to the console: the password only as an Argon2id hash, the TOTP
# secret sealed like a note (storage/notes.py: rewrapped at key rotation); ``failures``
# and ``locked_until`` throttle guessing, ``last_step`` refuses a TOTP code used twice.
staff_accounts = Table(
    "staff_accounts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("totp_secret", LargeBinary, nullable=False),
    Column("last_step", BigInteger, nullable=True),
    Column("failures", Integer, nullable=False),
    Column("locked_until", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True), nullable=True),
    Column("language", String(8), nullable=False, server_default="en"),  # the console's
)

# A signed-in staff member's session: only a MAC of its token; it ends when signed out,
# after an idle spell or a working day (staff/sessions.py).
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", String(36), nullable=False, index=True),
    Column("token_digest", LargeBinary, nullable=False, unique=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
)

# Each verification of the ledger (ntk ledger verify, the console's "verify now"): when,
# by whom, how far, and whether it held — the console shows the newest.
ledger_audits = Table(
    "ledger_audits",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("verified_at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", String(200), nullable=False),
    Column("entries", BigInteger, nullable=False),
    Column("witnesses", Integer, nullable=False),
    Column("ok", Boolean, nullable=False),
    # The index of the run's own `audit` ledger entry (NULL before migration 0029): a
    # later verification starts where this one reached only if that entry agrees.
    Column("ledger_index", BigInteger, nullable=True),
    Column("since", BigInteger, nullable=True),  # where it started; 0: the whole ledger
)

# Incidents (CERT-In Directions 2022; DPDP Act s.8(6), Rules r.7): what happened (the
# summary sealed as a note: staff write it, and it may name people), when it was
# noticed, and who it touched — customers and categories, from the ledger's evidence,
# each scope a new version of what was found, never an overwrite.
incidents = Table(
    "incidents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(60), nullable=False),
    Column("summary", LargeBinary, nullable=True),
    Column("noticed_at", DateTime(timezone=True), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("opened_by", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("closed_by", String(200), nullable=True),
    Column("scope_version", Integer, nullable=False),
)

incident_scopes = Table(
    "incident_scopes",
    metadata,
    Column("incident_id", String(36), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("basis", Text, nullable=False),  # what was asked: key, recipient, actor, window
    Column("added", Integer, nullable=False),  # customers new to the scope
    Column("made_at", DateTime(timezone=True), nullable=False),
    Column("made_by", String(200), nullable=False),
)

incident_customers = Table(
    "incident_customers",
    metadata,
    Column("incident_id", String(36), primary_key=True),
    Column("customer_id", String(36), primary_key=True),
    Column("categories", Text, nullable=False),  # JSON list, grown as scopes add
    Column("since_version", Integer, nullable=False),
    # JSON list of the categories the person's notices named so far (NULL: not told): a
    # scope that adds one makes them due a new notice
    Column("told", Text, nullable=True),
)

# Each step taken on an incident, in order: opened, scoped, revoked, notified (the
# notice's words kept as sent, with their hash), reported (documents made), filed (a
# report made to CERT-In or the Board), closed. Each is also a ledger entry.
incident_steps = Table(
    "incident_steps",
    metadata,
    Column("incident_id", String(36), primary_key=True),
    Column("step", Integer, primary_key=True, autoincrement=False),
    Column("event", String(30), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("detail", Text, nullable=False),  # JSON; names no customer
)

# One-time codes proving a person controls the e-mail or telephone on file: only a MAC
# of each code is stored; a code expires and allows a few attempts.
one_time_codes = Table(
    "one_time_codes",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("subject", String(36), nullable=False, index=True),  # a request or session id
    Column("customer_id", String(36), nullable=True),  # none: the address is not on file
    Column("digest", LargeBinary, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),  # wrong ones
    Column("used_at", DateTime(timezone=True), nullable=True),
)

# Customers signed in to the customer API: who (none while unverified or not on file),
# MACs of the address they gave and of their network address (for rate limits and
# lock-out, never the values), and a MAC of the bearer token once verified.
customer_sessions = Table(
    "customer_sessions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("customer_id", String(36), nullable=True, index=True),
    Column("address_digest", LargeBinary, nullable=False, index=True),
    Column("client_digest", LargeBinary, nullable=False, index=True),
    Column("started_at", DateTime(timezone=True), nullable=False, index=True),
    Column("token_digest", LargeBinary, nullable=True, unique=True),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("failures", Integer, nullable=False, default=0),
)

# Nominees (DPDP Act s.14): who may act for a customer on evidence of death or
# incapacity. Name and contact are a sealed note.
nominees = Table(
    "nominees",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("customer_id", String(36), nullable=False, index=True),
    Column("details", LargeBinary, nullable=True),  # a sealed note: name, email, telephone
    Column("nominated_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("evidence", String(20), nullable=True),  # death, incapacity
    Column("evidence_note", LargeBinary, nullable=True),  # sealed: the certificate's reference
    Column("evidence_checked_by", String(200), nullable=True),
    Column("evidence_at", DateTime(timezone=True), nullable=True),
)

# Children (under 18: DPDP Act s.9): a child's record is stored only with a parent's
# verifiable consent (Rules r.10), recorded here with how the parent was verified — an
# adult customer of ours (guardian_id), or an age verifier's signed token (its id and
# the token's SHA-256: the evidence, never the document) with the parent's contact
# sealed. The parent exercises the child's rights. Deleted with the child's record.
children = Table(
    "children",
    metadata,
    Column("id", String(36), primary_key=True),  # the child's customer id
    Column("guardian_id", String(36), nullable=True, index=True),
    Column("verifier", String(100), nullable=True),
    Column("token_id", String(200), nullable=True),
    Column("evidence_sha256", String(64), nullable=False),
    Column("contact", LargeBinary, nullable=True),  # a sealed note: the parent's e-mail
    Column("consented_at", DateTime(timezone=True), nullable=False),
    Column("recorded_by", String(200), nullable=False),
    UniqueConstraint("verifier", "token_id", name="uq_children_token"),  # one child a token
)

# Imports keyed by the source system's own id (``ntk customer import --key``): a keyed
# MAC of that id (it may be an account number) → the customer it created, kept after
# an erasure so that a re-run neither duplicates a customer nor brings an erased one back.
external_ids = Table(
    "external_ids",
    metadata,
    Column("digest", LargeBinary, primary_key=True),
    Column("customer_id", String(36), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Backups taken with ``ntk backup`` (a copy of this database; never the keys): the file's
# SHA-256, and the ledger's size and root hash in the copy. A restore finds its backup
# here in the database it replaces, so it knows which of that ledger's entries came after
# the copy — the erasures and withdrawals it must carry out again.
backups = Table(
    "backups",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("taken_at", DateTime(timezone=True), nullable=False),
    Column("dialect", String(20), nullable=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("ledger_index", BigInteger, nullable=False),  # the backup's own ledger entry
)

# What identifies the vault's keys without revealing them: an HMAC of a fixed text under
# the index key (crypto.keys.key_check), written before each backup. A restore compares
# it with the key provider's before it takes any KEK version the copy uses for retired.
key_checks = Table(
    "key_checks",
    metadata,
    Column("name", String(20), primary_key=True),
    Column("digest", LargeBinary(32), nullable=False),
)
