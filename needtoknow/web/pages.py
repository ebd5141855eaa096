"""Rendering a page: its template in the reader's language, with the helpers every
template uses (``_`` to translate, ``when`` for times, ``label`` for the policy's names
in plain words).

Jinja escapes every value, so what a customer wrote is shown as text, never markup.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from needtoknow.web import language

if TYPE_CHECKING:
    from jinja2 import Environment
    from starlette.requests import Request
    from starlette.responses import HTMLResponse

    from needtoknow.crypto.keys import KeyProvider


@cache
def environment(lang: str) -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("needtoknow.web", "templates"),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,  # a misspelt name fails the test, not the reader
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(language.catalogue(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals["languages"] = language.LANGUAGES
    env.filters["when"] = lambda moment: language.shown(moment, lang)
    env.filters["relative"] = lambda moment, now: language.relative(moment, now, lang)
    env.filters["words"] = _words
    env.filters["term"] = lambda name: _terms(lang).get(str(name)) or _words(name)
    return env


def render(
    request: Request,
    template: str,
    status: int = 200,
    account_language: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """``template`` with ``context``, in the request's language (``account_language``: a
    signed-in member's choice, below an explicit one); a ``?lang=`` choice is remembered
    for the pages after."""
    from starlette.responses import HTMLResponse

    lang = language.chosen(request, account_language)
    page = environment(lang).get_template(template)
    body = page.render(lang=lang, path=request.url.path, **context)
    response = HTMLResponse(body, status_code=status)
    if request.query_params.get("lang") in language.LANGUAGES:
        response.set_cookie(
            language.COOKIE,
            lang,
            max_age=365 * 86400,
            secure=True,
            httponly=True,
            samesite="strict",
        )
    return response


def sign_in_page(
    request: Request, keys: KeyProvider, path: str, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page with a sign-in form: its token made here, and kept in its cookie."""
    from needtoknow.web import forms

    token = forms.pre_session_token(request, keys)
    response = render(request, template, status, csrf=token, **context)
    forms.keep_pre_session(response, token, path)
    return response


def refusal(request: Request, status: int, message: str) -> HTMLResponse:
    """A refusal as a page: what the library said (its errors carry no personal data)."""
    home = "/me" if request.url.path.startswith("/me") else "/console"
    return render(request, "error.html", status, message=message, home=home)


def _words(name: object) -> str:
    return str(name).replace("_", " ")


@cache
def _terms(lang: str) -> dict[str, str]:
    """The notice's own words for categories, legal bases and kinds of recipient, so a
    page and the notice name each thing alike."""
    from needtoknow.policy.notice import TERMS

    return dict(TERMS.get(lang, {}))
