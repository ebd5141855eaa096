"""What a verification of the ledger found: problems, where the first one lies, and
the counts a checker reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Report:
    """What verification found. ``first_bad`` is the earliest place something is wrong,
    as an inclusive range of entry indexes: one entry when the entry itself shows it, or
    the smallest subtree (or signed range) that no longer matches when the stored hashes
    were rewritten too."""

    entries: int = 0
    heads_checked: int = 0
    nodes_checked: int = 0
    witnesses_checked: int = 0
    unsigned: int = 0  # entries past the newest signed head: not yet provable to anyone
    since: int = 0  # the size of the verified head this check started from (0: all of it)
    # The largest signed head this check found good: what a later --since-head run may
    # start from (not a head signed while it ran, whose entries' index rows it did not see)
    head_size: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _located: list[tuple[int, int]] = field(default_factory=list)
    _signed_ranges: list[tuple[int, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad(self) -> tuple[int, int] | None:
        candidates = self._located or self._signed_ranges
        return min(candidates, key=lambda r: (r[0], r[1])) if candidates else None

    @property
    def first_bad_entry(self) -> int | None:
        first = self.first_bad
        return None if first is None else first[0]

    def fail(self, problem: str, first: int | None = None, last: int | None = None) -> None:
        self.problems.append(problem)
        if first is not None:
            self._located.append((first, first if last is None else last))

    def fail_signed_range(self, problem: str, first: int, last: int) -> None:
        self.problems.append(problem)
        self._signed_ranges.append((first, last))

    def to_json(self) -> dict[str, Any]:
        first = self.first_bad
        return {
            "ok": self.ok,
            "entries": self.entries,
            "heads_checked": self.heads_checked,
            "nodes_checked": self.nodes_checked,
            "witnesses_checked": self.witnesses_checked,
            "unsigned": self.unsigned,
            "since": self.since,
            "first_bad": None if first is None else {"from": first[0], "to": first[1]},
            "problems": self.problems,
            "warnings": self.warnings,
        }
