"""Every page in Hindi: each message the templates and the web package use has a Hindi
translation with the same placeholders, none is left over, and the library's closed
vocabularies shown on pages are in the catalogue whole."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from needtoknow.policy import notice
from needtoknow.policy.model import RIGHT_KINDS
from needtoknow.staff import ROLES
from needtoknow.web import language, vocabulary

sys.path.insert(0, str(Path(__file__).parents[2] / "scripts"))
import web_catalogue

PLACEHOLDER = re.compile(r"%\(\w+\)s")


def test_every_message_has_a_hindi_translation_and_none_is_stale() -> None:
    messages, catalogue = web_catalogue.extracted(), web_catalogue.existing()
    assert len(messages) > 200
    assert web_catalogue.missing(catalogue, messages) == [], "run scripts/web_catalogue.py"
    stale = {m.id for m in catalogue if m.id} - set(messages)
    assert stale == set(), "run scripts/web_catalogue.py"
    for message in catalogue:
        if message.id:
            assert sorted(PLACEHOLDER.findall(str(message.id))) == sorted(
                PLACEHOLDER.findall(str(message.string))
            ), message.id


def test_the_vocabularies_pages_show_are_all_in_the_catalogue() -> None:
    assert set(vocabulary.ROLES) == set(ROLES)
    assert set(vocabulary.REQUEST_KINDS) == set(RIGHT_KINDS)
    assert set(vocabulary.UNITS) == {"day", "month", "year"}
    assert set(language.LANGUAGES) == set(notice.LANGUAGES)  # the pages speak the notice's
