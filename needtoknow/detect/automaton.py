"""The one compiled automaton the scanner runs: every shape as one RE2 program.

RE2 (Google's, via ``google-re2``) matches in time linear in the input whatever the
pattern, so no input can make a scan backtrack catastrophically, and it runs all
alternatives as one automaton: adding a shape costs little, where Python's ``re``
tries each alternative at every position (measured: 2.1 MB/s for our 15 shapes in
``re``, 34 MB/s in RE2 — docs/benchmarks.md).

It scans UTF-8 bytes. RE2 has no lookaround, so the boundaries a shape needs beyond
``\\b`` are checked by the scanner on each candidate. This module uses the binding's
low-level ``Match`` call: the public ``re2.search`` re-encodes its input on every call.

Asking RE2 where each group matched costs three times what finding the match does (it
reruns a slower engine over the match), so the candidate is found by the same pattern
without groups, its shape named by an RE2 ``Set`` of the shapes anchored to the match,
and the program with groups runs only for the few shapes whose value is an inner group
(docs/benchmarks.md, "Logs at disk speed").
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

import re2
from re2 import _re2

_UNANCHORED = _re2.RE2.Anchor.UNANCHORED
_BOTH = _re2.RE2.Anchor.ANCHOR_BOTH
_GROUP = re.compile(r"(?<!\\)\(\?P<\w+>")  # a named group's opening, not an escaped "("


class TooLarge(ValueError):
    """The shapes do not fit one automaton (a user's deny-list of tens of thousands of
    names, say)."""


Candidate = tuple[str, int, int, int, int]
"""A match: its shape, its start and end, and the start and end of its value (the inner
group for shapes that have one, else the match itself); byte offsets."""


class Automaton:
    """Alternatives named by shape; :meth:`next` is the leftmost match from ``pos``.
    ``values`` names the inner group holding the value, for the shapes that have one."""

    def __init__(
        self,
        shapes: Mapping[str, str],
        values: Mapping[str, str],
        exact: Collection[str] = (),
    ) -> None:
        """``exact`` names the shapes (a user's) that the set's answer, read on the match
        alone, is checked for in its context: ours are written so that it cannot differ."""
        options = _options()
        pattern = "|".join(f"(?P<{name}>{shape})" for name, shape in shapes.items())
        self._program = _compiled(pattern, options)
        self._bare = _compiled(_GROUP.sub("(?:", pattern), options)
        self._set = _re2.Set(_BOTH, options)
        for shape in shapes.values():
            if self._set.Add(_GROUP.sub("(?:", shape).encode()) < 0:
                raise ValueError("shape does not compile in RE2 as a set member")
        if not self._set.Compile():
            raise TooLarge("the shapes are too many or too large for one automaton")
        self._alone = {name: _compiled(_GROUP.sub("(?:", shapes[name]), options) for name in exact}
        self._shapes = tuple(shapes)
        groups = {name.decode(): index for name, index in self._program.NamedCapturingGroups()}
        self._shape_of = {groups[name]: name for name in shapes}
        self._value_of = {
            shape: groups[group] for shape, group in values.items() if group in groups
        }

    def next(self, data: bytes, pos: int, stop: int) -> Candidate | None:
        """The leftmost match in data[pos:stop] (what follows ``stop`` still decides
        its word boundaries), or None."""
        start, end = self._bare.Match(_UNANCHORED, data, pos, stop)[0]
        if start < 0:
            return None
        # The first shape (in order) that matches exactly there is the one that matched:
        # an earlier one matching there at all would have won.
        shape = self._named(data, start, end)
        if shape is not None and shape not in self._value_of:
            return shape, start, end, start, end
        spans = self._program.Match(_BOTH, data, start, end)
        # The alternative that matched spans the whole match, and its group is numbered
        # before any group inside it: the first group equal to the match is the shape.
        shape = self._shape_of[spans.index(spans[0], 1)]
        value = self._value_of.get(shape)
        return (shape, start, end, *(spans[value] if value is not None else (start, end)))

    def _named(self, data: bytes, start: int, end: int) -> str | None:
        """The first shape (in order) that matches exactly data[start:end], or None."""
        members = self._set.Match(data[start:end])
        if not self._alone:  # ours only: the first that matches the bare span
            return self._shapes[min(members)] if members else None
        for member in sorted(members):
            shape: str = self._shapes[member]
            alone = self._alone.get(shape)
            if alone is None or alone.Match(_BOTH, data, start, end)[0][0] >= 0:
                return shape
        return None


class Finder:
    """One pattern without groups: where it matches, and nothing more (RE2's DFA)."""

    def __init__(self, pattern: str) -> None:
        self._program = _compiled(pattern, _options())

    def spans(self, data: bytes) -> list[tuple[int, int]]:
        """Every match, left to right, none overlapping."""
        found, pos, size = [], 0, len(data)
        while pos <= size:
            start, end = self._program.Match(_UNANCHORED, data, pos, size)[0]
            if start < 0:
                break
            found.append((start, end))
            pos = max(end, start + 1)
        return found


def _options() -> re2.Options:
    options = re2.Options()
    options.max_mem = 64 << 20  # the default 8 MiB DFA budget falls back to the NFA
    options.log_errors = False  # errors are raised, not printed
    return options


def _compiled(pattern: str, options: re2.Options) -> _re2.RE2:
    program = _re2.RE2(pattern.encode(), options)
    if not program.ok():
        error = program.error().decode(errors="replace")
        if "too large" in error or "too big" in error:
            raise TooLarge(f"the shapes do not fit one automaton: {error}")
        raise ValueError(f"shape does not compile in RE2: {error}")
    return program
