"""Where in a JSON document each string is: ``$.customer.email``, ``$.items[2].phone``.

A finding in a JSON or JSON Lines file is scanned in the text (so its offsets are exact)
and then named by the path of the string it falls in, which is what a person fixing the
file looks for. Strings and numbers are read by the standard library's own JSON scanner
(``json.decoder.scanstring`` and the decoder's ``scan_once``); only the walk over
objects and arrays is here. A document that is not JSON, or nests deeper than
``max_depth``, has no paths (the finding keeps its line and offsets).

A key can itself be personal data (``{"asha@example.in": …}``), and a path is printed
where values never are: a key appears in a path only if it is a plain identifier that
``shown`` accepts (the scanner finds nothing in it); any other is ``*``.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Callable
from typing import Any

_SCANSTRING: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_SPACE = re.compile(r"[ \t\n\r]*")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _Unreadable(Exception):
    pass


class Paths:
    """The string values (and keys) of one document, by where they are in its text."""

    def __init__(self, text: str, shown: Callable[[str], bool], max_depth: int = 200) -> None:
        self._spans: list[tuple[int, int, str]] = []
        self._shown = shown
        self._max_depth = max_depth
        try:
            end = self._value(text, 0, "$", 0)
            if _SPACE.match(text, end).end() != len(text):  # type: ignore[union-attr]
                raise _Unreadable
        except (_Unreadable, ValueError, IndexError, StopIteration):
            self._spans = []
        self._starts = [start for start, _, _ in self._spans]

    def at(self, offset: int) -> str | None:
        """The path of the string holding ``offset``, if any."""
        i = bisect_right(self._starts, offset) - 1
        if i >= 0 and offset < self._spans[i][1]:
            return self._spans[i][2]
        return None

    def _value(self, text: str, pos: int, path: str, depth: int) -> int:
        pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
        opening = text[pos]
        if opening == '"':
            _, end = _SCANSTRING(text, pos + 1)
            self._spans.append((pos, end, path))
            return end
        if opening not in "{[":
            return _SCAN(text, pos)[1]  # a number, true, false or null
        if depth >= self._max_depth:
            raise _Unreadable
        closing = "}" if opening == "{" else "]"
        pos = _SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
        if text[pos] == closing:
            return pos + 1
        index = 0
        while True:
            if opening == "{":
                if text[pos] != '"':
                    raise _Unreadable
                key, end = _SCANSTRING(text, pos + 1)
                self._spans.append((pos, end, f"{path} (a key)"))
                inner = self._child(path, key)
                pos = _SPACE.match(text, end).end()  # type: ignore[union-attr]
                if text[pos] != ":":
                    raise _Unreadable
                pos = self._value(text, pos + 1, inner, depth + 1)
            else:
                pos = self._value(text, pos, f"{path}[{index}]", depth + 1)
                index += 1
            pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
            if text[pos] == closing:
                return pos + 1
            if text[pos] != ",":
                raise _Unreadable
            pos = _SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]

    def _child(self, path: str, key: str) -> str:
        plain = len(key) <= 64 and _IDENTIFIER.fullmatch(key) and self._shown(key)
        return f"{path}.{key}" if plain else f"{path}.*"
