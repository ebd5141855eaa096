"""``ntk backup`` and ``ntk restore``: copies of the database that keep erasures erased.

A backup is a point in the past, and the past held data erased since. Two things keep
it erased when a backup comes back:

- **The ledger.** A restore reads, from the database it replaces, every ledger entry
  appended after the backup (the backup's own entry says where that starts), carries
  them over byte for byte — so the log is the one witnesses saw, not a fork — and
  carries out again, in the same transaction, each erasure and each consent withdrawal
  among them. The ledger is the source of truth for what must stay erased.
- **The keys.** When the database it replaces is gone, there is no ledger to read.
  Then what an erasure destroyed since the backup is sealed in the copy under data keys
  wrapped by KEK versions of that time; once those versions are retired (``ntk keys
  rotate``, then ``ntk keys retire`` after the backup retention period) nothing opens
  them, and every restore erases what is left of records sealed only under retired
  versions (the row, its blind indexes, its notes), each with an ``erase`` entry: a
  lookup must not find whom nothing can read. Before that, the copy's key check must be
  the key provider's, and some of the keys of each other version it uses must open; a
  version above the provider's active one was never held by it. Otherwise the key
  provider is another vault's (or an older copy of this one) and the restore stops
  there, before anything is erased.

The tail is written to ``restore.pending`` in the vault's home (``Settings.restore_pending``)
before the database is replaced, so a restore cut short is finished by running it again
with the same backup; ``ntk doctor`` fails until then.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from needtoknow.backups import copies
from needtoknow.config import Settings, open_vault
from needtoknow.crypto import envelope
from needtoknow.crypto.keys import KeyProvider, key_check, retired
from needtoknow.errors import IntegrityError, LedgerTampered, NeedToKnowError, ValidationError
from needtoknow.guards.output import replacing
from needtoknow.ledger import Ledger, log, merkle
from needtoknow.moments import utc_text
from needtoknow.records.shred import shred
from needtoknow.storage import connect, notes, scrubs, store
from needtoknow.storage.database import reading
from needtoknow.storage.schema import backups, consents, key_checks
from needtoknow.vault import Vault
from needtoknow.vault.vault import utc_now

BATCH = 1000
SAMPLES = 5  # keys of each KEK version a restore tries: one damaged key is not the keys


@dataclass(frozen=True)
class Backup:
    path: str
    sha256: str
    dialect: str
    tree_size: int  # ledger entries in the copy
    root_hash: bytes
    ledger_index: int  # the backup's own entry, in the ledger it was taken from
    taken_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "dialect": self.dialect,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "ledger_index": self.ledger_index,
            "taken_at": utc_text(self.taken_at),
        }


@dataclass(frozen=True)
class Restored:
    sha256: str
    tree_size: int  # ledger entries in the backup
    ledger_after_backup: str  # "carried" over from the database replaced, or "unavailable"
    carried: int  # entries carried over
    erasures: int  # customers (or some of their categories) erased again
    withdrawals: int  # consents withdrawn again
    unopenable: int  # records sealed under retired KEK versions, erased by the restore

    def to_json(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "tree_size": self.tree_size,
            "ledger_after_backup": self.ledger_after_backup,
            "carried": self.carried,
            "erasures": self.erasures,
            "withdrawals": self.withdrawals,
            "unopenable": self.unopenable,
        }


def back_up(vault: Vault, dest: Path) -> Backup:
    """Copy the vault's database to ``dest`` (a new file: an existing one is refused),
    then ledger the copy — its SHA-256 and the ledger's size and root in it."""
    dest = dest.absolute()
    if dest.exists():
        raise ValidationError("dest", "backup", "exists", "a path that does not exist yet")
    if vault.db.dialect.name == "sqlite" and dest == Path(str(vault.db.url.database)).absolute():
        raise ValidationError("dest", "backup", "is_database", "a path other than the database")
    with vault.db.begin() as conn:  # the copy must say whose keys open it
        _keep_key_check(conn, key_check(vault.scope.keys))
    size = copies.dump(vault.db, dest)
    vault.ledger.sign_head()  # sealed past the copy's size: the stored tree gives its root
    with reading(vault.db) as conn:
        root = merkle.root(log.StoredTree(conn), size)
    digest = copies.sha256_of(dest)
    now = vault.clock()
    detail = {
        "sha256": digest,
        "dialect": vault.db.dialect.name,
        "tree_size": size,
        "root_hash": root.hex(),
    }
    with vault.db.begin() as conn:
        index = Ledger.append(conn, vault.scope.entry("backup", time=now, detail=detail))
        conn.execute(
            backups.insert().values(
                sha256=digest,
                taken_at=now,
                dialect=vault.db.dialect.name,
                tree_size=size,
                root_hash=root,
                ledger_index=index,
            )
        )
    return Backup(str(dest), digest, vault.db.dialect.name, size, root, index, now)


def _keep_key_check(conn: sa.Connection, digest: bytes) -> None:
    """Store the key check unless it is there: the same for every backup of a vault, so
    two backups at once may both try (an insert that finds the row ignores it)."""
    insert = (sqlite_insert if conn.dialect.name == "sqlite" else pg_insert)(key_checks)
    conn.execute(insert.values(name="index", digest=digest).on_conflict_do_nothing())


def restore(settings: Settings, src: Path, clock: Any = utc_now) -> Restored:
    """Replace the vault's database with the backup ``src``, carry over the ledger
    entries appended since it was taken, carry out again the erasures and withdrawals
    among them, and ledger the restore. The service must be stopped first."""
    engine = connect(settings.database_url)
    copies.check_kind(engine, src)
    digest = copies.sha256_of(src)
    pending = settings.restore_pending
    if pending.exists():
        header = _header(pending)
        if header["sha256"] != digest:
            raise NeedToKnowError(
                f"a restore of another backup (SHA-256 {header['sha256'][:16]}…) is "
                f"unfinished: run it again with that backup, or remove {pending}"
            )
    else:
        settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_tail(settings, engine, digest, pending)
        header = _header(pending)
    copies.load(engine, src)
    vault = open_vault(settings, clock=clock, db=engine, restoring=True)  # migrates a copy
    try:
        restored = _carry_over(vault, pending, header, _retired_in_copy(vault))
    finally:
        vault.close()
    pending.unlink()
    return restored


def _write_tail(settings: Settings, engine: sa.Engine, digest: str, pending: Path) -> None:
    """What the database about to be replaced knows of this backup and the ledger after
    it: a header line, then each later entry's canonical JSON, a line each."""
    try:
        vault = open_vault(settings, db=engine)
    except NeedToKnowError:  # no vault here: a new machine, or the database is lost
        vault = None
    with replacing(pending) as partial, partial.open("wb") as out:
        if vault is None:
            header = {"sha256": digest, "tree_size": None, "root_hash": None}
            out.write(json.dumps(header).encode() + b"\n")
        else:
            try:
                _write_entries(vault, digest, out)
            finally:
                vault.close()


def _write_entries(vault: Vault, digest: str, out: Any) -> None:
    with reading(vault.db) as conn:
        row = conn.execute(sa.select(backups).where(backups.c.sha256 == digest)).first()
    if row is None:
        raise ValidationError(
            "backup",
            "restore",
            "unknown",
            "a backup this vault's ledger recorded (ntk backup); to restore another, "
            "move the current database away first",
        )
    vault.ledger.sign_head()  # the stored tree gives the root at the backup's size
    with reading(vault.db) as conn:
        if merkle.root(log.StoredTree(conn), row.tree_size) != row.root_hash:
            raise LedgerTampered()
        header = {"sha256": digest, "tree_size": row.tree_size, "root_hash": row.root_hash.hex()}
        out.write(json.dumps(header).encode() + b"\n")
        for _, data, _ in log.entries(conn, row.tree_size):
            out.write(data + b"\n")  # canonical JSON has no raw line breaks


def _header(pending: Path) -> dict[str, Any]:
    with pending.open("rb") as handle:
        header: dict[str, Any] = json.loads(handle.readline())
    return header


def _tail(pending: Path) -> Iterator[bytes]:
    with pending.open("rb") as handle:
        handle.readline()
        for line in handle:
            yield line.rstrip(b"\n")


def _retired_in_copy(vault: Vault) -> set[int]:
    """The retired KEK versions the copy's records are sealed under, once the copy has
    shown the key provider is its vault's: its key check is the provider's, and some of
    the keys of each other version it uses open. Otherwise the restore stops before it
    erases anything (unfinished: ``restore.pending`` stays for a run with the right keys)."""
    keys = vault.scope.keys
    with reading(vault.db) as conn:
        stored = conn.execute(
            sa.select(key_checks.c.digest).where(key_checks.c.name == "index")
        ).scalar_one_or_none()
        samples = store.keys_per_kek(conn, SAMPLES)
    if stored is not None and not hmac.compare_digest(bytes(stored), key_check(keys)):
        raise _wrong_keys("its key check is not the key provider's: another vault's keys")
    gone, held = retired(keys, samples), set(keys.versions())
    opened = False
    for version, tried in sorted(samples.items()):
        if version in gone:
            continue
        if version not in held:
            raise _wrong_keys(f"its keys are wrapped by KEK version {version}, never held here")
        if not any(_opens(keys, key) for key in tried):
            raise _wrong_keys(f"none of its keys wrapped by KEK version {version} opens")
        opened = True
    if gone and stored is None and not opened:
        raise _wrong_keys(
            "it predates key checks and no key in it opens, so nothing shows the key "
            "provider is its vault's"
        )
    return gone


def _opens(keys: KeyProvider, key: store.KeyRow) -> bool:
    try:
        envelope.unwrap_dek(
            keys, key.kek_version, key.wrapped_dek, key.customer_id, key.dek_version
        )
    except IntegrityError:
        return False
    return True


def _wrong_keys(why: str) -> NeedToKnowError:
    return NeedToKnowError(
        f"the copy is loaded but not restored: {why}. Put this vault's key file (or token) "
        "in place and run the same restore again; nothing was erased"
    )


def _carry_over(vault: Vault, pending: Path, header: dict[str, Any], gone: set[int]) -> Restored:
    with reading(vault.db) as conn:
        size = log.state(conn).size
    known = header["tree_size"] is not None
    if known:
        if size != header["tree_size"]:
            raise NeedToKnowError(
                f"the backup's ledger holds {size} entries where its record says "
                f"{header['tree_size']}: not the backup that was recorded"
            )
        vault.ledger.sign_head()
        with reading(vault.db) as conn:
            if merkle.root(log.StoredTree(conn), size).hex() != header["root_hash"]:
                raise LedgerTampered()
    now = vault.clock()
    again = _Again(vault, now, gone)
    with vault.db.begin() as conn:
        batch: list[bytes] = []
        for data in _tail(pending):
            batch.append(data)
            if len(batch) == BATCH:
                again.carry(conn, batch)
                batch = []
        again.carry(conn, batch)
        again.finish(conn)
        unopenable = again.erase_unopenable(conn)
        restored = Restored(
            header["sha256"],
            size,
            "carried" if known else "unavailable",
            again.carried,
            len(again.erased),
            again.withdrawals,
            unopenable,
        )
        Ledger.append(conn, vault.scope.entry("restore", time=now, detail=restored.to_json()))
    vault.scrub_pending()
    vault.ledger.sign_head()
    return restored


class _Again:
    """Carries entries over and does again what they record that must stay done."""

    def __init__(self, vault: Vault, now: datetime, gone: set[int]) -> None:
        self.vault = vault
        self.now = now
        self.gone = gone  # retired KEK versions: records sealed under them stay shut
        self.carried = 0
        self.erased: set[str] = set()
        self.withdrawals = 0

    def carry(self, conn: sa.Connection, batch: list[bytes]) -> None:
        if not batch:
            return
        log.append_canonical(conn, batch)
        self.carried += len(batch)
        for data in batch:
            entry = json.loads(data)
            kind, customer_id = entry.get("kind"), entry.get("customer_id")
            detail = entry.get("detail", {})
            if customer_id is None:
                continue
            if kind == "erase":
                self._erase(conn, customer_id, entry.get("categories", []), detail)
            elif kind == "consent" and detail.get("action") == "withdraw":
                self._withdraw(conn, customer_id, entry, detail)

    def _erase(
        self, conn: sa.Connection, customer_id: str, categories: list[str], detail: Any
    ) -> None:
        if detail.get("held"):  # some categories kept for a hold: only the rest go
            gone = self._shred(conn, customer_id, categories)
        else:
            gone = ["*"] if store.erase(conn, customer_id, self.now) else []
            notes.clear_for(conn, [customer_id])
        if gone:
            self.erased.add(customer_id)

    def _withdraw(
        self, conn: sa.Connection, customer_id: str, entry: dict[str, Any], detail: Any
    ) -> None:
        closed = conn.execute(
            consents.update()
            .where(
                consents.c.customer_id == customer_id,
                consents.c.purpose == entry.get("purpose"),
                consents.c.withdrawn_at.is_(None),
            )
            .values(
                withdrawn_at=datetime.fromisoformat(entry["time"]),
                withdrawn_channel=str(detail.get("channel", "restore"))[:50],
            )
        ).rowcount
        self.withdrawals += int(closed > 0)
        if self._shred(conn, customer_id, detail.get("erased", [])):
            self.erased.add(customer_id)

    def _shred(self, conn: sa.Connection, customer_id: str, categories: list[str]) -> list[str]:
        """:func:`shred`, unless the record is sealed under a retired KEK: then nothing can
        open it to keep the rest, and :meth:`erase_unopenable` erases it whole."""
        found = store.locked_record(conn, customer_id)
        if found is not None and found.key.kek_version in self.gone:
            return []
        return shred(conn, self.vault.scope.keys, customer_id, categories, self.now)

    def finish(self, conn: sa.Connection) -> None:
        scrubs.record(conn, sorted(self.erased), "erase", self.now)

    def erase_unopenable(self, conn: sa.Connection) -> int:
        """Erase every record sealed under a retired KEK version, each with an ``erase``
        entry after the carried ones; returns how many. What an erasure destroyed while the
        ledger of it was lost is among them, and its blind indexes would still answer a
        lookup: whom nothing can read, nothing may find."""
        shut = store.sealed_under(conn, sorted(self.gone)) if self.gone else []
        for start in range(0, len(shut), BATCH):
            ids = shut[start : start + BATCH]
            found = store.categories_of(conn, ids)
            store.erase_many(conn, ids, self.now)
            notes.clear_for(conn, ids)
            scrubs.record(conn, ids, "erase", self.now)
            erase = self.vault.scope.entry("erase", time=self.now)
            Ledger.append_many(
                conn,
                [
                    replace(
                        erase,
                        customer_id=customer_id,
                        categories=categories,
                        detail={"cause": "restore", "reason": "sealed under a retired KEK"},
                    )
                    for customer_id, categories in sorted(found.items())
                ],
            )
        return len(shut)
