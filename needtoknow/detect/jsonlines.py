"""What ``ntk scan --json`` prints for a finding: one JSON object a line.

A log yields a finding every hundred bytes or so, and ``json.dumps`` of a dict costs
more than finding it did: :class:`JsonLines` writes the common line (no value, column,
key path or box) from cached pieces, byte for byte what ``json.dumps`` writes
(tests/detect/test_jsonlines.py compares them), and hands the rest to ``json.dumps``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from needtoknow.detect.files import Located


def finding_json(located: Located, show_values: bool) -> dict[str, Any]:
    """The finding as a JSON object: where and what, the matched text only if asked."""
    line: dict[str, Any] = {
        "path": located.path,
        "line": located.line,
        **located.finding.to_json(),
        "validator": located.finding.validator,
    }
    if located.box is not None:
        line["box"] = dataclasses.asdict(located.box)
    if located.column is not None:
        line["column"] = located.column
    if located.key_path is not None:
        line["key_path"] = located.key_path
    if show_values:
        line["value"] = located.value
    return line


class JsonLines:
    """``json.dumps(finding_json(located, show_values), ensure_ascii=False)``, faster."""

    def __init__(self, show_values: bool) -> None:
        self._show_values = show_values
        self._strings: dict[str, str] = {}

    def line(self, located: Located) -> str:
        if (
            self._show_values
            or located.box is not None
            or located.column is not None
            or located.key_path is not None
        ):
            return json.dumps(finding_json(located, self._show_values), ensure_ascii=False)
        f, text = located.finding, self._text
        return (
            f'{{"path": {text(located.path)}, "line": {located.line}, "start": {f.start}, '
            f'"end": {f.end}, "entity": {text(f.entity)}, "category": {text(f.category)}, '
            f'"score": {f.score!r}, "masked": {"true" if f.masked else "false"}, '
            f'"validator": {text(f.validator)}}}'
        )

    def _text(self, value: str) -> str:
        encoded = self._strings.get(value)
        if encoded is None:
            encoded = self._strings[value] = json.dumps(value, ensure_ascii=False)
        return encoded
