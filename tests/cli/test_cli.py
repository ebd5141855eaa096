"""The real ``ntk`` executable, run as a user would: JSON contracts, exit codes, stderr."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tests.conftest import NTK, Ntk
from tests.customers import ASHA, RAVI


def test_init_creates_a_vault_with_the_demo_policy(tmp_path: Path) -> None:
    run = Ntk(tmp_path / "home", process=True)
    info = run.json("init")
    assert info["policy"] == "nextraone" and info["key_provider"] == "local"
    assert (tmp_path / "home" / "keys.json").stat().st_mode & 0o077 == 0
    run("init", expect=1)  # a second init refuses


def test_add_get_find_erase_round_trip(ntk_process: Ntk) -> None:
    added = ntk_process.json("customer", "add", "-", "--json", stdin=json.dumps(ASHA))
    cid = added["customer_id"]
    assert any("card number discarded" in n for n in added["notices"])
    got = ntk_process.json(
        "customer", "get", cid, "--recipient", "billing_team", "--purpose", "billing", "--json"
    )
    assert got["values"]["card_number"] == "1111" and "date_of_birth" not in got["values"]
    assert got["transforms"]["card_number"] == "last4"
    explained = ntk_process.json(
        "policy", "explain", "--recipient", "billing_team", "--purpose", "billing", "--json"
    )
    assert got["policy_version"] == explained["policy_version"] and len(got["policy_version"]) == 64
    by_support = ("--recipient", "support_team", "--purpose", "service_delivery")
    by_bank = ("--recipient", "partner_bank", "--purpose", "verification")
    assert ntk_process.json(
        "customer", "find", *by_support, "--email", "asha.canary@example.in"
    ) == {"customer_ids": [cid], "policy_version": got["policy_version"]}
    found = ntk_process.json(
        "customer", "find", *by_bank, "--identity", "-", stdin="pan:ABCPE1234F"
    )
    assert found["customer_ids"] == [cid]
    ntk_process("customer", "find", *by_bank, "--email", "asha.canary@example.in", expect=3)
    ntk_process.json("customer", "erase", cid)
    gone = ntk_process(
        "customer",
        "get",
        cid,
        "--recipient",
        "billing_team",
        "--purpose",
        "billing",
        "--json",
        expect=4,
    )
    assert json.loads(gone.stderr)["error"] == "NotFound"


def test_denied_read_exits_3_with_reasons_on_stderr(ntk_process: Ntk) -> None:
    cid = ntk_process.json("customer", "add", "-", "--json", stdin=json.dumps(ASHA))["customer_id"]
    result = ntk_process(
        "customer",
        "get",
        cid,
        "--recipient",
        "ad_network",
        "--purpose",
        "advertising",
        "--json",
        expect=3,
    )
    assert result.stdout == ""
    error = json.loads(result.stderr)
    assert error["error"] == "PolicyDenied" and "aggregates only" in error["message"]


def test_an_authority_is_not_read_directly_from_the_cli(ntk: Ntk) -> None:
    """Issue 15: an authority was read with any non-empty ``--legal-reference``, past the
    four-eyes disclosure workflow; now only a released disclosure request reads it."""
    cid = ntk.json("customer", "add", "-", "--json", stdin=json.dumps(ASHA))["customer_id"]
    for extra in ((), ("--legal-reference", "Court order 7/2026", "--case-id", cid)):
        result = ntk(
            "customer",
            "get",
            cid,
            "--recipient",
            "law_enforcement",
            "--purpose",
            "legal_process",
            "--json",
            *extra,
            expect=3,
        )
        error = json.loads(result.stderr)
        assert error["error"] == "PolicyDenied" and "ntk disclosure request" in error["message"]
        assert result.stdout == "" and "Canarywala" not in result.stderr
    assert ntk.json("disclosure", "notices", cid) == []
    explained = ntk(
        "policy", "explain", "--recipient", "law_enforcement", "--purpose", "legal_process"
    )
    assert "only through: an authority receives customer data only through" in explained.stdout


def test_invalid_record_names_field_and_rule_but_not_the_value(ntk: Ntk) -> None:
    bad = {**ASHA, "email": "asha.canary@@example.in"}
    result = ntk("customer", "add", "-", "--json", stdin=json.dumps(bad), expect=5)
    error = json.loads(result.stderr)
    assert error["field"] == "email" and error["rule"] == "rfc5322_syntax"
    assert "asha.canary" not in result.stderr


def test_policy_check_and_explain(ntk_process: Ntk, tmp_path: Path) -> None:
    policy = Path(__file__).parents[2] / "policies" / "nextraone.yaml"
    assert "ok" in ntk_process("policy", "check", str(policy)).stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        policy.read_text().replace(
            "grant: {name: full, address: full, email",
            "grant: {nmae: full, address: full, email",
            1,
        )
    )
    result = ntk_process("policy", "check", str(broken), expect=6)
    assert f"{broken}:" in result.stderr and "unknown category 'nmae'" in result.stderr
    explained = ntk_process.json(
        "policy", "explain", "--recipient", "billing_team", "--purpose", "billing", "--json"
    )
    assert explained["allowed"]["card_number"]["transform"] == "last4"
    assert explained["allowed"]["card_number"]["rule"] == "billing"
    assert (
        "billing_team"
        in ntk_process(
            "policy", "explain", "--recipient", "billing_team", "--purpose", "billing"
        ).stdout
    )


def test_keys_rotate_keeps_data_readable(ntk: Ntk) -> None:
    cid = ntk.json("customer", "add", "-", "--json", stdin=json.dumps(ASHA))["customer_id"]
    assert ntk.json("keys", "rotate") == {"kek_version": 2, "rewrapped": 1}
    assert ntk.json("keys", "retire", "1") == {"retired": 1}
    got = ntk.json(
        "customer",
        "get",
        cid,
        "--recipient",
        "support_team",
        "--purpose",
        "service_delivery",
        "--json",
    )
    assert got["values"]["address"] == "Pune"


def test_world_readable_key_file_stops_every_command(ntk: Ntk) -> None:
    key_file = Path(ntk.env["NTK_HOME"]) / "keys.json"
    key_file.chmod(0o644)
    result = ntk(
        "customer",
        "find",
        "--recipient",
        "support_team",
        "--purpose",
        "service_delivery",
        "--email",
        "a@example.in",
        expect=7,
    )
    assert "chmod 600" in result.stderr


def test_demo_runs_non_interactively(tmp_path: Path) -> None:
    run = Ntk(tmp_path / "home", process=True)
    out = run("demo", "--customers", "5", "--no-interactive").stdout
    assert "allowed  billing_team for billing" in out
    assert "denied  billing_team for sale" in out
    assert "denied  legacy_sms_gateway" in out


def test_demo_answers_questions_interactively(tmp_path: Path) -> None:
    run = Ntk(tmp_path / "home")
    answers = "credit_bureau\nstatistical_analysis\n\n\nad_network\nadvertising\n\n\n\n"
    out = run("demo", "--customers", "3", "--interactive", stdin=answers).stdout
    tail = out.split("recipient (blank to quit)", 1)[1]
    assert "allowed" in tail and "tok_" in tail and "year_only" in tail
    assert "advertisers receive aggregates only" in tail


def test_ledger_commands(ntk: Ntk, tmp_path: Path) -> None:
    cid = ntk.json("customer", "add", "-", "--json", stdin=json.dumps(ASHA))["customer_id"]
    ntk("customer", "get", cid, "--recipient", "billing_team", "--purpose", "billing")
    ntk("customer", "get", cid, "--recipient", "ad_network", "--purpose", "advertising", expect=3)
    head = ntk.json("ledger", "sth", "--json")
    assert head["tree_size"] == 8 and len(head["signature"]) == 128  # + 4 seeded agreements
    history = ntk.json("ledger", "customer", cid, "--json")
    kinds = [(e["entry"]["kind"], e["entry"].get("decision")) for e in history["entries"]]
    assert kinds == [("write", None), ("read", "allow"), ("read", "deny")]
    assert all(e["proof"] or e["tree_size"] == 1 for e in history["entries"])
    assert "billing_team" in ntk("ledger", "customer", cid).stdout
    exported = tmp_path / "ledger.jsonl"
    ntk("ledger", "export", "--from", "1", "--output", str(exported))
    lines = exported.read_text().splitlines()
    assert [json.loads(line)["index"] for line in lines[:-1]] == list(range(1, 8))
    assert json.loads(lines[-1])["signed_tree_head"]["tree_size"] == 8
    assert json.loads(ntk("ledger", "verify", "--json").stdout)["ok"] is True
    assert "ok: 9 entries" in ntk("ledger", "verify").stdout  # + the first run's own entry


def test_sth_every_signs_heads_while_the_ledger_grows_until_stopped(ntk: Ntk) -> None:
    signer = subprocess.Popen(
        [NTK, "ledger", "sth", "--json", "--every", "0.1"],
        env=ntk.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert signer.stdout is not None
        first = json.loads(signer.stdout.readline())
        ntk.json("customer", "add", "-", "--json", stdin=json.dumps(ASHA))
        second = json.loads(signer.stdout.readline())  # only a grown ledger prints again
        assert second["tree_size"] == first["tree_size"] + 1
        signer.send_signal(signal.SIGTERM)
        assert signer.wait(timeout=30) == 0
    finally:
        signer.kill()
    report = ntk.json("ledger", "verify", "--json")
    assert report["ok"] and report["heads_checked"] == 2


def test_ledger_verify_exits_8_naming_the_tampered_entry(ntk_process: Ntk) -> None:
    ntk_process.json("customer", "add", "-", "--json", stdin=json.dumps(ASHA))
    ntk_process("ledger", "sth")
    database = sqlite3.connect(Path(ntk_process.env["NTK_HOME"]) / "vault.db")
    with database:
        database.execute(
            "UPDATE ledger_entries SET entry = replace(entry, '\"write\"', '\"wrote\"') "
            'WHERE CAST(entry AS TEXT) LIKE \'%"kind":"write"%\''
        )
        (index,) = database.execute(
            'SELECT idx FROM ledger_entries WHERE CAST(entry AS TEXT) LIKE \'%"kind":"wrote"%\''
        ).fetchone()
    database.close()
    result = ntk_process("ledger", "verify", expect=8)
    assert f"entry {index} was changed" in result.stderr


def test_get_many(ntk: Ntk) -> None:
    cid = ntk.json("customer", "add", "-", "--json", stdin=json.dumps(ASHA))["customer_id"]
    got = ntk.json(
        "customer", "get-many", cid, "nope", "--recipient", "billing_team", "--purpose", "billing"
    )
    assert [c["customer_id"] for c in got["customers"]] == [cid] and got["missing"] == ["nope"]


def test_agreement_commands(ntk_process: Ntk) -> None:
    cid = ntk_process.json("customer", "add", "-", "--json", stdin=json.dumps(ASHA))["customer_id"]
    collect = ("--recipient", "collection_agency", "--purpose", "bill_collection", "--json")
    ntk_process("customer", "get", cid, *collect, expect=3)
    assert ntk_process.json("agreement", "assign", "AGR-COLL-2026", cid)["count"] == 1
    assert ntk_process.json("customer", "get", cid, *collect)["values"]["card_number"] == "1111"
    ntk_process.json(
        "agreement",
        "create",
        "AGR-SMS-2027",
        "--recipient",
        "legacy_sms_gateway",
        "--purpose",
        "service_notification",
        "--expires",
        "2027-12-31",
        "--reference",
        "MSA/SMS/2027-001",
    )
    listing = {a["id"]: a for a in ntk_process.json("agreement", "list")}
    assert listing["AGR-COLL-2026"]["customers"] == 1
    assert listing["AGR-SMS-2027"]["purposes"] == ["service_notification"]
    ntk_process.json("agreement", "revoke", "AGR-COLL-2026", "--reason", "contract ended")
    ntk_process("customer", "get", cid, *collect, expect=3)
    bad = ntk_process(
        "agreement", "amend", "AGR-SMS-2027", "--expires", "31/12/2027", "--json", expect=5
    )
    assert json.loads(bad.stderr)["rule"] == "iso_date"


def _requested(ntk: Ntk, cid: str, reference: str, *categories: str) -> Any:
    """A disclosure request by the law-enforcement authority for legal process."""
    asked = ("--authority", "law_enforcement", "--purpose", "legal_process")
    basis = ("--legal-basis", "BNSS 2023 s.94", "--reference", reference, "--customer", cid)
    scope = [arg for category in categories for arg in ("--category", category)]
    return ntk.json("disclosure", "request", *asked, *basis, *scope, "--case-owner", "Priya")


def test_disclosure_commands(ntk_process: Ntk, tmp_path: Path) -> None:
    cid = ntk_process.json("customer", "add", "-", "--json", stdin=json.dumps(ASHA))["customer_id"]
    ntk_process.env["NTK_ACTOR"] = "legal:priya"
    made = _requested(ntk_process, cid, "Summons 77/2026", "name", "address")
    denied = ntk_process("disclosure", "approve", made["id"], "--json", expect=3)
    assert "four eyes" in json.loads(denied.stderr)["message"]
    ntk_process.env["NTK_ACTOR"] = "dpo:arun"
    assert ntk_process.json("disclosure", "approve", made["id"])["status"] == "approved"
    key = X25519PrivateKey.generate()
    key_file = tmp_path / "requester.pub"
    key_file.write_bytes(key.public_key().public_bytes_raw())
    manifest = ntk_process.json(
        "disclosure",
        "release",
        made["id"],
        "--out",
        str(tmp_path / "pkg"),
        "--public-key",
        str(key_file),
    )
    assert manifest["customers"] == [cid]
    assert (tmp_path / "pkg" / "package.hpke").exists()
    assert ntk_process.json("disclosure", "list")[0]["status"] == "released"
    assert ntk_process.json("disclosure", "notices", cid)[0]["status"] == "due"


def test_api_key_commands(ntk_process: Ntk) -> None:
    made = ntk_process.json(
        "keys",
        "api",
        "create",
        "billing_team",
        "--scope",
        "customers:read",
        "--expires",
        "2099-01-01T00:00Z",
        "--label",
        "billing service",
    )
    assert made["token"].startswith(f"ntk_{made['id']}_") and made["scopes"] == ["customers:read"]
    listed = ntk_process.json("keys", "api", "list")
    assert [k["id"] for k in listed] == [made["id"]] and "token" not in listed[0]
    assert ntk_process.json("keys", "api", "revoke", made["id"])["revoked_at"]
    ntk_process("keys", "api", "create", "nobody", expect=5)
    ntk_process("keys", "api", "create", "billing_team", "--expires", "2020-01-01T00:00Z", expect=5)
    ntk_process("keys", "api", "create", "billing_team", "--scope", "everything", expect=5)
    database = sqlite3.connect(Path(ntk_process.env["NTK_HOME"]) / "vault.db")
    stored = database.execute("SELECT secret_sha256 FROM api_keys").fetchone()[0]
    assert made["token"].split("_", 2)[2].encode() not in stored


def test_erase_says_whether_the_deleted_bytes_were_scrubbed(ntk: Ntk, tmp_path: Path) -> None:
    """Issue 15: a reader's snapshot blocks the scrub; the output says so, and the next
    erasure's scrub clears what was pending."""
    first = ntk.json("customer", "add", "-", "--json", stdin=json.dumps(ASHA))["customer_id"]
    second = ntk.json("customer", "add", "-", "--json", stdin=json.dumps(RAVI))["customer_id"]
    reader = sqlite3.connect(tmp_path / "home" / "vault.db", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM customers").fetchone()  # a snapshot from before
    blocked = ntk("customer", "erase", first, "--json")
    reader.rollback()
    said = json.loads(blocked.stdout)
    assert (said["customer_id"], said["scrubbed"], said["kept"]) == (first, False, [])
    assert "not scrubbed yet" in blocked.stderr
    pending = "SELECT customer_id, kind FROM pending_scrubs"
    assert reader.execute(pending).fetchall() == [(first, "erase")]
    assert ntk.json("customer", "erase", second)["scrubbed"] is True
    assert reader.execute(pending).fetchall() == []
    reader.close()


def test_keys_retire_of_an_unknown_version_names_the_existing_ones(ntk: Ntk) -> None:
    """Issue 15: ``ntk keys retire 99`` used to ledger a "begin" it never finished."""
    before = ntk.json("ledger", "verify", "--json")["entries"]
    refused = ntk("keys", "retire", "99", "--json", expect=5)
    error = json.loads(refused.stderr)
    assert (error["field"], error["rule"]) == ("version", "unknown_version")
    assert "existing versions: 1" in error["message"]
    # nothing was ledgered but the first verification's own entry
    assert ntk.json("ledger", "verify", "--json")["entries"] == before + 1


def test_customer_json_that_is_not_utf8_deep_or_has_duplicate_keys_is_refused(
    ntk: Ntk, tmp_path: Path
) -> None:
    """Issue 15: invalid UTF-8 and deep nesting printed tracebacks; a duplicated key was
    accepted (the last won). Each is now a validation error (exit 5) naming the rule."""
    before = ntk.json("ledger", "verify", "--json")["entries"]
    cases = {
        "utf8": b'{"name": "Asha \xff Canarywala"}',
        "depth": b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "duplicate_key": b'{"name": "Asha Canarywala", "name": "Ravi Sentinelkar"}',
    }
    for rule, data in cases.items():
        record = tmp_path / f"{rule}.json"
        record.write_bytes(data)
        by_file = ntk("customer", "add", "--json", str(record), expect=5)
        by_stdin = subprocess.run(
            [NTK, "customer", "add", "-", "--json"],
            input=data,
            capture_output=True,
            env=ntk.env,
            timeout=60,
            check=False,
        )
        assert by_stdin.returncode == 5, by_stdin.stderr
        for stderr in (by_file.stderr, by_stdin.stderr.decode()):
            assert "Traceback" not in stderr
            error = json.loads(stderr)
            assert error["rule"] == rule
            assert "Canarywala" not in stderr and "Sentinelkar" not in stderr
    assert json.loads(by_file.stderr)["field"] == "name"  # the duplicated key is named
    nested: object = "x"
    for _ in range(40):  # deeper than any record, far within the parser's limit
        nested = [nested]
    ntk("customer", "add", "-", "--json", stdin=json.dumps({"name": nested}), expect=5)
    # nothing written but the first verification's own entry
    assert ntk.json("ledger", "verify", "--json")["entries"] == before + 1


def test_init_and_open_make_an_existing_vault_home_owner_only(tmp_path: Path) -> None:
    """Issue 15: ``ntk init`` left an existing 0755 home as it was."""
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    run = Ntk(home, process=True)
    made = run("init")
    assert home.stat().st_mode & 0o777 == 0o700
    assert "was mode 755; set to 0700" in made.stderr
    home.chmod(0o750)
    opened = run("policy", "versions", "--json")
    assert home.stat().st_mode & 0o777 == 0o700
    assert "was mode 750; set to 0700" in opened.stderr
    assert "set to 0700" not in run("policy", "versions", "--json").stderr  # once


def test_disclosure_package_and_manifest_are_written_owner_only(ntk: Ntk, tmp_path: Path) -> None:
    """Issue 15: the unencrypted package.json was written 0644, even over an existing
    file; it, the manifest and ledger exports are now 0600 from creation."""
    cid = ntk.json("customer", "add", "-", "--json", stdin=json.dumps(ASHA))["customer_id"]
    ntk.env["NTK_ACTOR"] = "legal:priya"
    made = _requested(ntk, cid, "S-1", "name")
    ntk.env["NTK_ACTOR"] = "dpo:arun"
    ntk.json("disclosure", "approve", made["id"])
    out = tmp_path / "pkg"
    out.mkdir()
    (out / "package.json").write_text("old")
    (out / "package.json").chmod(0o644)
    ntk.json("disclosure", "release", made["id"], "--out", str(out))
    for name in ("package.json", "manifest.json"):
        assert (out / name).stat().st_mode & 0o777 == 0o600, name
    assert json.loads((out / "package.json").read_text())["customers"][0]["customer_id"] == cid
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")] == []
    exported = tmp_path / "ledger.jsonl"
    ntk("ledger", "export", "--output", str(exported))
    assert exported.stat().st_mode & 0o777 == 0o600
    assert len(exported.read_text().splitlines()) > 3
