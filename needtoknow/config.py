"""Where a vault lives: settings from the environment, ``init`` and ``open``.

Embedded defaults just work: ``$NTK_HOME`` (default ``./.ntk``) holds ``vault.db``
(SQLite, WAL) and ``keys.json`` (mode 0600). A deployment points
``NTK_DATABASE_URL`` at PostgreSQL and sets ``NTK_KEY_PROVIDER=pkcs11`` with
``NTK_PKCS11_MODULE``, ``NTK_PKCS11_TOKEN`` and ``NTK_PKCS11_PIN`` for an HSM.
"""

from __future__ import annotations

import getpass
import logging
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import sqlalchemy as sa

from needtoknow.crypto.keys import KeyProvider, LocalKeyFile
from needtoknow.errors import KeyProviderError, NeedToKnowError
from needtoknow.guards.network import is_loopback
from needtoknow.ledger import Entry, Ledger
from needtoknow.policy import load_policy_text, load_stored_policy
from needtoknow.records.outbox import Smtp
from needtoknow.records.scope import Clock
from needtoknow.records.versions import store_version
from needtoknow.rights.senders import Messenger, SmsWebhook
from needtoknow.storage import connect, migrate
from needtoknow.storage.database import is_current, reading
from needtoknow.storage.schema import policies
from needtoknow.vault import Vault
from needtoknow.vault.vault import utc_now

log = logging.getLogger("needtoknow.config")


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    key_provider: str = "local"
    pkcs11_module: str | None = None
    pkcs11_token: str = "needtoknow"
    pkcs11_pin: str | None = None
    # Who is acting (a service account, an operator): recorded on every ledger entry.
    actor: str = "library"
    # "full": a read's ledger entry is fsynced before data is returned; "normal" trades
    # that for speed on SQLite (see Vault).
    ledger_sync: str = "full"
    # DuckDB's memory for aggregate reports; past it, work spills under events/.spill.
    events_memory: str = "512MB"
    # Where customer notices are delivered (ntk notice send); tests use a local server.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "privacy@nextraone.example"
    # starttls, implicit or plain (loopback only); unset: plain on loopback, else starttls
    smtp_tls: str = "plain"
    smtp_ca_file: Path | None = None  # trusted for the SMTP server (default: the system's)
    # An SMS gateway's HTTP API for one-time codes to telephones (rights.senders.SmsWebhook)
    sms_url: str | None = None
    sms_token: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get("NTK_HOME", ".ntk")).absolute()
        smtp_host = env.get("NTK_SMTP_HOST", "127.0.0.1")
        return cls(
            home=home,
            database_url=env.get("NTK_DATABASE_URL") or f"sqlite:///{home / 'vault.db'}",
            key_provider=env.get("NTK_KEY_PROVIDER", "local"),
            pkcs11_module=env.get("NTK_PKCS11_MODULE"),
            pkcs11_token=env.get("NTK_PKCS11_TOKEN", "needtoknow"),
            pkcs11_pin=env.get("NTK_PKCS11_PIN"),
            actor=env.get("NTK_ACTOR") or f"user:{getpass.getuser()}",
            ledger_sync=env.get("NTK_LEDGER_SYNC", "full"),
            events_memory=env.get("NTK_EVENTS_MEMORY", "512MB"),
            smtp_host=smtp_host,
            smtp_port=int(env.get("NTK_SMTP_PORT", "25")),
            smtp_sender=env.get("NTK_SMTP_FROM", "privacy@nextraone.example"),
            smtp_tls=env.get("NTK_SMTP_TLS") or ("plain" if is_loopback(smtp_host) else "starttls"),
            smtp_ca_file=Path(env["NTK_SMTP_CA_FILE"]) if env.get("NTK_SMTP_CA_FILE") else None,
            sms_url=env.get("NTK_SMS_URL") or None,
            sms_token=env.get("NTK_SMS_TOKEN", ""),
        )

    def smtp(self) -> Smtp:
        """Where e-mail goes (raises ValidationError for an unsafe combination)."""
        return Smtp(
            self.smtp_host, self.smtp_port, self.smtp_sender, self.smtp_tls, self.smtp_ca_file
        )

    def messenger(self) -> Messenger:
        """E-mail over :meth:`smtp`, and SMS through NTK_SMS_URL when it is set."""
        sms = SmsWebhook(self.sms_url, self.sms_token) if self.sms_url else None
        return Messenger(self.smtp(), sms)

    @property
    def key_file(self) -> Path:
        return self.home / "keys.json"

    @property
    def restore_pending(self) -> Path:
        """Where ``ntk restore`` keeps the ledger after a backup until the restore is
        finished (``needtoknow.backups``; ``ntk doctor`` fails while it is there)."""
        return self.home / "restore.pending"

    @property
    def events_dir(self) -> Path:
        """The usage-event store (Parquet files)."""
        return self.home / "events"

    def database_url_safe(self) -> str:
        """The database URL with any password hidden, for messages."""
        return sa.engine.make_url(self.database_url).render_as_string(hide_password=True)


def demo_policy_text() -> str:
    """The NextraOne policy shipped with the package (``policies/nextraone.yaml``)."""
    return resources.files("needtoknow.policy").joinpath("nextraone.yaml").read_text("utf-8")


def _key_provider(settings: Settings, create: bool) -> KeyProvider:
    if settings.key_provider == "local":
        if create:
            return LocalKeyFile.create(settings.key_file)
        return LocalKeyFile(settings.key_file)
    if settings.key_provider == "pkcs11":
        from needtoknow.crypto.pkcs11 import Pkcs11Keys

        if not settings.pkcs11_module or settings.pkcs11_pin is None:
            raise KeyProviderError("pkcs11 needs NTK_PKCS11_MODULE and NTK_PKCS11_PIN")
        return Pkcs11Keys(
            settings.pkcs11_module, settings.pkcs11_token, settings.pkcs11_pin, create=create
        )
    raise KeyProviderError(f"unknown key provider {settings.key_provider!r} (local or pkcs11)")


def _owner_only(home: Path) -> None:
    """The home holds the database and the key file: owner only. A home made with a
    looser mode (by hand, or by ``mkdir`` before ``ntk init``) is set to 0700, and a
    log line says so; a home that does not exist (PostgreSQL with an HSM) is left be."""
    try:
        mode = stat.S_IMODE(home.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        home.chmod(0o700)
        log.warning("vault home %s was mode %03o; set to 0700 (owner only)", home, mode)


def init_vault(
    settings: Settings,
    policy_text: str | None = None,
    policy_source: str = "",
    clock: Clock = utc_now,
) -> Vault:
    """Create a vault: home directory, keys, schema, the active policy and its agreements."""
    text = policy_text if policy_text is not None else demo_policy_text()
    policy, registry = load_policy_text(text, policy_source or "nextraone.yaml")
    settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    _owner_only(settings.home)
    db = connect(settings.database_url)
    migrate(db)
    with reading(db) as conn:
        if conn.execute(sa.select(policies.c.version).limit(1)).first() is not None:
            raise NeedToKnowError(f"a vault already exists at {settings.database_url_safe()}")
    keys = _key_provider(settings, create=True)
    vault = Vault(db, keys, policy, registry, clock, settings.actor, settings.ledger_sync)
    now = clock()
    with db.begin() as conn:
        store_version(conn, policy, loaded_at=now, active=True, effective_at=now, activated_at=now)
        change = Entry(
            kind="policy_change",
            time=now,
            actor=settings.actor,
            policy_version=policy.version,
            detail={"policy": policy.name, "change": "initial"},
        )
        Ledger.append(conn, change)
        vault.agreements.seed(conn, policy.agreements)
    return vault


def open_vault(
    settings: Settings,
    clock: Clock = utc_now,
    keys: KeyProvider | None = None,
    db: sa.Engine | None = None,
    restoring: bool = False,
) -> Vault:
    """Open an existing vault with its active policy. While a restore is unfinished the
    database holds a backup's copy whose later erasures are not carried out yet, so only
    the restore itself (and ``ntk doctor``, which says so) may open it: ``restoring``."""
    _owner_only(settings.home)
    if not restoring and settings.restore_pending.exists():
        raise NeedToKnowError(
            f"a restore is unfinished ({settings.restore_pending}): the database holds a "
            "backup's copy whose later erasures are not carried out yet; run 'ntk restore' "
            "again with the same backup"
        )
    db = db or connect(settings.database_url)
    try:
        with reading(db) as conn:
            row = conn.execute(
                sa.select(policies.c.source, policies.c.version).where(policies.c.active.is_(True))
            ).first()
    except sa.exc.DBAPIError:  # no such table: SQLite says Operational, PostgreSQL Programming
        row = None
    if row is None:
        raise NeedToKnowError(f"no vault at {settings.database_url_safe()}; run 'ntk init'")
    if not is_current(db):
        migrate(db)
    policy, registry = load_stored_policy(row.source, f"policy {row.version[:12]}")
    keys = keys or _key_provider(settings, create=False)
    vault = Vault(db, keys, policy, registry, clock, settings.actor, settings.ledger_sync)
    vault.scrub_pending()  # an erasure's scrub a reader blocked, or a crash cut short
    return vault
