"""The officer's console over real HTTP on 127.0.0.1 (SQLite and PostgreSQL): sign-in
with a password and a TOTP code, the headers every page carries, forms that refuse
without their token, roles, four eyes across two accounts, and reads that are reads
like any other (checked and ledgered as the signed-in member)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from needtoknow.errors import TooManyAttempts, ValidationError
from needtoknow.records.audits import _RUNNING
from needtoknow.staff import StaffAccounts
from needtoknow.staff.sessions import IDLE
from needtoknow.vault import Vault
from tests.conftest import Clock
from tests.customers import ASHA
from tests.staff.test_accounts import PASSWORD, code
from tests.web.visitor import Visitor, sign_in_staff, staff_member

PAGES = [
    "/console",
    "/console/policy",
    "/console/disclosures",
    "/console/customers",
    "/console/advertisers",
    "/console/ledger",
]


def test_every_page_carries_strict_headers_and_the_api_is_untouched(url: str) -> None:
    visitor = Visitor(url)
    for path in ("/console/signin", "/me/signin", "/static/web/site.css"):
        answer = visitor.get(path)
        assert answer.status_code == 200
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" not in answer.headers  # plain HTTP here
    assert visitor.get("/console/signin").headers["cache-control"] == "no-store"
    assert "content-security-policy" not in visitor.get("/healthz").headers
    assert "console" not in json.dumps(visitor.get("/openapi.json").json()["paths"])


def test_the_session_cookie_is_secure_http_only_and_strict(vault: Vault, url: str) -> None:
    secret = staff_member(vault, "priya", "officer")
    visitor = Visitor(url)
    visitor.get("/console/signin")
    answer = visitor.post(
        "/console/signin", {"name": "priya", "password": PASSWORD, "code": code(secret, vault)}
    )
    (cookie,) = [c for c in answer.headers.get_list("set-cookie") if c.startswith("ntk_staff=")]
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "samesite=strict", "path=/console"} <= flags


def test_every_page_renders_for_an_officer_in_english_and_hindi(vault: Vault, url: str) -> None:
    secret = staff_member(vault, "priya", "officer")
    visitor = sign_in_staff(url, vault, "priya", secret)
    for path in PAGES:
        english = visitor.get(f"{path}?lang=en")
        assert english.status_code == 200, (path, english.text[:500])
        assert '<html lang="en">' in english.text
        hindi = visitor.get(f"{path}?lang=hi")
        assert hindi.status_code == 200 and '<html lang="hi">' in hindi.text
    # the choice is remembered, and the browser's own preference is the default
    assert '<html lang="hi">' in visitor.get("/console").text
    fresh = Visitor(url)
    assert '<html lang="hi">' in fresh.get("/console/signin", **{"accept-language": "hi-IN"}).text


def test_a_members_account_chooses_the_console_language(vault: Vault, url: str) -> None:
    secret = StaffAccounts(vault.scope).add("asha.k", "analyst", PASSWORD, "hi").totp_secret
    analyst = sign_in_staff(url, vault, "asha.k", secret)
    assert '<html lang="hi">' in analyst.get("/console").text  # no ?lang=, no cookie
    assert '<html lang="en">' in analyst.get("/console?lang=en").text  # the switch wins
    with pytest.raises(ValidationError, match="hi"):  # names the valid ones
        StaffAccounts(vault.scope).add("ravi.k", "analyst", PASSWORD, "fr")


def test_a_refused_sign_in_reads_the_same_whatever_was_wrong(vault: Vault, url: str) -> None:
    secret = staff_member(vault, "priya", "officer")
    attempts = [
        {"name": "priya", "password": "wrong password!!", "code": code(secret, vault)},
        {"name": "priya", "password": PASSWORD, "code": "000000"},
        {"name": "nobody", "password": PASSWORD, "code": code(secret, vault)},
    ]
    bodies = set()
    for attempt in attempts:
        visitor = Visitor(url)
        visitor.get("/console/signin")
        answer = visitor.post("/console/signin", attempt)
        assert answer.status_code == 401 and "ntk_staff" not in visitor.cookies
        bodies.add(answer.text.split("<main")[1].split('name="csrf"')[0])
    assert len(bodies) == 1
    assert visitor.get("/console").status_code == 303  # still signed out


def test_forms_without_their_token_change_nothing(vault: Vault, url: str) -> None:
    secret = staff_member(vault, "priya", "officer")
    other = staff_member(vault, "arun", "officer")
    priya = sign_in_staff(url, vault, "priya", secret)
    arun = sign_in_staff(url, vault, "arun", other)
    file = {"authority": "law_enforcement", "purpose": "legal_process"}
    assert priya.post("/console/disclosures", file, token=False).status_code == 401
    stolen = {**file, "csrf": arun.form_token()}
    assert priya.post("/console/disclosures", stolen).status_code == 401
    assert vault.disclosures.requests() == []
    # a sign-in form posted from elsewhere has no matching cookie (login CSRF)
    stranger = Visitor(url)
    forged = {"name": "priya", "password": PASSWORD, "code": "123456", "csrf": "x" * 32}
    assert stranger.post("/console/signin", forged).status_code == 401
    # nor a token that someone planted in the browser's cookie along with the form
    stranger.cookies["ntk_form"] = "planted.0123456789abcdef0123456789abcdef"
    planted = {**forged, "code": code(secret, vault), "csrf": stranger.cookies["ntk_form"]}
    assert stranger.post("/console/signin", planted).status_code == 401
    assert "ntk_staff" not in stranger.cookies


def test_four_eyes_are_two_accounts(vault: Vault, url: str, clock: Clock) -> None:
    cid = vault.add(ASHA).customer_id
    officer = sign_in_staff(url, vault, "priya", staff_member(vault, "priya", "officer"))
    officer.get("/console/disclosures")
    filed = officer.post(
        "/console/disclosures",
        {
            "authority": "law_enforcement",
            "purpose": "legal_process",
            "legal_basis": "BNSS s.94 order",
            "reference": "FIR 12/2026",
            "customer_ids": cid,
            "categories": ["name", "email"],
        },
    )
    page = officer.follow(filed)
    assert "someone else must approve" in page.text and 'id="approve"' not in page.text
    request_id = filed.headers["location"].rsplit("/", 1)[1]
    refused = officer.post(f"/console/disclosures/{request_id}/approve", {})
    assert refused.status_code == 403 and vault.disclosures.get(request_id).status == "requested"
    clock.now += timedelta(seconds=31)
    approver = sign_in_staff(url, vault, "arun", staff_member(vault, "arun", "approver"))
    assert approver.get("/console/customers").status_code == 403  # not this role's page
    approver.get(f"/console/disclosures/{request_id}")
    approved = approver.post(f"/console/disclosures/{request_id}/approve", {})
    assert approved.status_code == 303
    made = vault.disclosures.get(request_id)
    assert (made.status, made.requested_by, made.decided_by) == (
        "approved",
        "staff:priya",
        "staff:arun",
    )
    officer.get(f"/console/disclosures/{request_id}")
    package = officer.post(f"/console/disclosures/{request_id}/release", {"public_key": ""})
    assert package.status_code == 200 and "attachment" in package.headers["content-disposition"]
    assert ASHA["email"] in package.text  # what the authority was granted, unsealed here
    assert vault.disclosures.get(request_id).status == "released"


def test_the_officer_finds_a_customer_and_sees_only_what_the_policy_grants(
    vault: Vault, url: str
) -> None:
    cid = vault.add(ASHA).customer_id
    officer = sign_in_staff(url, vault, "priya", staff_member(vault, "priya", "officer"))
    officer.get("/console/customers")
    found = officer.post(
        "/console/customers",
        {
            "category": "email",
            "value": ASHA["email"].upper(),
            "recipient": "billing_team",
            "purpose": "billing",
        },
    )
    assert cid in found.text and ASHA["email"] not in found.text  # the value is not echoed
    page = officer.post(
        f"/console/customers/{cid}", {"recipient": "billing_team", "purpose": "billing"}
    )
    assert page.status_code == 200 and ASHA["name"] in page.text
    assert ASHA["date_of_birth"] not in page.text  # billing is not granted it
    history = vault.history(cid, include_held=True)
    reads = [json.loads(p.entry) for p in history]
    assert {"find", "read"} <= {e["kind"] for e in reads if e.get("actor") == "staff:priya"}
    # only as one of the company's own teams: never in a bank's or contractor's name
    outside = officer.post(
        f"/console/customers/{cid}", {"recipient": "credit_bureau", "purpose": "credit_scoring"}
    )
    assert outside.status_code == 422 and "billing_team" in outside.text  # the valid ones
    gone = officer.get(f"/console/customers/{cid}")  # reads are posted, never linked
    assert gone.status_code == 405 and gone.headers["content-type"].startswith("text/html")
    assert officer.get("/console/nowhere").headers["content-type"].startswith("text/html")
    after = [json.loads(p.entry) for p in vault.history(cid, include_held=True)]
    assert not [e for e in after if e.get("recipient") == "credit_bureau"]


def test_a_verification_is_kept_and_shown_on_today(vault: Vault, url: str) -> None:
    officer = sign_in_staff(url, vault, "priya", staff_member(vault, "priya", "officer"))
    assert "never" in officer.get("/console").text
    officer.get("/console/ledger")
    verified = officer.post("/console/ledger/verify", {})
    assert 'id="verified" class="good"' in verified.text
    last = vault.audits.last()
    assert last is not None and last.ok and last.actor == "staff:priya"
    assert "it held" in officer.get("/console").text
    export = officer.get("/console/ledger/export")
    assert export.status_code == 200 and export.text.count("\n") >= last.entries
    head = officer.get("/console/ledger/head").json()
    assert head["tree_size"] >= last.entries


def test_verify_what_is_new_reads_only_the_new_entries_and_one_runs_at_a_time(
    vault: Vault, url: str
) -> None:
    """A carried hole: "Verify now" read the whole ledger at every press (half a minute
    at a million entries), so pressing it again and again loaded the server. Now it
    reads what came after the last verification that held; all of it only when asked;
    and a second press while one runs is refused."""
    officer = sign_in_staff(url, vault, "priya", staff_member(vault, "priya", "officer"))
    officer.get("/console/ledger")
    vault.ledger.sign_head()  # as `ntk serve` does every minute
    whole = officer.post("/console/ledger/verify", {"scope": "all"})
    assert 'id="verified" class="good"' in whole.text and "Only the entries after" not in whole.text
    vault.add(ASHA)
    new = officer.post("/console/ledger/verify", {"scope": "new"})
    assert 'id="verified" class="good"' in new.text
    assert "Only the entries after the first" in new.text
    today = officer.get("/console").text  # the newest was partial: the whole one is named
    assert "only the entries after the first" in today
    whole_run = vault.audits.last(whole=True)
    assert whole_run is not None and whole_run.since == 0 and whole_run.ok
    assert vault.audits.last() != whole_run
    assert 'id="whole">' in today and "never" not in today.split('id="whole">')[1][:200]
    with _RUNNING:  # a verification under way in this process
        refused = officer.post("/console/ledger/verify", {"scope": "new"})
    assert refused.status_code == 429 and "already running; try again" in refused.text
    with pytest.raises(TooManyAttempts), _RUNNING:
        vault.audits.run()


def test_roles_open_only_their_pages(vault: Vault, url: str) -> None:
    analyst = sign_in_staff(url, vault, "meera", staff_member(vault, "meera", "analyst"))
    for path in ("/console", "/console/policy", "/console/ledger", "/console/advertisers"):
        assert analyst.get(path).status_code == 200, path
    assert analyst.get("/console/customers").status_code == 403
    page = analyst.get("/console/disclosures")
    assert page.status_code == 200 and "File a request" not in page.text


def test_a_session_ends_on_sign_out_and_when_idle(vault: Vault, url: str, clock: Clock) -> None:
    secret = staff_member(vault, "priya", "officer")
    visitor = sign_in_staff(url, vault, "priya", secret)
    token = visitor.cookies["ntk_staff"]
    gone = visitor.post("/console/signout", {})
    assert gone.status_code == 303 and "ntk_staff" not in visitor.cookies
    visitor.cookies["ntk_staff"] = token  # a copy kept by whoever stole it
    assert visitor.get("/console").status_code == 303
    clock.now += timedelta(seconds=31)
    again = sign_in_staff(url, vault, "priya", secret)
    clock.now += IDLE
    assert again.get("/console").status_code == 303


@pytest.mark.parametrize("path", ["/console/ledger?kind=read", "/console"])
def test_pages_without_a_session_send_the_browser_to_sign_in(url: str, path: str) -> None:
    answer = Visitor(url).get(path)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/signin"


def test_the_ledger_is_browsed_by_customer_recipient_kind_and_time(vault: Vault, url: str) -> None:
    cid = vault.add(ASHA).customer_id
    vault.get(cid, recipient="billing_team", purpose="billing")  # not yet under a head
    analyst = sign_in_staff(url, vault, "meera", staff_member(vault, "meera", "analyst"))
    rows = analyst.get(f"/console/ledger?customer={cid}", **{"hx-request": "true"})
    assert rows.text.startswith('<div id="rows"')  # htmx gets the rows alone
    assert rows.text.count("<tr><td>") == 2  # the write and the read
    billing = analyst.get("/console/ledger?recipient=billing_team&kind=read").text
    assert billing.count("<tr><td>") == 1
    day = vault.clock().date()
    later = analyst.get(f"/console/ledger?since={day + timedelta(days=1)}").text
    assert later.count("<tr><td>") == 0
    today = analyst.get(f"/console/ledger?since={day}&until={day}&kind=read").text
    assert today.count("<tr><td>") == 1  # a date alone as "until" takes in that whole day
    assert analyst.get("/console/ledger?kind=gossip").status_code == 422
    assert analyst.get("/console/ledger?since=yesterday").status_code == 422


def test_a_client_that_keeps_failing_is_stopped_whatever_names_it_tries(
    vault: Vault, url: str
) -> None:
    secret = staff_member(vault, "priya", "officer")
    visitor = Visitor(url)
    for attempt in range(10):  # NTK_API_REFUSAL_RATE's default: 10 a minute
        visitor.get("/console/signin")
        wrong = {"name": f"guess{attempt}", "password": PASSWORD, "code": "000000"}
        assert visitor.post("/console/signin", wrong).status_code == 401
    visitor.get("/console/signin")
    right = {"name": "priya", "password": PASSWORD, "code": code(secret, vault)}
    stopped = visitor.post("/console/signin", right)
    assert stopped.status_code == 429 and "Retry-After" in stopped.headers
    assert "ntk_staff" not in visitor.cookies
