"""``ntk staff``: an account added from a script (password on stdin) prints its TOTP
secret once; the listing never shows it; a bad role names the valid ones."""

from __future__ import annotations

import json

from tests.conftest import Ntk

PASSWORD = "correct horse battery staple\n"


def test_staff_add_list_disable(ntk: Ntk) -> None:
    made = ntk.json(
        "staff", "add", "dpo:priya", "--role", "officer", "--password-stdin", stdin=PASSWORD
    )
    assert made["role"] == "officer" and len(made["totp_secret"]) == 32
    listed = ntk.json("staff", "list")
    assert [m["name"] for m in listed] == ["dpo:priya"]
    assert made["totp_secret"] not in json.dumps(listed)
    assert ntk.json("staff", "disable", "dpo:priya")["disabled_at"].endswith("Z")
    refused = ntk(
        "staff",
        "add",
        "x:y",
        "--role",
        "oficer",
        "--password-stdin",
        "--json",
        stdin=PASSWORD,
        expect=5,
    )
    assert "did you mean officer" in json.loads(refused.stderr)["message"]
