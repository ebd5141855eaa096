"""The one compiled automaton the scanner runs: every shape as one RE2 program.

RE2 (Google's, via ``google-re2``) matches in time linear in the input whatever the
pattern, so no input can make a scan backtrack catastrophically, and it runs all
alternatives as one automaton: adding a shape costs little, where Python's ``re``
tries each alternative at every position (measured: 2.1 MB/s for our 15 shapes in
``re``, 34 MB/s in RE2 — docs/benchmarks.md).

It scans UTF-8 bytes. RE2 has no lookaround, so the boundaries a shape needs beyond
``\\b`` are checked by the scanner on each candidate. This module uses the binding's
low-level ``Match`` call: the public ``re2.search`` re-encodes its input on every call.
"""

from __future__ import annotations

from collections.abc import Mapping

import re2
from re2 import _re2

_UNANCHORED = _re2.RE2.Anchor.UNANCHORED


class Automaton:
    """Alternatives named by shape; :meth:`next` is the leftmost match from ``pos``."""

    def __init__(self, shapes: Mapping[str, str]) -> None:
        options = re2.Options()
        options.max_mem = 64 << 20  # the default 8 MiB DFA budget falls back to the NFA
        pattern = "|".join(f"(?P<{name}>{shape})" for name, shape in shapes.items())
        self._program = _re2.RE2(pattern.encode(), options)
        if not self._program.ok():
            raise ValueError(f"shape does not compile in RE2: {self._program.error()}")
        groups = {name.decode(): index for name, index in self._program.NamedCapturingGroups()}
        self.groups = groups  # every named group, inner ones too (their spans, by index)
        self._shape_of = {groups[name]: name for name in shapes}

    def next(self, data: bytes, pos: int) -> tuple[str, list[tuple[int, int]]] | None:
        """The shape and the spans of every group (byte offsets; (-1, -1) for a group
        that took no part) of the leftmost match at or after ``pos``, or None."""
        spans = self._program.Match(_UNANCHORED, data, pos, len(data))
        if spans[0][0] < 0:
            return None
        # The alternative that matched spans the whole match, and its group is numbered
        # before any group inside it: the first group equal to the match is the shape.
        return self._shape_of[spans.index(spans[0], 1)], spans
