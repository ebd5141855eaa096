"""The Board's detailed report and CERT-In's report, made from the incident's record:
each item of Rule 7(2)(b) present, the counts from the scope and the outbox, the
revocations, Markdown and PDF written whole, and their digests in the ledger."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from needtoknow.errors import ValidationError
from needtoknow.incidents import Incidents
from needtoknow.records.outbox import Smtp
from needtoknow.vault import Vault
from tests.conftest import Clock
from tests.customers import ASHA
from tests.incidents.test_notices import NOTICE
from tests.ledgered import entries
from tests.mail import Inbox

WORDS: dict[str, Any] = {
    "description": "A support export of 1 customer's contact details was mailed outside.",
    "facts": "An agent attached the wrong file to a reply; the recipient reported it.",
    "mitigation": "The recipient deleted it and confirmed in writing; the key was revoked.",
    "findings": "An employee's error; no malice found.",
    "remediation": "Exports now need a second person; attachments are scanned for PII.",
    "affected_systems": "Helpdesk (support.nextraone.example)",
}


def test_both_reports_come_from_the_record(
    vault: Vault, clock: Clock, smtp: tuple[Smtp, Inbox, Controller], tmp_path: Path
) -> None:
    vault.add(ASHA)
    key = vault.api_keys.create("support_team").key
    register = Incidents(vault)
    opened = register.open("data_leak", clock.now, "Wrong attachment sent to a customer")
    register.scope(opened.id, category="email")
    register.revoke(opened.id, key=key.id)
    register.notify(opened.id, NOTICE)
    vault.outbox(smtp[0], register.compose).deliver()
    made = register.report(opened.id, WORDS, tmp_path)
    board = (tmp_path / "board-report.md").read_text("utf-8")
    for item in ("(i)", "(ii)", "(iii)", "(iv)", "(v)", "(vi)"):
        assert f"## {item} " in board
    for text in WORDS.values():
        assert text in board or text == WORDS["affected_systems"]
    assert "| sent | 1 |" in board and f"Revoked at once: key {key.id}" in board
    assert "| 1 |" in board and "category email" in board  # the scope's version and basis
    cert_in = (tmp_path / "cert-in-report.md").read_text("utf-8")
    assert "Data leak" in cert_in and WORDS["affected_systems"] in cert_in
    assert "Wrong attachment sent to a customer" not in cert_in  # the sealed summary stays so
    assert WORDS["description"] in cert_in
    assert ASHA["email"] not in board + cert_in  # counts and categories, never values
    for name, digest in made["documents"].items():
        data = (tmp_path / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest
        if name.endswith(".pdf"):
            assert data.startswith(b"%PDF-") and b"/Type /Page" in data
    reported = [
        e["detail"]
        for e in entries(vault)
        if e["kind"] == "incident" and e["detail"]["event"] == "reported"
    ]
    assert reported[0]["documents"] == made["documents"]


def test_the_companys_words_are_checked(vault: Vault, clock: Clock, tmp_path: Path) -> None:
    register, out = Incidents(vault), tmp_path / "reports"
    opened = register.open("data_leak", clock.now, "x")
    with pytest.raises(ValidationError, match="findings"):
        register.report(opened.id, {k: v for k, v in WORDS.items() if k != "findings"}, out)
    with pytest.raises(ValidationError, match="remediation"):  # the valid names are listed
        register.report(opened.id, {**WORDS, "blame": "nobody"}, out)
    assert not out.exists()
