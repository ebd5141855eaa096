"""Notices to the people an incident affected (DPDP Rules r.7(1)), through a real SMTP
server on 127.0.0.1: each person told once with their own categories, in English and
Hindi, with (a) to (e); a scope that grows tells only the new people; an erased
customer is skipped; the company's words are checked before anything is queued."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller

from needtoknow.errors import ValidationError
from needtoknow.incidents import Incidents
from needtoknow.records.outbox import Smtp
from needtoknow.vault import Vault
from tests.conftest import Clock, Ntk
from tests.customers import ASHA, RAVI
from tests.incidents.test_incident_cli import open_leak
from tests.mail import Inbox, text_of

Mail = tuple[Smtp, Inbox, Controller]

NOTICE: dict[str, Any] = {
    "what_happened": {
        "en": "A copy of our billing contacts was left readable on a storage server.",
        "hi": "हमारे बिलिंग संपर्कों की एक प्रति एक स्टोरेज सर्वर पर पढ़ी जा सकती थी।",
    },
    "consequences": {
        "en": "You may receive phishing e-mails that look like ours.",
        "hi": "आपको हमारे जैसे दिखने वाले फ़िशिंग ईमेल मिल सकते हैं।",
    },
    "measures": {
        "en": "We closed access, rotated the key and reported it to CERT-In.",
        "hi": "हमने पहुँच बंद की, कुंजी बदली और CERT-In को सूचना दी।",
    },
    "advice": {
        "en": "Do not click links in e-mails asking you to pay; sign in at our site instead.",
        "hi": "भुगतान माँगने वाले ईमेल के लिंक पर क्लिक न करें; हमारी साइट पर साइन इन करें।",
    },
}


def test_each_person_is_told_once_with_their_own_data_in_both_languages(
    vault: Vault, clock: Clock, smtp: Mail
) -> None:
    vault.add(ASHA)
    ravi = vault.add({k: v for k, v in RAVI.items() if k != "bank_account"}).customer_id
    register = Incidents(vault)
    opened = register.open("data_leak", clock.now, "Bucket left public")
    register.scope(opened.id, category="email")
    first = register.notify(opened.id, NOTICE)
    assert (first["notice"], first["queued"]) == (1, 2)
    outbox = vault.outbox(smtp[0], register.compose)
    assert outbox.deliver() == {"sent": 2}
    inbox = smtp[1]
    by_address = {m["To"]: text_of(m) for m in inbox.messages}
    assert set(by_address) == {ASHA["email"], RAVI["email"]}
    text = by_address[ASHA["email"]]
    for words in NOTICE.values():  # (a) to (d) in both languages
        assert words["en"] in text and words["hi"] in text
    assert "email" in text and "ईमेल पता" in text  # (a) their data, in each language
    assert vault.policy.grievance_contact in text  # (e)
    assert "IST" in text and "subject" not in text.lower()
    # told of nothing new: nobody is told twice
    assert register.notify(opened.id, NOTICE)["queued"] == 0
    # the scope grows: Asha's bank account is in it now, so she is told again, in the
    # new notice's words; Ravi, with nothing new, is not
    register.scope(opened.id, category="bank_account")
    newer = {**NOTICE, "measures": {"en": "We rotated every key.", "hi": "हमने हर कुंजी बदली।"}}
    again = register.notify(opened.id, newer)
    assert (again["notice"], again["queued"]) == (3, 1) and again["sha256"] != first["sha256"]
    assert outbox.deliver() == {"sent": 1}
    latest = text_of(inbox.messages[-1])
    assert inbox.messages[-1]["To"] == ASHA["email"]
    assert "We rotated every key." in latest and "bank account" in latest
    assert "We rotated every key." not in by_address[RAVI["email"]]
    notices = [
        json.loads(p.entry)["detail"]
        for p in vault.ledger.history(ravi)
        if json.loads(p.entry)["kind"] == "notice"
    ]
    assert notices == [
        {"notice": "incident", "incident_id": opened.id, "number": 1, "status": "sent"}
    ]
    record = register.record(opened.id)
    assert record["notices"] == {"sent": 3}


def test_an_erased_customer_is_skipped(vault: Vault, clock: Clock, smtp: Mail) -> None:
    asha = vault.add(ASHA).customer_id
    register = Incidents(vault)
    opened = register.open("data_leak", clock.now, "Bucket left public")
    register.scope(opened.id, category="email")
    register.notify(opened.id, NOTICE)
    vault.erase(asha)
    assert vault.outbox(smtp[0], register.compose).deliver() == {"skipped": 1}
    assert smtp[1].messages == []


def test_the_companys_words_are_checked_before_anything_is_queued(
    vault: Vault, clock: Clock
) -> None:
    vault.add(ASHA)
    register = Incidents(vault)
    opened = register.open("data_leak", clock.now, "Bucket left public")
    register.scope(opened.id, category="email")
    missing_hindi = {**NOTICE, "advice": {"en": "Change your password."}}
    with pytest.raises(ValidationError, match=r"advice\.hi"):
        register.notify(opened.id, missing_hindi)
    with pytest.raises(ValidationError, match="what_happened"):
        register.notify(opened.id, {**NOTICE, "extra": {}})
    assert vault.outbox().status(f"incident:{opened.id}:", prefix=True) == {}


def test_ntk_incident_notify_sends_from_a_yaml_file(ntk: Ntk, smtp: Mail, tmp_path: Any) -> None:
    ntk.json("customer", "add", "-", stdin=json.dumps(ASHA))
    opened = open_leak(ntk, "2026-11-26T10:00Z", "Bucket left public")
    ntk.json("incident", "scope", opened["incident_id"], "--category", "email")
    notice = tmp_path / "notice.yaml"
    notice.write_text(yaml.safe_dump(NOTICE, allow_unicode=True), "utf-8")
    server = smtp[0]
    ntk.env |= {
        "NTK_SMTP_HOST": server.host,
        "NTK_SMTP_PORT": str(server.port),
        "NTK_SMTP_FROM": server.sender,
        "NTK_SMTP_TLS": "plain",
    }
    sent = ntk.json("incident", "notify", opened["incident_id"], "--notice", str(notice))
    assert sent["queued"] == 1 and sent["delivery"] == {"sent": 1}
    assert [m["To"] for m in smtp[1].messages] == [ASHA["email"]]
