"""The customer's own API over real HTTP on 127.0.0.1 (uvicorn in this process, so the
vault's clock can be moved: the ``url`` fixture), on SQLite and PostgreSQL, through the
Python client:
signing in with a code, the access summary and history, consents, and requests — and
what an outsider cannot learn or do."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest
from aiosmtpd.controller import Controller

from needtoknow.client import CustomerClient, VaultClient
from needtoknow.errors import (
    AuthenticationError,
    NotFound,
    TooManyAttempts,
    ValidationError,
    VerificationFailed,
)
from needtoknow.records.outbox import Smtp
from needtoknow.rights.requests import RightsRequests
from needtoknow.rights.sessions import STARTS_PER_ADDRESS
from needtoknow.vault import Vault
from tests.conftest import Clock
from tests.customers import ASHA, RAVI
from tests.mail import Inbox, code_in

Mail = tuple[Smtp, Inbox, Controller]


def signed_in(url: str, inbox: Inbox, address: str) -> CustomerClient:
    client = CustomerClient(url)
    session_id = client.start_session(address)
    deadline = time.monotonic() + 10
    while not inbox.messages and time.monotonic() < deadline:  # sent after the answer
        time.sleep(0.02)
    client.sign_in(session_id, code_in(inbox.messages[-1]))
    return client


def test_a_customer_signs_in_sees_who_received_their_data_and_asks_for_erasure(
    vault: Vault, url: str, smtp: Mail
) -> None:
    cid = vault.add(ASHA).customer_id
    vault.accounts.set_services(cid, ["vps"])
    vault.get(cid, recipient="billing_team", purpose="billing")
    with signed_in(url, smtp[1], ASHA["email"]) as me:
        summary = me.summary()
        assert [r["recipient"] for r in summary["recipients"]] == ["billing_team"]
        assert summary["contact"] and ASHA["email"] not in str(summary)
        kinds = [e["entry"]["kind"] for e in me.my_history()["entries"]]
        assert kinds[0] == "write" and "session" in kinds
        opened = me.open_request("erasure")
        assert opened["verification"] == "verified" and opened["verified_method"] == "session"
        desk = RightsRequests(vault.acting("dpo:arun"))
        answer = desk.fulfil(opened["request_id"])["answer"]
        assert "email" in {k["category"] for k in answer["kept"]}  # CERT-In keeps it
        assert me.my_request(opened["request_id"])["status"] == "fulfilled"


def test_grievance_resolution_and_consents_through_the_client(
    vault: Vault, url: str, smtp: Mail
) -> None:
    cid = vault.add(ASHA).customer_id
    with signed_in(url, smtp[1], ASHA["email"]) as me:
        grievance = me.open_request("grievance", "Please stop calling me at night")
        RightsRequests(vault).close(grievance["request_id"], "Calls now only 9am-7pm.")
        (mine,) = me.my_requests()
        assert mine["status"] == "closed" and mine["resolution"] == "Calls now only 9am-7pm."
        with pytest.raises(ValidationError):
            me.open_request("correction", {"shoe_size": 9})
        notice = vault.policy.version
        granted = me.grant_consent("marketing_contact", notice)
        assert granted["active"] and granted["granted_by"] == f"customer:{cid}"
        (withdrawn,) = me.withdraw_consent("marketing_contact")
        assert withdrawn["active"] is False
        assert [c["active"] for c in me.my_consents()] == [False]


def test_an_address_not_on_file_gets_the_same_answer_and_nothing_is_sent(
    vault: Vault, url: str, smtp: Mail
) -> None:
    vault.add(ASHA)
    on_file = httpx.post(f"{url}/v1/me/session", json={"address": ASHA["email"]})
    stranger = httpx.post(f"{url}/v1/me/session", json={"address": "nobody@example.in"})
    assert on_file.status_code == stranger.status_code == 202
    assert on_file.json().keys() == stranger.json().keys()
    assert on_file.json()["message"] == stranger.json()["message"]
    time.sleep(0.5)
    assert [m["To"] for m in smtp[1].messages] == [ASHA["email"]]
    with pytest.raises(VerificationFailed):
        CustomerClient(url).sign_in(stranger.json()["session_id"], "123456")


def test_keys_and_tokens_do_not_cross_and_nobody_reads_anothers_request(
    vault: Vault, url: str, smtp: Mail
) -> None:
    vault.add(ASHA)
    ravi = vault.add(RAVI).customer_id
    theirs = RightsRequests(vault).open(ravi, "access")
    key = vault.api_keys.create("support_team", ("customers:read",)).token
    with CustomerClient(url) as as_key:
        as_key.use_token(key)
        with pytest.raises(AuthenticationError, match="malformed"):
            as_key.summary()
    with signed_in(url, smtp[1], ASHA["email"]) as me:
        with pytest.raises(NotFound):
            me.my_request(theirs.id)
        token = me._http.headers["Authorization"].removeprefix("Bearer ")
        with VaultClient(url, token) as staff, pytest.raises(AuthenticationError):
            staff.get_customer(ravi, purpose="service_delivery")
        me.sign_out()
        with pytest.raises(AuthenticationError, match="expired"):
            me.summary()


def test_starts_are_rate_limited_and_tokens_expire(
    vault: Vault, url: str, smtp: Mail, clock: Clock
) -> None:
    vault.add(ASHA)
    me = signed_in(url, smtp[1], ASHA["email"])
    clock.now += timedelta(minutes=16)
    with pytest.raises(AuthenticationError, match="expired"):
        me.summary()
    client = CustomerClient(url)
    for _ in range(STARTS_PER_ADDRESS - 1):
        client.start_session(ASHA["email"])
    with pytest.raises(TooManyAttempts) as limited:
        client.start_session(ASHA["email"])
    assert limited.value.retry_after > 0
    raw = httpx.post(f"{url}/v1/me/session", json={"address": ASHA["email"]})
    assert raw.status_code == 429 and int(raw.headers["Retry-After"]) > 0
