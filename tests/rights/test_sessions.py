"""Customers signing in with a one-time code: the same answer whether or not an address
is on file, limits per address and per client, lock-out, short-lived tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from needtoknow.errors import AuthenticationError, TooManyAttempts, VerificationFailed
from needtoknow.records.outbox import Smtp
from needtoknow.rights.senders import Messenger, SmsWebhook
from needtoknow.rights.sessions import STARTS_PER_ADDRESS, STARTS_PER_CLIENT, CustomerSessions
from needtoknow.vault import Vault
from tests.conftest import Clock
from tests.customers import ASHA
from tests.mail import Inbox, SmsGateway, code_in

Mail = tuple[Smtp, Inbox, Controller]


@pytest.fixture
def sessions(vault: Vault, smtp: Mail, sms: SmsGateway) -> CustomerSessions:
    return CustomerSessions(vault, Messenger(smtp[0], SmsWebhook(sms.url)))


def sign_in(sessions: CustomerSessions, inbox: Inbox, address: str) -> str:
    session_id, deliver = sessions.start(address, "203.0.113.9")
    assert deliver is not None
    deliver()
    return sessions.verify(session_id, code_in(inbox.messages[-1])).token


def test_a_customer_signs_in_with_a_code_sent_to_the_address_on_file(
    vault: Vault, sessions: CustomerSessions, smtp: Mail, clock: Clock
) -> None:
    cid = vault.add(ASHA).customer_id
    token = sign_in(sessions, smtp[1], " Asha.Canary@Example.in ")
    assert smtp[1].messages[-1]["To"].lower() == ASHA["email"]  # the same mailbox
    assert sessions.customer(token) == cid
    clock.now += timedelta(minutes=16)
    with pytest.raises(AuthenticationError, match="expired session token"):
        sessions.customer(token)


def test_a_telephone_signs_in_by_sms(
    vault: Vault, sessions: CustomerSessions, sms: SmsGateway
) -> None:
    cid = vault.add(ASHA).customer_id
    session_id, deliver = sessions.start("098765 43210", "203.0.113.9")
    assert deliver is not None
    deliver()
    assert sms.messages[-1]["to"] == "+919876543210"
    token = sessions.verify(session_id, code_in(sms.messages[-1]["text"])).token
    assert sessions.customer(token) == cid


def test_an_address_not_on_file_gets_the_same_answer_and_no_code_can_match(
    vault: Vault, sessions: CustomerSessions, smtp: Mail
) -> None:
    vault.add(ASHA)
    session_id, deliver = sessions.start("stranger@example.in", "203.0.113.9")
    assert deliver is None and len(session_id) == 36
    assert smtp[1].messages == []
    for guess in ("000000", "123456"):
        with pytest.raises(VerificationFailed, match="wrong_code"):
            sessions.verify(session_id, guess)


def test_starts_are_limited_per_address_and_per_client(
    vault: Vault, sessions: CustomerSessions, clock: Clock
) -> None:
    vault.add(ASHA)
    for _ in range(STARTS_PER_ADDRESS):
        sessions.start(ASHA["email"], "203.0.113.9")
    with pytest.raises(TooManyAttempts) as limited:
        sessions.start(ASHA["email"], "198.51.100.1")  # another client, same address
    assert 0 < limited.value.retry_after <= 3600
    with pytest.raises(TooManyAttempts):  # an address not on file is limited alike
        for _ in range(STARTS_PER_ADDRESS + 1):
            sessions.start("nobody@example.in", "198.51.100.2")
    for n in range(STARTS_PER_CLIENT - STARTS_PER_ADDRESS):
        sessions.start(f"guess{n}@example.in", "203.0.113.9")
    with pytest.raises(TooManyAttempts):
        sessions.start("guess99@example.in", "203.0.113.9")  # one more from this client
    clock.now += timedelta(hours=1, seconds=1)
    sessions.start(ASHA["email"], "203.0.113.9")


def test_a_customer_is_locked_out_after_ten_wrong_codes_without_the_answer_changing(
    vault: Vault, sessions: CustomerSessions, smtp: Mail, clock: Clock
) -> None:
    vault.add(ASHA)
    for client in ("203.0.113.1", "203.0.113.2"):
        session_id, deliver = sessions.start(ASHA["email"], client)
        assert deliver is not None
        deliver()
        wrong = f"{(int(code_in(smtp[1].messages[-1])) + 1) % 10**6:06d}"
        for _ in range(5):
            with pytest.raises(VerificationFailed):
                sessions.verify(session_id, wrong)
        clock.now += timedelta(minutes=1)
    session_id, deliver = sessions.start(ASHA["email"], "203.0.113.3")
    assert deliver is None  # locked: nothing sent, the same answer
    clock.now += timedelta(hours=1)
    assert sessions.start(ASHA["email"], "203.0.113.4")[1] is not None


def test_signing_out_ends_the_token_at_once(
    vault: Vault, sessions: CustomerSessions, smtp: Mail
) -> None:
    vault.add(ASHA)
    token = sign_in(sessions, smtp[1], ASHA["email"])
    sessions.end(token)
    with pytest.raises(AuthenticationError, match="expired"):
        sessions.customer(token)
    with pytest.raises(AuthenticationError, match="malformed"):
        sessions.customer("ntk_abc_def")  # an API key is no session token
