"""A ledger an auditor can trust without trusting the machine: heads saved outside the
vault (witnesses) catch a rewrite the vault's own tables were made to cover up; an
export is checked offline; the signing key lives apart and rotates."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from needtoknow.config import Settings, open_vault
from needtoknow.crypto.keys import endorsement_bytes
from needtoknow.errors import KeyProviderError, LedgerTampered, ValidationError
from needtoknow.ledger import TreeHead, audit, merkle
from needtoknow.ledger.heads import parse_heads, signed_bytes
from needtoknow.storage.schema import (
    ledger_customers,
    ledger_entries,
    ledger_heads,
    ledger_nodes,
    ledger_receipts,
    ledger_state,
)
from needtoknow.vault import Vault
from tests.conftest import Clock, Ntk
from tests.customers import ASHA, RAVI
from tests.ledger.test_tamper import entry, ledger_vault, set_entry

__all__ = ["ledger_vault"]  # the fixture, shared with test_tamper


def rewrite_and_cover_up(vault: Vault) -> None:
    """What a careful insider with the database does: rewrite entry 8 and its leaf hash,
    delete every signed head, every stored node and the index, and lower the sealed mark
    to zero, so the tables agree with each other again."""
    with vault.db.begin() as conn:
        set_entry(conn, 8, entry(conn, 8).replace(b"billing_team", b"support_team"), True)
        for table in (ledger_heads, ledger_nodes, ledger_customers, ledger_receipts):
            conn.execute(table.delete())
        conn.execute(ledger_state.update().values(sealed=0, signed=0))


def test_verify_fails_when_heads_are_deleted_after_a_rewrite(ledger_vault: Vault) -> None:
    """Review finding: delete ledger_heads, rewrite an entry and its leaf hash, and
    verify said ok. A head moves the signed mark in its own transaction, so a signed
    mark past the newest head means heads went missing."""
    with ledger_vault.db.begin() as conn:
        set_entry(conn, 8, entry(conn, 8).replace(b"billing_team", b"support_team"), True)
        conn.execute(ledger_heads.delete())
    report = ledger_vault.ledger.verify()
    assert not report.ok and report.warnings == []  # no advice to sign over it
    assert any("12 entries are signed, but heads cover 0" in p for p in report.problems)
    # Second review: signing a fresh head (ntk serve does every minute) covered it up.
    with pytest.raises(LedgerTampered):
        ledger_vault.ledger.sign_head()
    assert not ledger_vault.ledger.verify().ok


def test_no_head_is_signed_over_rewritten_stored_hashes(ledger_vault: Vault) -> None:
    """The stored nodes recomputed to match a rewritten entry: the newest head's root no
    longer comes out of the stored tree, so nothing new is signed over it."""
    with ledger_vault.db.begin() as conn:
        set_entry(conn, 3, entry(conn, 3).replace(b"write", b"erase"), True)
        conn.execute(ledger_nodes.delete())
        stored = [
            bytes(r[0])
            for r in conn.execute(
                sa.select(ledger_entries.c.leaf_hash).order_by(ledger_entries.c.idx)
            )
        ]
        level, depth = stored, 1
        while len(level) >= 2:
            level = [merkle.node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            conn.execute(
                ledger_nodes.insert(),
                [{"level": depth, "idx": i, "hash": h} for i, h in enumerate(level)],
            )
            depth += 1
    ledger_vault.add(ASHA)
    with pytest.raises(LedgerTampered):
        ledger_vault.ledger.sign_head()


def test_verify_warns_of_entries_past_the_newest_signed_head(ledger_vault: Vault) -> None:
    ledger_vault.add(ASHA)
    report = ledger_vault.ledger.verify()
    assert report.ok and report.unsigned == 1
    assert "not yet covered by any signature" in report.warnings[0]
    ledger_vault.ledger.sign_head()
    assert ledger_vault.ledger.verify().warnings == []


def test_a_witness_head_catches_a_rewrite_the_vault_covered_up(ledger_vault: Vault) -> None:
    witness = ledger_vault.ledger.sign_head()
    rewrite_and_cover_up(ledger_vault)
    alone = ledger_vault.ledger.verify()
    assert alone.ok and alone.unsigned == 12  # nothing inside the vault can tell
    report = ledger_vault.ledger.verify([witness])
    assert not report.ok and report.first_bad == (0, 11)
    assert any("not what a witness saw at size 12" in p for p in report.problems)


def test_a_witness_head_catches_truncation_and_accepts_growth(ledger_vault: Vault) -> None:
    witness = ledger_vault.ledger.sign_head()
    ledger_vault.add(RAVI)
    ledger_vault.ledger.sign_head()
    assert ledger_vault.ledger.verify([witness]).ok  # a longer ledger extends it
    with ledger_vault.db.begin() as conn:
        conn.execute(ledger_entries.delete().where(ledger_entries.c.idx >= 11))
        conn.execute(ledger_heads.delete())
        conn.execute(ledger_nodes.delete())
        conn.execute(ledger_customers.delete())
        conn.execute(ledger_state.update().values(size=11, sealed=0, signed=0))
    report = ledger_vault.ledger.verify([witness])
    assert any("the ledger was truncated" in p for p in report.problems)


def test_a_witness_head_signed_by_another_key_is_refused(ledger_vault: Vault) -> None:
    real = ledger_vault.ledger.sign_head()
    key = Ed25519PrivateKey.generate()
    forged = TreeHead(
        real.tree_size,
        real.root_hash,
        real.timestamp_ms,
        key.sign(real.signed_bytes()),
        key.public_key().public_bytes_raw(),
    )
    report = ledger_vault.ledger.verify([forged])
    assert any("not signed by a key of this ledger" in p for p in report.problems)


def test_witness_files_take_one_head_or_json_lines(ledger_vault: Vault) -> None:
    head = ledger_vault.ledger.sign_head()
    one = json.dumps(head.to_json())
    assert parse_heads(one) == [head]
    assert parse_heads(f"{one}\n\n{one}\n") == [head, head]
    assert parse_heads(json.dumps({"signed_tree_head": head.to_json()})) == [head]
    for bad in ("", "{}", "[1]", "not json"):
        with pytest.raises(ValidationError, match="witness"):
            parse_heads(bad)


def export_lines(vault: Vault) -> list[str]:
    from io import StringIO

    out = StringIO()
    vault.ledger.export(out)
    return out.getvalue().splitlines()


def test_an_export_is_checked_offline_with_a_witness(ledger_vault: Vault) -> None:
    witness = ledger_vault.ledger.sign_head()
    ledger_vault.add(RAVI)
    lines = export_lines(ledger_vault)
    key = ledger_vault.keys.signing_public_key()
    good = audit.verify_export(lines, [key], [witness])
    assert good.ok and good.entries == 13 and good.witnesses_checked == 1
    trusting = audit.verify_export(lines)
    assert trusting.ok and "checked against the key the export names" in trusting.warnings[0]
    # An exporter who rewrites entry 3 and re-signs with a key of its own is caught by
    # the witness (consistency) and by the key from the checker's records.
    item = json.loads(lines[3])
    data = base64.b64decode(item["entry"]).replace(b"write", b"erase")
    item.update(entry=base64.b64encode(data).decode(), leaf_hash=merkle.leaf_hash(data).hex())
    leaves = [bytes.fromhex(json.loads(line)["leaf_hash"]) for line in lines[:-1]]
    leaves[3] = merkle.leaf_hash(data)
    root = merkle.root(_Leaves(leaves), len(leaves))
    own = Ed25519PrivateKey.generate()
    head = TreeHead(
        len(leaves),
        root,
        witness.timestamp_ms + 1,
        own.sign(signed_bytes(len(leaves), root, witness.timestamp_ms + 1)),
        own.public_key().public_bytes_raw(),
    )
    forged = [
        *lines[:3],
        json.dumps(item),
        *lines[4:-1],
        json.dumps({"signed_tree_head": head.to_json()}),
    ]
    report = audit.verify_export(forged, [key], [witness])
    assert not report.ok
    assert any("not what a witness saw" in p for p in report.problems)
    assert any("invalid signature or an unknown key" in p for p in report.problems)


class _Leaves:
    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves

    def complete(self, level: int, index: int) -> bytes:
        if level == 0:
            return self.leaves[index]
        return merkle.node_hash(
            self.complete(level - 1, 2 * index), self.complete(level - 1, 2 * index + 1)
        )


def test_verify_export_and_witness_from_the_cli(ntk: Ntk, tmp_path: Path) -> None:
    ntk("customer", "add", "-", "--json", stdin=json.dumps(ASHA))
    witness = tmp_path / "head.json"
    witness.write_text(ntk("ledger", "sth", "--json").stdout)
    export = tmp_path / "ledger.jsonl"
    ntk("ledger", "export", "--output", str(export))
    checked = ntk.json("ledger", "verify-export", str(export), "--witness", str(witness), "--json")
    assert checked["ok"] is True
    assert "1 witness heads checked" in ntk("ledger", "verify", "--witness", str(witness)).stdout
    lines = export.read_text().splitlines()
    item = json.loads(lines[0])
    item["leaf_hash"] = "00" * 32
    export.write_text("\n".join([json.dumps(item), *lines[1:]]) + "\n")
    failed = ntk("ledger", "verify-export", str(export), "--witness", str(witness), expect=8)
    assert "entry 0 was changed" in failed.stderr


def test_the_signing_key_lives_apart_from_the_key_file(vault: Vault, settings: Settings) -> None:
    keys = json.loads(settings.key_file.read_text())
    assert "ledger_signing" not in keys
    signing = settings.key_file.with_name("ledger-signing.json")
    assert stat.S_IMODE(signing.stat().st_mode) == 0o600
    assert json.loads(signing.read_text())["retired"] == []


def test_a_key_file_that_held_the_signing_key_is_split_on_open(
    vault: Vault, settings: Settings
) -> None:
    """Vaults made before the split keep their key and their heads stay valid."""
    head = vault.ledger.sign_head()
    signing = settings.key_file.with_name("ledger-signing.json")
    private = json.loads(signing.read_text())["active"]
    keys = json.loads(settings.key_file.read_text())
    settings.key_file.write_text(json.dumps({**keys, "ledger_signing": private}))
    os.chmod(settings.key_file, 0o600)
    signing.unlink()
    vault.close()
    reopened = open_vault(settings)
    try:
        assert "ledger_signing" not in json.loads(settings.key_file.read_text())
        assert reopened.keys.signing_public_key() == head.public_key
        assert reopened.ledger.verify().ok
    finally:
        reopened.close()


def test_rotating_the_signing_key_keeps_old_heads_verifiable(ledger_vault: Vault) -> None:
    old = ledger_vault.ledger.sign_head()
    new = ledger_vault.rotate_signing_key()
    assert new.public_key != old.public_key
    assert ledger_vault.keys.signing_keys() == (old.public_key, new.public_key)
    ledger_vault.add(ASHA)
    ledger_vault.ledger.sign_head()
    report = ledger_vault.ledger.verify([old])
    assert report.ok and report.heads_checked >= 3
    phases = [
        json.loads(bytes(row))["detail"]
        for row in _entries(ledger_vault)
        if b'"ledger_signing"' in bytes(row)
    ]
    assert [(p["phase"], p["public_key"]) for p in phases] == [
        ("begin", old.public_key.hex()),
        ("done", new.public_key.hex()),
    ]

    # The old key endorsed the new one before it was gone: a witness that knows only
    # the old key follows the rotation, and checks the export signed by the new key.
    signed = endorsement_bytes(old.public_key, new.public_key)
    endorsement = bytes.fromhex(phases[1]["endorsement"])
    Ed25519PublicKey.from_public_bytes(old.public_key).verify(endorsement, signed)
    lines = export_lines(ledger_vault)
    followed = audit.verify_export(lines, [old.public_key])
    assert followed.ok, followed.problems
    assert any(new.public_key.hex() in warning for warning in followed.warnings)
    assert not audit.verify_export(
        lines, [Ed25519PrivateKey.generate().public_key().public_bytes_raw()]
    ).ok


def test_a_rotation_cut_off_before_its_entry_keeps_its_endorsement(
    vault: Vault, settings: Settings
) -> None:
    """Session 17's open item: the process dies after the new key is active and the old
    private key gone, before the ``done`` entry. The endorsement reached the disk with
    the new key; the next head signed, by any process, ledgers it, once."""
    old = vault.ledger.sign_head()
    endorsement = vault.keys.rotate_signing()  # ... and the process dies here
    signing = json.loads(settings.key_file.with_name("ledger-signing.json").read_text())
    assert base64.b64decode(signing["pending_endorsement"]["signature"]) == endorsement.signature
    vault.close()

    reopened = open_vault(settings)
    try:
        reopened.add(ASHA)
        new = reopened.ledger.sign_head()
        assert new.public_key == endorsement.new != old.public_key
        done = [
            json.loads(bytes(row))
            for row in _entries(reopened)
            if b'"ledger_signing"' in bytes(row)
        ]
        assert [(e["actor"], e["detail"]["phase"]) for e in done] == [("needtoknow", "done")]
        assert "pending_endorsement" not in json.loads(
            settings.key_file.with_name("ledger-signing.json").read_text()
        )
        reopened.ledger.sign_head()  # forgotten once ledgered: not recorded again
        assert len([r for r in _entries(reopened) if b'"ledger_signing"' in bytes(r)]) == 1
        followed = audit.verify_export(export_lines(reopened), [old.public_key])
        assert followed.ok, followed.problems

        # The next rotation is whole again: begin, done, each once.
        newer = reopened.rotate_signing_key()
        phases = [
            json.loads(bytes(row))["detail"]["phase"]
            for row in _entries(reopened)
            if b'"ledger_signing"' in bytes(row)
        ]
        assert phases == ["done", "begin", "done"]
        assert audit.verify_export(export_lines(reopened), [old.public_key]).ok
        assert newer.public_key not in (old.public_key, new.public_key)
    finally:
        reopened.close()


def test_an_endorsement_planted_beside_the_key_is_not_ledgered(
    vault: Vault, settings: Settings
) -> None:
    """Review, session 18: whatever the key provider keeps as pending was recorded as
    it was. Someone who kept the old private key (the reason to rotate) could endorse a
    key of their own and make witnesses follow it. Only an endorsement of the active key,
    by a key of this ledger, that verifies, is recorded; anything else is forgotten."""
    old = vault.ledger.sign_head()
    endorsement = vault.keys.rotate_signing()
    vault.close()
    signing = settings.key_file.with_name("ledger-signing.json")
    thief = Ed25519PrivateKey.generate()
    theirs = thief.public_key().public_bytes_raw()
    forgeries = [
        # the real old key's signature over the wrong successor: not the active key
        {"old": old.public_key, "new": theirs, "signature": b"\x00" * 64},
        # the active key, "endorsed" by a key this ledger never had
        {
            "old": theirs,
            "new": endorsement.new,
            "signature": thief.sign(endorsement_bytes(theirs, endorsement.new)),
        },
        # the right keys, a signature that does not verify
        {"old": old.public_key, "new": endorsement.new, "signature": b"\x01" * 64},
    ]
    for forged in forgeries:
        data = json.loads(signing.read_text())
        data["pending_endorsement"] = {k: base64.b64encode(v).decode() for k, v in forged.items()}
        signing.write_text(json.dumps(data))
        os.chmod(signing, 0o600)
        reopened = open_vault(settings)
        try:
            reopened.ledger.sign_head()
            assert not [r for r in _entries(reopened) if b'"ledger_signing"' in bytes(r)]
            assert "pending_endorsement" not in json.loads(signing.read_text())
        finally:
            reopened.close()


def rotation(old: Ed25519PrivateKey | None, new: bytes, endorsement: bytes | None = None) -> bytes:
    """A rotation's done entry naming ``new``, endorsed by ``old`` (or by ``endorsement``)."""
    from needtoknow.ledger import Entry

    detail = {"phase": "done", "key": "ledger_signing", "public_key": new.hex()}
    if old is not None:
        public = old.public_key().public_bytes_raw()
        endorsement = old.sign(endorsement_bytes(public, new))
    if endorsement is not None:
        detail["endorsement"] = endorsement.hex()
    return Entry(kind="key_rotation", time=Clock()(), actor="x", detail=detail).canonical()


def test_a_rotation_nobody_endorsed_is_not_followed(ledger_vault: Vault) -> None:
    """Whoever can write the database can append a rotation naming a key of their own,
    endorsed by that key or by nobody: a witness holding the real key does not follow
    it. Endorsements chain, in ledger order, each key endorsing one successor."""
    real = ledger_vault.ledger.sign_head().public_key
    own = Ed25519PrivateKey.generate()
    mine = own.public_key().public_bytes_raw()
    for forged in (rotation(own, mine), rotation(None, mine, b"\x00" * 64), rotation(None, mine)):
        assert audit.endorsed([real], [forged]) == [real]
    a, b, c = (Ed25519PrivateKey.generate() for _ in range(3))
    ka, kb, kc = (k.public_key().public_bytes_raw() for k in (a, b, c))
    assert audit.endorsed([ka], [rotation(a, kb), rotation(b, kc)]) == [ka, kb, kc]
    assert audit.endorsed([ka], [rotation(b, kc), rotation(a, kb)]) == [ka, kb]
    # A key endorses one successor: whoever kept a rotated-out key cannot add another.
    assert audit.endorsed([ka], [rotation(a, kb), rotation(a, kc)]) == [ka, kb]
    assert audit.endorsed([ka], [rotation(a, kb), rotation(a, kb)]) == [ka, kb]
    assert audit.endorsed([ka, kb], [rotation(a, kb), rotation(a, kc)]) == [ka, kb]


def _entries(vault: Vault) -> list[bytes]:
    with vault.db.connect() as conn:
        return list(conn.execute(sa.select(ledger_entries.c.entry)).scalars())


def test_a_restored_key_file_holding_the_signing_key_does_not_deadlock_a_rotation(
    vault: Vault, settings: Settings
) -> None:
    """Second review: a pre-split keys.json restored while a KEK rotation held the lock
    made the migration wait for that same lock, forever."""
    signing = settings.key_file.with_name("ledger-signing.json")
    private = json.loads(signing.read_text())["active"]
    keys = json.loads(settings.key_file.read_text())
    settings.key_file.write_text(json.dumps({**keys, "ledger_signing": private}))
    os.chmod(settings.key_file, 0o600)
    assert vault.keys.rotate() == 2  # re-reads the file under the lock, and moves the key
    assert "ledger_signing" not in json.loads(settings.key_file.read_text())


def test_a_signing_key_in_the_key_file_that_the_vault_does_not_know_is_refused(
    vault: Vault, settings: Settings
) -> None:
    stranger = base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode()
    keys = json.loads(settings.key_file.read_text())
    settings.key_file.write_text(json.dumps({**keys, "ledger_signing": stranger}))
    os.chmod(settings.key_file, 0o600)
    vault.close()
    with pytest.raises(KeyProviderError, match="does not know"):
        open_vault(settings)
