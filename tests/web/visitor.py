"""A browser without a browser, for the pages' HTTP tests: httpx over real loopback
HTTP, keeping the cookies the pages set. The pages' cookies are ``Secure`` (browsers
treat localhost as secure); Python's cookie jar sends those only over HTTPS, so this
keeps them by hand, by name, as a browser on localhost would."""

from __future__ import annotations

import re
import time
from http.cookies import SimpleCookie
from typing import Any

import httpx

from needtoknow.staff import StaffAccounts
from needtoknow.vault import Vault
from tests.mail import Inbox, code_in
from tests.staff.test_accounts import PASSWORD, code

_TOKEN = re.compile(r'name="csrf" value="([^"]+)"')


class Visitor:
    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, follow_redirects=False, timeout=30)
        self.cookies: dict[str, str] = {}
        self.last: httpx.Response | None = None

    def _keep(self, response: httpx.Response) -> httpx.Response:
        for header in response.headers.get_list("set-cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        self.last = response
        return response

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {"cookie": cookie, **(extra or {})} if cookie else dict(extra or {})

    def get(self, path: str, **headers: str) -> httpx.Response:
        return self._keep(self.http.get(path, headers=self._headers(headers)))

    def post(self, path: str, data: dict[str, Any], token: bool = True) -> httpx.Response:
        """Post a form; with ``token``, the one the last page rendered (as a browser would)."""
        if token and "csrf" not in data:
            data = {**data, "csrf": self.form_token()}
        return self._keep(self.http.post(path, data=data, headers=self._headers()))

    def follow(self, response: httpx.Response) -> httpx.Response:
        assert response.status_code == 303, response.text[:400]
        return self.get(response.headers["location"])

    def form_token(self) -> str:
        assert self.last is not None
        found = _TOKEN.search(self.last.text)
        assert found, "the page has no form token"
        return found.group(1)

    def close(self) -> None:
        self.http.close()


def staff_member(vault: Vault, name: str, role: str) -> str:
    """A new account; its TOTP secret."""
    return StaffAccounts(vault.scope).add(name, role, PASSWORD).totp_secret


def sign_in_staff(url: str, vault: Vault, name: str, secret: str) -> Visitor:
    visitor = Visitor(url)
    visitor.get("/console/signin")
    answer = visitor.post(
        "/console/signin", {"name": name, "password": PASSWORD, "code": code(secret, vault)}
    )
    assert answer.status_code == 303, answer.text[:400]
    visitor.follow(answer)
    return visitor


def sign_in_customer(url: str, inbox: Inbox, address: str) -> Visitor:
    visitor = Visitor(url)
    visitor.get("/me/signin")
    before = len(inbox.messages)
    page = visitor.post("/me/signin", {"address": address})
    assert page.status_code == 200
    session_id = re.search(r'name="session_id" value="([^"]+)"', page.text)
    assert session_id
    deadline = time.monotonic() + 10
    while len(inbox.messages) == before and time.monotonic() < deadline:
        time.sleep(0.02)
    answer = visitor.post(
        "/me/signin/code",
        {"session_id": session_id.group(1), "code": code_in(inbox.messages[-1])},
    )
    assert answer.status_code == 303, answer.text[:400]
    visitor.follow(answer)
    return visitor
