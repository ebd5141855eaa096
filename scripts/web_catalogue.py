"""Bring the pages' Hindi catalogue up to date: extract every message from the templates
and ``needtoknow/web`` (``_()`` and ``N_()``), keep the translations already made, add
the new messages untranslated and drop the ones no page uses. Prints what needs a
translator. ``tests/web/test_catalogue.py`` fails while anything does."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

WEB = Path(__file__).resolve().parents[1] / "needtoknow" / "web"
CATALOGUE = WEB / "locale" / "hi.po"
METHODS = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
KEYWORDS = {"_": None, "N_": None, "gettext": None}


def extracted() -> list[str]:
    found: dict[str, None] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(WEB), METHODS, OPTIONS, keywords=KEYWORDS
    ):
        found[message if isinstance(message, str) else message[0]] = None
    return list(found)


def existing() -> Catalog:
    with CATALOGUE.open("rb") as po:
        return read_po(po, locale="hi")


def missing(catalog: Catalog, messages: list[str]) -> list[str]:
    return [m for m in messages if m not in catalog or not catalog[m].string]


def main() -> int:
    messages, old = extracted(), existing()
    new = Catalog(locale="hi", project="needtoknow", charset="utf-8")
    for message in messages:
        new.add(message, old[message].string if message in old else "")
    with CATALOGUE.open("wb") as po:
        write_po(po, new, width=0, omit_header=False, sort_output=True)
    todo = missing(new, messages)
    for message in todo:
        print(f"untranslated: {message}")
    print(f"{len(messages)} messages, {len(todo)} untranslated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
