"""A JSON document laid out for reading: what a command prints without ``--json``.

One layout for every command, so the words a person reads are the keys a program gets:
scalars as ``key: value`` lines, lists of records as a table that fits the terminal,
nested objects indented under their key. Nothing here is markup: values are shown as text.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text


def lay_out(data: Any) -> RenderableType:
    if _records(data):
        return _table(data)
    if isinstance(data, dict):
        return _fields(data)
    if isinstance(data, list):
        return Text("\n".join(_scalar(item) for item in data) if data else "(none)")
    return Text(_scalar(data))


def _fields(data: dict[str, Any]) -> RenderableType:
    parts: list[RenderableType] = []
    for key, value in data.items():
        if (isinstance(value, dict) and value) or _records(value):
            parts.append(Text(f"{key}:", style="bold"))
            parts.append(Padding(lay_out(value), (0, 0, 0, 2), expand=False))
        else:
            line = Text(f"{key}: ", style="bold")
            line.append(_scalar(value))
            parts.append(line)
    return Group(*parts) if parts else Text("(none)")


def _records(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _table(rows: list[dict[str, Any]]) -> Table:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    table = Table(header_style="bold", expand=False)
    for column in columns:  # wrapped, never cut short with an ellipsis
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(_scalar(row.get(column))) for column in columns))
    return table


def _scalar(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(_scalar(v) for v in value) if value else "-"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
