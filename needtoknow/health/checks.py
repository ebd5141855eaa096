"""Checks of a running vault's setup that no single operation would notice.

Each check says what it saw and, when it fails, what to do. ``fail`` means the vault's
promises do not hold as configured (a key file others can read, erased bytes still on
disk, a ledger with entries no signature covers past a deleted head); ``warn`` means
they hold but something is due (a tail to sign). `ntk serve`'s own TLS is its flags',
checked when it starts. Nothing here reads a customer's values.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa

from needtoknow.config import Settings, open_vault
from needtoknow.crypto.keys import SIGNING_FILE
from needtoknow.errors import NeedToKnowError, PolicyError
from needtoknow.guards.network import is_loopback
from needtoknow.ledger import log
from needtoknow.moments import utc_text
from needtoknow.policy import load_policy_text
from needtoknow.storage.database import reading, stored_utc
from needtoknow.storage.schema import ledger_heads
from needtoknow.vault import Vault

Status = Literal["ok", "warn", "fail"]
CLOCK_TOLERANCE = timedelta(seconds=5)


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""

    def to_json(self) -> dict[str, Any]:
        data = {"name": self.name, "status": self.status, "detail": self.detail}
        return {**data, "fix": self.fix} if self.fix else data


def diagnose(settings: Settings) -> list[Check]:
    """Every check, in a fixed order. File modes are checked first, without opening the
    vault (which refuses a key file others can read); a vault that does not open is
    itself a failed check."""
    checks = list(_modes(settings))
    try:
        vault = open_vault(settings, restoring=True)  # an unfinished one is a check
    except NeedToKnowError as exc:
        return [*checks, Check("open", "fail", str(exc), "fix what it says, then run again")]
    try:
        return checks + [check for run in _CHECKS for check in run(settings, vault)]
    finally:
        vault.close()


def _modes(settings: Settings) -> Iterator[Check]:
    """The home 0700, and each file holding keys or data readable by its owner only."""
    home = settings.home
    if home.exists():
        yield _mode("home", home, 0o700, f"chmod 700 {home}")
    files = [settings.key_file, home / SIGNING_FILE] if settings.key_provider == "local" else []
    if settings.database_url.startswith("sqlite:///"):
        database = Path(settings.database_url.removeprefix("sqlite:///"))
        files += [database, database.with_name(database.name + "-wal")]
    for path in files:
        if path.exists():
            yield _mode(path.name, path, 0o600, f"chmod 600 {path}")


def _mode(name: str, path: Path, most: int, fix: str) -> Check:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & ~most & 0o077:
        return Check(f"mode:{name}", "fail", f"{path} is mode {mode:o}: others may read it", fix)
    return Check(f"mode:{name}", "ok", f"{path} is mode {mode:o}")


def _signing_key(settings: Settings, vault: Vault) -> Iterator[Check]:
    """The ledger signing key lives apart from the KEKs (its own file, or the HSM)."""
    if settings.key_provider != "local":
        yield Check("signing_key", "ok", f"kept by the {settings.key_provider} provider")
        return
    keys = json.loads(settings.key_file.read_text("utf-8"))
    if "ledger_signing" in keys:  # the vault moves it out when it opens: a copy came back
        yield Check(
            "signing_key",
            "fail",
            "the KEK file holds a ledger signing key again (restored from a backup?)",
            "remove 'ledger_signing' from keys.json once ledger-signing.json holds that key",
        )
        return
    count = len(vault.keys.signing_keys())
    yield Check("signing_key", "ok", f"in {SIGNING_FILE}; {count} key(s) known")


def _policy(settings: Settings, vault: Vault) -> Iterator[Check]:
    """The active version passes today's checks: a version stored before a check was
    added still loads (the vault must read its own history), but what the check closes
    stays open until a corrected version is active."""
    try:
        load_policy_text(vault.policy.source, f"policy {vault.policy.version[:12]}")
    except PolicyError as exc:
        yield Check(
            "policy",
            "fail",
            f"the active policy fails a check added since it was stored: {exc}",
            "correct it and post the new version: 'ntk policy propose FILE'",
        )
        return
    yield Check("policy", "ok", f"{vault.policy.name} {vault.policy.version[:12]}")


def _scrubs(settings: Settings, vault: Vault) -> Iterator[Check]:
    """Erased bytes still in SQLite's files (a reader held a snapshot at the time)."""
    vault.scrub_pending()
    pending = vault.pending_scrubs()
    if pending:
        yield Check(
            "erasure_scrub",
            "fail",
            f"{len(pending)} erasure(s) may still have bytes in the database files",
            "stop long-running readers of the vault (backups, open shells) and run "
            "'ntk doctor' again; each open retries",
        )
    else:
        yield Check("erasure_scrub", "ok", "no erased bytes left to scrub")


def _restore(settings: Settings, vault: Vault) -> Iterator[Check]:
    """A restore cut short: the database is the backup's, and the ledger entries after
    it — the erasures to carry out again among them — wait in ``restore.pending``."""
    pending = settings.restore_pending
    if pending.exists():
        backup = json.loads(pending.read_bytes().split(b"\n", 1)[0]).get("sha256", "?")
        yield Check(
            "restore",
            "fail",
            f"a restore of the backup with SHA-256 {backup[:16]}… was cut short: erasures "
            "after it may not be carried out again yet",
            "run 'ntk restore' again with the same backup",
        )
    else:
        yield Check("restore", "ok", "no restore unfinished")


def _ledger(settings: Settings, vault: Vault) -> Iterator[Check]:
    """Every entry covered by a signed head; the signed mark exactly at the newest, the
    sealed mark no lower (higher only while a seal is under way, or cut off)."""
    with reading(vault.db) as conn:  # one snapshot: a server may sign meanwhile
        state = log.state(conn)
        signed = int(conn.execute(sa.select(sa.func.max(ledger_heads.c.tree_size))).scalar() or 0)
    if state.signed != signed or state.sealed < signed or state.size < signed:
        yield Check(
            "ledger_heads",
            "fail",
            f"the ledger says {state.signed} entries are signed and {state.sealed} sealed, "
            f"but signed heads cover {signed}",
            "run 'ntk ledger verify --witness' with a head saved outside the vault",
        )
    elif state.size > signed:
        sealed = state.sealed - signed
        yield Check(
            "ledger_heads",
            "warn",
            f"{state.size - signed} entries past the newest signed head"
            + (f" ({sealed} of them sealed, a seal under way or cut off)" if sealed else ""),
            "run 'ntk ledger sth' (or 'ntk serve', which signs every --sth-every seconds)",
        )
    else:
        yield Check("ledger_heads", "ok", f"{state.size} entries, all under a signed head")


def _database_transport(settings: Settings, vault: Vault) -> Iterator[Check]:
    """A database across a network is reached over TLS (PostgreSQL ``sslmode``)."""
    url = sa.engine.make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return
    host = url.host or "localhost"
    mode = str(url.query.get("sslmode", ""))
    if is_loopback(host) or host.startswith("/") or mode in {"require", "verify-ca", "verify-full"}:
        yield Check("database_tls", "ok", f"{host}: {mode or 'loopback'}")
    else:
        yield Check(
            "database_tls",
            "fail",
            f"{host} is not loopback and sslmode is {mode or 'unset'}",
            "add ?sslmode=verify-full to NTK_DATABASE_URL",
        )


def _smtp_transport(settings: Settings, vault: Vault) -> Iterator[Check]:
    """Customer notices carry addresses and the policy's changes: TLS beyond loopback
    (the outbox refuses to send otherwise; this says so before a send fails)."""
    host, tls = settings.smtp_host, settings.smtp_tls
    if tls == "plain" and not is_loopback(host):
        yield Check(
            "smtp_tls",
            "fail",
            f"notices to {host} would go in plain text",
            "set NTK_SMTP_TLS=starttls (or implicit)",
        )
    else:
        yield Check("smtp_tls", "ok", f"{host}: {tls}")


def _clock(settings: Settings, vault: Vault) -> Iterator[Check]:
    """Decisions and entries are stamped by the vault's clock: it must agree with the
    database server's, and never run behind the ledger's newest entry."""
    now = vault.clock()
    with reading(vault.db) as conn:
        newest = _newest_entry_time(conn)
        server = (
            stored_utc(conn.execute(sa.select(sa.func.now())).scalar_one())
            if vault.db.dialect.name == "postgresql"
            else None
        )
    if server is not None and abs(server - now) > CLOCK_TOLERANCE:
        yield Check(
            "clock",
            "fail",
            f"this host's clock is {(now - server).total_seconds():+.1f} s from the database's",
            "synchronise both clocks (NTP)",
        )
    elif newest is not None and newest - now > CLOCK_TOLERANCE:
        yield Check(
            "clock",
            "fail",
            f"the newest ledger entry is {(newest - now).total_seconds():.1f} s in the future",
            "synchronise this host's clock (NTP); check who wrote that entry",
        )
    else:
        yield Check("clock", "ok", f"now {utc_text(now)}")


def _newest_entry_time(conn: sa.Connection) -> datetime | None:
    state = log.state(conn)
    if state.size == 0:
        return None
    try:
        entry = json.loads(log.entry_at(conn, state.size - 1))
        return datetime.fromisoformat(entry["time"].replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError, sa.exc.NoResultFound):
        return None  # verification reports a broken entry; the clock check cannot use it


_CHECKS: tuple[Callable[[Settings, Vault], Iterator[Check]], ...] = (
    _signing_key,
    _policy,
    _scrubs,
    _restore,
    _ledger,
    _database_transport,
    _smtp_transport,
    _clock,
)
