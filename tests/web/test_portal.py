"""The customer's portal over real HTTP on 127.0.0.1 (SQLite and PostgreSQL): sign-in
with a code to the address on file and the same answer for an unknown one, every page
in both languages, a consent withdrawal that stops the next API read at once, requests,
and a history whose proofs the page carries for the browser to check."""

from __future__ import annotations

import base64
import json
import re

import httpx
from aiosmtpd.controller import Controller

from needtoknow.ledger import merkle
from needtoknow.records.outbox import Smtp
from needtoknow.rights.requests import RightsRequests
from needtoknow.vault import Vault
from tests.customers import ASHA
from tests.mail import Inbox
from tests.web.visitor import Visitor, sign_in_customer

Mail = tuple[Smtp, Inbox, Controller]
PAGES = ["/me", "/me/history", "/me/proofs", "/me/consents", "/me/requests", "/me/notices"]


def _main(page: httpx.Response) -> str:
    """The page's content, without the form tokens (which differ by session)."""
    return re.sub(r'value="[^"]*"', "", page.text.split("<main", 1)[1])


def test_asking_for_a_code_reads_the_same_for_an_unknown_address(
    vault: Vault, url: str, smtp: Mail
) -> None:
    vault.add(ASHA)
    pages = []
    for address in (ASHA["email"], "nobody@example.in"):
        visitor = Visitor(url)
        visitor.get("/me/signin")
        answer = visitor.post("/me/signin", {"address": address})
        assert answer.status_code == 200
        pages.append(_main(answer))
    assert pages[0] == pages[1]


def test_every_page_renders_in_english_and_hindi(vault: Vault, url: str, smtp: Mail) -> None:
    vault.add(ASHA)
    me = sign_in_customer(url, smtp[1], ASHA["email"])
    for path in PAGES:
        for lang in ("en", "hi"):
            page = me.get(f"{path}?lang={lang}")
            assert page.status_code == 200, (path, page.text[:400])
            assert f'<html lang="{lang}">' in page.text
    data = me.get("/me?lang=hi").text
    assert "ईमेल पता" in data  # the notice's own word for the category, not "email"
    assert ASHA["email"] not in me.get("/me").text  # names of categories, never values


def test_withdrawing_a_consent_stops_the_next_api_read(vault: Vault, url: str, smtp: Mail) -> None:
    cid = vault.add(ASHA).customer_id
    key = vault.api_keys.create("marketing_team", ("customers:read",)).token
    api = httpx.Client(base_url=url, headers={"authorization": f"Bearer {key}"})
    read = f"/v1/customers/{cid}?purpose=marketing_contact"
    assert api.get(read).status_code == 403  # no consent yet
    me = sign_in_customer(url, smtp[1], ASHA["email"])
    me.get("/me/consents")
    assert me.post("/me/consents/marketing_contact/grant", {}).status_code == 303
    assert api.get(read).status_code == 200
    page = me.get("/me/consents")
    assert "Withdraw consent to: marketing contact" in page.text
    assert me.post("/me/consents/marketing_contact/withdraw", {}).status_code == 303
    assert api.get(read).status_code == 403
    (consent,) = vault.consents.listing(cid)
    assert consent.withdrawn_channel == "web" and not consent.active


def test_a_request_is_opened_verified_by_the_session(vault: Vault, url: str, smtp: Mail) -> None:
    vault.add(ASHA)
    me = sign_in_customer(url, smtp[1], ASHA["email"])
    me.get("/me/requests")
    assert me.post("/me/requests", {"kind": "access", "details": ""}).status_code == 303
    page = me.get("/me/requests")
    assert "access" in page.text and "open" in page.text
    assert me.post("/me/requests", {"kind": "telepathy"}).status_code == 422
    fix = {"kind": "correction", "category": "address", "value": "12 MG Road, Pune 411001"}
    nominee = {"kind": "nomination", "name": "Meera Canarywala", "contact": "9123456780"}
    for form in (fix, nominee):
        me.get("/me/requests")
        assert me.post("/me/requests", form).status_code == 303
    kinds = sorted(r.kind for r in RightsRequests(vault).listing())
    assert kinds == ["access", "correction", "nomination"]
    shown = me.get("/me/requests").text
    assert "12 MG Road" not in shown and "9123456780" not in shown  # what was asked: sealed


def test_the_history_page_carries_each_entry_with_its_proof(
    vault: Vault, url: str, smtp: Mail
) -> None:
    cid = vault.add(ASHA).customer_id
    vault.get(cid, recipient="billing_team", purpose="billing")
    me = sign_in_customer(url, smtp[1], ASHA["email"])
    page = me.get("/me/history").text
    head = re.search(r'id="head" data-size="(\d+)" data-root="([0-9a-f]+)"', page)
    assert head and 'src="/static/web/verify.js"' in page
    rows = re.findall(
        r'data-index="(\d+)" data-entry="([^"]+)" data-leaf="([0-9a-f]*)" data-proof="([^"]*)"',
        page,
    )
    assert len(rows) >= 2
    for index, entry, leaf, proof in rows:
        data = base64.b64decode(entry)
        assert json.loads(data)["customer_id"] == cid
        checked = bytes.fromhex(leaf) if leaf else merkle.leaf_hash(data)
        path = [bytes.fromhex(p) for p in proof.split(",") if p]
        merkle.check_inclusion(
            checked, int(index), int(head.group(1)), path, bytes.fromhex(head.group(2))
        )


def test_signing_out_ends_the_session(vault: Vault, url: str, smtp: Mail) -> None:
    vault.add(ASHA)
    me = sign_in_customer(url, smtp[1], ASHA["email"])
    token = me.cookies["ntk_me"]
    assert me.post("/me/signout", {}).status_code == 303
    me.cookies["ntk_me"] = token
    assert me.get("/me").status_code == 303
    # the portal's session never opens the console, nor an API key the portal
    assert Visitor(url).get("/me/consents").headers["location"] == "/me/signin"
