"""What a command prints without ``--json``: the same document laid out — keys as the
JSON names them, records as a table that wraps instead of cutting values short, and
values as text, never as Rich markup."""

from __future__ import annotations

import io

from rich.console import Console

from needtoknow.cli.layout import lay_out


def shown(document: object, width: int = 60) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(lay_out(document))
    return console.export_text()


def test_keys_tables_and_nesting_read_as_the_json_names_them() -> None:
    text = shown(
        {
            "customer_id": "c-1",
            "closed": None,
            "active": True,
            "services": ["hosting", "email"],
            "kept": [{"category": "email", "until": "2027-06-30"}],
            "held": {"email": {"until": "2027-06-30"}},
        }
    )
    for line in ("customer_id: c-1", "closed: -", "active: yes", "services: hosting, email"):
        assert line in text
    assert "category" in text and "2027-06-30" in text and "held:" in text


def test_long_values_wrap_and_markup_is_text() -> None:
    long = "x" * 150
    text = shown([{"id": long, "note": "[red]not markup[/red]"}])
    assert "".join(text.split()).count("x") >= 150  # wrapped, not cut with an ellipsis
    assert "[red]not markup[/red]" in text
    assert "…" not in text
