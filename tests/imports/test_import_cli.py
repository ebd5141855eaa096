"""``ntk customer import`` as a user runs it: CSV with a key column and a renamed
column, a dry run, stdin JSON Lines, and a header that names no category."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Ntk
from tests.customers import ASHA, RAVI


def test_import_from_a_file_and_from_stdin(ntk: Ntk, tmp_path: Path) -> None:
    source = tmp_path / "crm.csv"
    source.write_text(
        "Name,email,Mobile,CRM\nAsha Verma,asha@example.in,9876543210,C1\n"
        "Ravi K,broken,9123456780,C2\n",
        "utf-8",
    )
    mapping = ("--map", "Name=name", "--map", "Mobile=telephone", "--key", "CRM")
    dry = ntk.json("customer", "import", str(source), *mapping, "--dry-run", "--json")
    assert (dry["added"], dry["refused"], dry["dry_run"]) == (1, 1, True)
    report = ntk.json("customer", "import", str(source), *mapping, "--json")
    assert report["added"] == 1 and report["problems"][0]["rule"] == "rfc5322_syntax"
    assert "broken" not in json.dumps(report)
    again = ntk("customer", "import", str(source), *mapping).stdout
    assert "added 0, already imported 1, refused 1" in again and "row 2: email" in again
    lines = "\n".join(json.dumps(r) for r in (ASHA, RAVI))
    assert ntk.json("customer", "import", "-", "--json", stdin=lines)["added"] == 2
    bad = ntk("customer", "import", str(source), "--json", expect=5)
    assert "did you mean name" in json.loads(bad.stderr)["message"]


def test_customer_list_and_keys_list_show_ids_and_counts_never_values(ntk: Ntk) -> None:
    first = ntk.json("customer", "add", "-", "--json", stdin=json.dumps(ASHA))["customer_id"]
    second = ntk.json("customer", "add", "-", "--json", stdin=json.dumps(RAVI))["customer_id"]
    ntk("customer", "erase", second)
    listed = ntk.json("customer", "list", "--json")
    assert sorted(r["customer_id"] for r in listed) == sorted([first, second])
    assert ASHA["email"] not in json.dumps(listed)
    erased = next(r for r in listed if r["customer_id"] == second)
    assert erased["erased_at"] and erased["created_at"].endswith("Z")
    page = ntk.json("customer", "list", "--limit", "1", "--json")
    rest = ntk.json("customer", "list", "--after", page[0]["customer_id"], "--json")
    assert len(page) == 1 and len(rest) == 1
    keys = ntk.json("keys", "list", "--json")
    (kek,) = keys["keks"]
    assert kek["active"] and kek["customer_keys"] == 1 and len(keys["signing_keys"]) == 1
    assert "customer keys" in ntk("keys", "list").stdout
