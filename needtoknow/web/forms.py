"""Session cookies and form tokens.

A session lives in a cookie the page's scripts cannot read (HttpOnly), sent only over
TLS (Secure; browsers treat localhost as secure) and never with a request another site
starts (SameSite=Strict). Every form also carries a token derived from the session — a
keyed MAC, so it proves the form came from a page this server rendered for this session
— checked before anything changes. Before sign-in, when there is no session yet, the
token is a random value that must match its own cookie (a double submit), so another
site cannot sign a browser in to an account of the attacker's choosing.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import date
from typing import TYPE_CHECKING

from needtoknow.errors import AuthenticationError, ValidationError

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from needtoknow.crypto.keys import KeyProvider

FORM_COOKIE = "ntk_form"
FIELD = "csrf"
HEADER = "x-csrf-token"  # htmx sends the token here (hx-headers on <body>)


def keep_session(response: Response, cookie: str, token: str, path: str, seconds: int) -> None:
    response.set_cookie(
        cookie, token, max_age=seconds, path=path, secure=True, httponly=True, samesite="strict"
    )


def drop_session(response: Response, cookie: str, path: str) -> None:
    response.delete_cookie(cookie, path=path, secure=True, httponly=True, samesite="strict")


def form_token(keys: KeyProvider, session_token: str) -> str:
    """The token a signed-in session's forms carry: a MAC of the session, never it."""
    return keys.mac("token", f"ntk/form/v1\x00{session_token}".encode()).hex()


def check(expected: str, given: str | None) -> None:
    if not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise AuthenticationError("malformed", "form token")


class Fields:
    """A posted form's text fields (files are not taken), trimmed."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def get(self, name: str, default: str = "") -> str:
        return next((value.strip() for key, value in self._pairs if key == name), default)

    def exact(self, name: str) -> str:
        """A field as typed, spaces and all (a password)."""
        return next((value for key, value in self._pairs if key == name), "")

    def all(self, name: str) -> list[str]:
        return [value.strip() for key, value in self._pairs if key == name and value.strip()]

    def lines(self, name: str) -> list[str]:
        """A textarea's non-empty lines (ids pasted one per line, or comma-separated)."""
        text = self.get(name).replace(",", "\n")
        return [line.strip() for line in text.splitlines() if line.strip()]

    def day(self, name: str) -> date | None:
        text = self.get(name)
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValidationError(name, "form", "date", "a date as YYYY-MM-DD") from None


async def fields(request: Request) -> Fields:
    form = await request.form()
    return Fields([(key, value) for key, value in form.multi_items() if isinstance(value, str)])


def given_token(request: Request, posted: Fields) -> str | None:
    return posted.get(FIELD) or request.headers.get(HEADER)


def pre_session_token(request: Request, keys: KeyProvider) -> str:
    """The sign-in form's token: the browser's own if this server made it, else a new
    one for its cookie. It is a nonce with its MAC, so a cookie planted by someone else
    (a sibling domain, a network before HSTS) is not taken."""
    given = request.cookies.get(FORM_COOKIE, "")
    return given if _made_here(keys, given) else _nonce(keys, secrets.token_urlsafe(18))


def keep_pre_session(response: Response, token: str, path: str) -> None:
    keep_session(response, FORM_COOKIE, token, path, 3600)


async def pre_session_fields(request: Request, keys: KeyProvider) -> Fields:
    """A sign-in form's fields, once its token matches its cookie and was made here."""
    posted = await fields(request)
    cookie = request.cookies.get(FORM_COOKIE, "")
    if not _made_here(keys, cookie):
        raise AuthenticationError("malformed", "form token")
    check(cookie, given_token(request, posted))
    return posted


def _nonce(keys: KeyProvider, nonce: str) -> str:
    mac = keys.mac("token", f"ntk/form-nonce/v1\x00{nonce}".encode()).hex()[:32]
    return f"{nonce}.{mac}"


def _made_here(keys: KeyProvider, token: str) -> bool:
    nonce, _, _ = token.partition(".")
    return bool(nonce) and hmac.compare_digest(_nonce(keys, nonce), token)


class SignInFirst(Exception):
    """No valid session: the browser is sent to ``page`` to sign in."""

    def __init__(self, page: str) -> None:
        super().__init__(page)
        self.page = page


async def to_sign_in(request: Request, exc: SignInFirst) -> Response:
    from starlette.responses import RedirectResponse
    from starlette.responses import Response as Plain

    if request.headers.get("hx-request"):  # htmx follows this header, not a 303
        return Plain(status_code=204, headers={"HX-Redirect": exc.page})
    return RedirectResponse(exc.page, status_code=303)
