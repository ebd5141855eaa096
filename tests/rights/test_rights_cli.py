"""``ntk request`` and ``ntk nominee`` as a privacy officer runs them, codes delivered
through a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

from aiosmtpd.controller import Controller

from needtoknow.records.outbox import Smtp
from tests.conftest import Ntk
from tests.customers import ASHA
from tests.mail import Inbox, code_in

Mail = tuple[Smtp, Inbox, Controller]


def with_mail(ntk: Ntk, smtp: Mail) -> Ntk:
    ntk.env.update(NTK_SMTP_HOST="127.0.0.1", NTK_SMTP_PORT=str(smtp[0].port))
    return ntk


def test_an_access_request_from_opening_to_the_answer(ntk: Ntk, smtp: Mail) -> None:
    ntk = with_mail(ntk, smtp)
    cid = ntk.json("customer", "add", "-", "--json", stdin=json.dumps(ASHA))["customer_id"]
    ntk("customer", "get", cid, "--recipient", "billing_team", "--purpose", "billing")
    opened = ntk.json("request", "open", "--customer", cid, "--kind", "access", "--json")
    assert opened["verification"] == "pending" and opened["due_at"] and opened["request_id"]
    request_id = opened["request_id"]
    refused = ntk("request", "fulfil", request_id, "--json", expect=15)
    assert json.loads(refused.stderr)["reason"] == "unverified"
    ntk("request", "code", request_id)
    wrong = ntk("request", "verify", request_id, "--code", "000000", "--json", expect=15)
    assert json.loads(wrong.stderr)["reason"] in {"wrong_code", "locked"}
    code = code_in(smtp[1].messages[-1])
    if code == "000000":  # one in a million: the "wrong" code was right
        return
    verified = ntk.json("request", "verify", request_id, "--code", code, "--json")
    assert verified["verification"] == "verified" and verified["verified_method"] == "code"
    answer = ntk.json("request", "fulfil", request_id)
    assert answer["answer"]["recipients"][0]["recipient"] == "billing_team"
    assert answer["contact"] and ASHA["email"] not in json.dumps(answer["answer"])
    listed = ntk.json("request", "list", "--customer", cid, "--json")
    assert [r["status"] for r in listed] == ["fulfilled"]
    history = ntk.json("ledger", "customer", cid, "--json")
    events = [
        e["entry"]["detail"]["event"] for e in history["entries"] if e["entry"]["kind"] == "request"
    ]
    assert events == ["opened", "verified", "fulfilled"]


def test_a_grievance_and_a_nomination_from_the_command_line(ntk: Ntk, tmp_path: Path) -> None:
    cid = ntk.json("customer", "add", "-", "--json", stdin=json.dumps(ASHA))["customer_id"]
    grievance = ntk.json(
        "request",
        "open",
        "--customer",
        cid,
        "--kind",
        "grievance",
        "--details",
        "-",
        "--json",
        stdin="An agent read my card number aloud on a call.",
    )["request_id"]
    bad = ntk(
        "request", "verify", grievance, "--verified-by", "Arun", "--method", "phone", expect=5
    )
    assert "in_person, video_kyc, document" in " ".join(bad.stderr.split())
    ntk("request", "verify", grievance, "--verified-by", "Arun", "--method", "in_person")
    closed = ntk.json(
        "request", "close", grievance, "--resolution", "Call recorded; agent retrained."
    )
    assert closed["request"]["status"] == "closed" and closed["contact"]
    assert ntk.json("request", "list", "--overdue", "--json") == []
    assert ntk.json("request", "escalate", "--json") == []

    nominee_file = tmp_path / "nominee.json"
    nominee_file.write_text(json.dumps({"name": "Kiran Canarywala", "telephone": "9123456780"}))
    nomination = ntk.json(
        "request",
        "open",
        "--customer",
        cid,
        "--kind",
        "nomination",
        "--details",
        str(nominee_file),
        "--json",
    )["request_id"]
    ntk("request", "verify", nomination, "--verified-by", "Arun", "--method", "video_kyc")
    nominee_id = ntk.json("request", "fulfil", nomination)["answer"]["nominee"]["nominee_id"]
    assert ntk.json("nominee", "list", "--customer", cid, "--json")[0]["may_act"] is False
    acting = ntk(
        "request",
        "open",
        "--customer",
        cid,
        "--kind",
        "erasure",
        "--nominee",
        nominee_id,
        "--json",
        expect=15,
    )
    assert json.loads(acting.stderr)["reason"] == "nominee_without_evidence"
    ntk("nominee", "evidence", nominee_id, "--kind", "death", "--reference", "MH/PUN/2027/42")
    assert ntk.json("nominee", "contact", nominee_id)["name"] == "Kiran Canarywala"
    erasure = ntk.json(
        "request", "open", "--customer", cid, "--kind", "erasure", "--nominee", nominee_id, "--json"
    )
    assert erasure["nominee_id"] == nominee_id
    unknown = ntk("request", "open", "--customer", cid, "--kind", "forget", expect=5)
    # (the message as a terminal wraps it)
    assert "access, correction, erasure, nomination, grievance" in " ".join(unknown.stderr.split())
