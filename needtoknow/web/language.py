"""Which language a page is in, and its catalogue.

English and Hindi, chosen by ``?lang=`` (remembered in a cookie), else the cookie, else
a staff member's account, else the browser's ``Accept-Language``. The Hindi catalogue
is a gettext ``.po`` file in the package (``locale/hi.po``), compiled in memory when
first used, so there is no build step and no binary in the repository. Times are shown
in Asia/Kolkata, the customers' and the company's zone; the page carries UTC underneath
(``<time datetime>``).
"""

from __future__ import annotations

import io
from datetime import datetime
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

from needtoknow.moments import india

if TYPE_CHECKING:
    from babel.support import NullTranslations
    from starlette.requests import Request

LANGUAGES = {"en": "English", "hi": "हिन्दी"}
DEFAULT = "en"
COOKIE = "ntk_lang"


def chosen(request: Request, account: str | None = None) -> str:
    """The page's language: asked for, remembered, the signed-in member's account's, or
    the browser's first we have."""
    from babel import negotiate_locale

    for given in (request.query_params.get("lang"), request.cookies.get(COOKIE), account):
        if given in LANGUAGES:
            return given
    header = request.headers.get("accept-language", "")
    preferred = [part.split(";")[0].strip().replace("-", "_") for part in header.split(",")]
    return negotiate_locale([p for p in preferred if p], list(LANGUAGES), sep="_") or DEFAULT


@cache
def catalogue(language: str) -> NullTranslations:
    """The translations of ``language`` (English is the source text itself)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import NullTranslations, Translations

    if language == DEFAULT:
        return NullTranslations()
    source = files("needtoknow.web") / "locale" / f"{language}.po"
    with source.open("rb") as po:
        messages = read_po(po, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, messages)
    compiled.seek(0)
    return Translations(compiled)


def shown(moment: datetime | None, language: str) -> str:
    """A moment as a reader in India reads it, in their language (IST)."""
    from babel.dates import format_datetime

    if moment is None:
        return "—"
    return str(format_datetime(moment, "medium", tzinfo=india(), locale=language)) + " IST"


def relative(moment: datetime, now: datetime, language: str) -> str:
    """How far ``moment`` is from ``now``, in words ("in 3 days", "2 hours ago")."""
    from babel.dates import format_timedelta

    return str(format_timedelta(moment - now, add_direction=True, locale=language))
