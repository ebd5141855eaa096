"""The console and the portal in a real browser: Debian's chromium driven by Playwright
against the service on loopback. Sign-in typed with the keyboard alone, four eyes by
two accounts, the ledger filtered in place by htmx, a consent given and withdrawn with
the keyboard (the next API read then fails), proofs checked by the page's own
JavaScript (and failing when the server lies about one byte), axe-core on every page
with no serious or critical violation, and a screenshot of each page in English and
Hindi (into NTK_SCREENSHOTS if set, which is how docs/console/ is made)."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from needtoknow.api.app import create_app
from needtoknow.records.outbox import Smtp
from needtoknow.rights.senders import Messenger
from needtoknow.vault import Vault
from tests.conftest import Clock, need_service
from tests.customers import ASHA
from tests.mail import Inbox, code_in
from tests.serving import serving
from tests.staff.test_accounts import PASSWORD, code
from tests.web.test_console import PAGES as CONSOLE_PAGES
from tests.web.test_portal import PAGES as PORTAL_PAGES
from tests.web.visitor import staff_member

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text("utf-8")
FLAGS = [
    "--no-sandbox",  # root in CI
    "--disable-gpu",
    "--disable-background-networking",  # no calls home on a closed network
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
Mail = tuple[Smtp, Inbox, Controller]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        need_service("chromium is not installed", "scripts/test-services.sh installs it")
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


class TamperedProof:
    """A lying server: one hex digit of the first proof on the history page is changed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/me/history":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def keep(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, keep)
        start, *bodies = held
        body = b"".join(m.get("body", b"") for m in bodies)
        body = re.sub(
            rb'data-proof="([0-9a-f])',
            lambda m: b'data-proof="' + (b"0" if m.group(1) != b"0" else b"1"),
            body,
            count=1,
        )
        start["headers"] = [(k, v) for k, v in start["headers"] if k != b"content-length"]
        start["headers"].append((b"content-length", str(len(body)).encode()))
        await send(start)
        await send({"type": "http.response.body", "body": body})


def _served(vault: Vault, smtp: Mail, tamper: bool = False) -> Any:
    app = create_app(vault, messenger=Messenger(smtp[0]))
    if tamper:
        app.add_middleware(TamperedProof)
    return serving(app)


def _localhost(url: str) -> str:
    # Browsers treat localhost as a secure context: Secure cookies and WebCrypto work.
    return url.replace("127.0.0.1", "localhost")


def _axe(page: Any) -> list[dict[str, Any]]:
    """Serious and critical accessibility violations on the page (axe-core)."""
    page.evaluate(AXE)
    found = page.evaluate("axe.run(document).then(r => r.violations)")
    return [v for v in found if v["impact"] in ("serious", "critical")]


def _shoot(page: Any, name: str, tmp_path: Path) -> None:
    directory = Path(os.environ.get("NTK_SCREENSHOTS", tmp_path))
    directory.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def _check_every_page(page: Any, base: str, paths: list[str], prefix: str, tmp: Path) -> None:
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Refused" in m.text else None)
    for path in paths:
        for lang in ("en", "hi"):
            page.goto(f"{base}{path}?lang={lang}")
            page.wait_for_load_state("networkidle")
            assert page.locator("html").get_attribute("lang") == lang
            name = (path.strip("/").replace("/", "-") or "index") + f"-{lang}"
            _shoot(page, f"{prefix}-{name}", tmp)
            assert _axe(page) == [], (path, lang)
    assert refused == []  # nothing of ours is blocked by our own CSP


def _type_sign_in(page: Any, name: str, secret: str, vault: Vault) -> None:
    """Sign in with the keyboard alone: Tab between fields, Enter to submit."""
    page.locator("#name").focus()
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    page.keyboard.type(code(secret, vault))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/console$"))


def test_officers_sign_in_by_keyboard_and_two_of_them_release_a_disclosure(
    browser: Any, sqlite_vault: Vault, smtp: Mail, tmp_path: Path, clock: Clock
) -> None:
    vault = sqlite_vault
    cid = vault.add(ASHA).customer_id
    priya = staff_member(vault, "priya", "officer")
    arun = staff_member(vault, "arun", "approver")
    with _served(vault, smtp) as url:
        base = _localhost(url)
        first = browser.new_context()
        page = first.new_page()
        page.goto(f"{base}/console")
        assert page.url.endswith("/console/signin")
        _shoot(page, "console-signin-en", tmp_path)
        _type_sign_in(page, "priya", priya, vault)
        page.goto(f"{base}/console/disclosures")
        page.select_option("#authority", "law_enforcement")
        page.select_option("#purpose", "legal_process")
        page.fill("#legal_basis", "BNSS s.94 order")
        page.fill("#reference", "FIR 12/2026")
        page.fill("#customer_ids", cid)
        page.check("input[name=categories][value=name]")
        page.click("text=File the request")
        assert page.locator("#four-eyes").is_visible()
        request_url = page.url
        _check_every_page(
            page,
            base,
            CONSOLE_PAGES,
            "console",
            tmp_path,
        )
        page.goto(f"{base}/console/ledger?lang=en")
        page.select_option("select[name=kind]", "disclosure")
        page.click("form.filters button[type=submit]")  # htmx swaps the rows in place
        page.wait_for_selector("#rows >> text=1 entries shown")
        assert page.url == f"{base}/console/ledger?lang=en"  # no navigation
        assert page.locator("#rows tbody tr").count() == 1
        clock.now += timedelta(seconds=31)  # the next code step
        second = browser.new_context()
        other = second.new_page()
        other.goto(f"{base}/console/signin")
        _type_sign_in(other, "arun", arun, vault)
        other.goto(request_url)
        other.click("#approve")
        assert other.locator("#status").inner_text() == "approved"
        page.goto(request_url)
        with page.expect_download() as download:
            page.click("#release")
        assert download.value.suggested_filename.endswith(".json")
        made = vault.disclosures.requests()[0]
        assert (made.requested_by, made.decided_by, made.status) == (
            "staff:priya",
            "staff:arun",
            "released",
        )
        first.close()
        second.close()


def _customer_signs_in(browser: Any, base: str, inbox: Inbox) -> Any:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/me/signin")
    before = len(inbox.messages)
    page.fill("#address", ASHA["email"])
    page.click("button[type=submit]")
    deadline = time.monotonic() + 10
    while len(inbox.messages) == before and time.monotonic() < deadline:
        time.sleep(0.02)
    page.fill("#code", code_in(inbox.messages[-1]))
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/me$"))
    return page


def _an_old_entry_naming_another_customer(vault: Vault, customer_id: str) -> None:
    """An entry as written before multi-customer operations were ledgered one entry per
    customer: shown to this customer with the other's id taken out."""
    from needtoknow.ledger import log
    from needtoknow.ledger.entry import canonical_json

    other = vault.add({"name": "Ravi Sentinelkar", "email": "ravi@example.in"}).customer_id
    old = {
        "v": 1,
        "kind": "find",
        "time": "2026-11-01T00:00:00.000000Z",
        "actor": "api:k",
        "customer_ids": sorted([customer_id, other]),
    }
    with vault.db.begin() as conn:
        cursor = conn.connection.cursor()
        log.append_with(cursor, log.statements(conn.dialect), [canonical_json(old)])


def test_the_customer_sees_each_proof_verified_by_the_page(
    browser: Any, sqlite_vault: Vault, smtp: Mail, tmp_path: Path
) -> None:
    vault = sqlite_vault
    cid = vault.add(ASHA).customer_id
    vault.get(cid, recipient="billing_team", purpose="billing")
    _an_old_entry_naming_another_customer(vault, cid)
    with _served(vault, smtp) as url:
        base = _localhost(url)
        page = _customer_signs_in(browser, base, smtp[1])
        page.goto(f"{base}/me/history")
        page.wait_for_selector("#summary[data-result]")
        assert page.locator("#summary").get_attribute("data-result") == "verified"
        assert "◐" in page.locator("#summary").inner_text()  # and says what ◐ means
        rows = page.locator("tr.entry")
        states = [rows.nth(i).get_attribute("data-verified") for i in range(rows.count())]
        # the old entry's place is proven, its shown contents cannot be: never "yes"
        assert states.count("partial") == 1 and states.count("yes") == len(states) - 1 >= 2
        assert "billing team" in page.locator("tbody").inner_text()
        key = vault.api_keys.create("marketing_team", ("customers:read",)).token
        api = httpx.Client(base_url=url, headers={"authorization": f"Bearer {key}"})
        read = f"/v1/customers/{cid}?purpose=marketing_contact"
        page.goto(f"{base}/me/consents")
        give = page.get_by_role("button", name="Give consent to: marketing contact")
        give.focus()  # the keyboard alone: focus the switch, press Enter
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert api.get(read).status_code == 200
        page.get_by_role("button", name="Withdraw consent to: marketing contact").focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert api.get(read).status_code == 403  # the next read fails, at once
        page.goto(f"{base}/me/history?lang=en")
        page.wait_for_selector("#summary[data-result]")
        assert "read — refused" in page.locator("tbody").inner_text()  # a denial shows
        _check_every_page(
            page,
            base,
            PORTAL_PAGES,
            "portal",
            tmp_path,
        )
        page.context.close()


def test_a_proof_the_server_tampered_with_fails_in_the_page(
    browser: Any, sqlite_vault: Vault, smtp: Mail
) -> None:
    vault = sqlite_vault
    cid = vault.add(ASHA).customer_id
    vault.get(cid, recipient="billing_team", purpose="billing")
    with _served(vault, smtp, tamper=True) as url:
        base = _localhost(url)
        page = _customer_signs_in(browser, base, smtp[1])
        page.goto(f"{base}/me/history")
        page.wait_for_selector("#summary[data-result]")
        assert page.locator("#summary").get_attribute("data-result") == "failed"
        verdicts = [
            page.locator("tr.entry").nth(i).get_attribute("data-verified")
            for i in range(page.locator("tr.entry").count())
        ]
        assert verdicts.count("no") == 1 and "yes" in verdicts
        page.context.close()
