"""Write docs/cli.md from the ``--help`` of every ``ntk`` command (``--check``: fail if stale)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from typer.main import get_command
from typer.testing import CliRunner

from needtoknow.cli.main import app

TARGET = Path(__file__).parents[1] / "docs" / "cli.md"
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb", "_TYPER_FORCE_DISABLE_TERMINAL": "1"}


def command_paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    if hasattr(command, "list_commands"):  # a group; the root's commands load on demand
        context = typer.Context(command)
        for name in sorted(command.list_commands(context)):
            paths += command_paths(command.get_command(context, name), (*prefix, name))
    return paths


def render() -> str:
    runner = CliRunner()
    parts = [
        "# `ntk` command reference\n",
        "Generated from each command's `--help` by `scripts/cli_reference.py`; "
        "`tests/test_docs.py` fails when it is stale.\n",
    ]
    for path in command_paths(get_command(app)):
        result = runner.invoke(app, [*path, "--help"], env=ENV, prog_name="ntk")
        if result.exit_code != 0:
            raise SystemExit(f"ntk {' '.join(path)} --help failed: {result.output}")
        lines = [line.rstrip() for line in result.output.strip().splitlines()]
        parts.append(
            f"## ntk {' '.join(path)}".rstrip() + "\n\n```\n" + "\n".join(lines) + "\n```\n"
        )
    return "\n".join(parts)


def main() -> None:
    text = render()
    if "--check" in sys.argv:
        if not TARGET.exists() or TARGET.read_text("utf-8") != text:
            raise SystemExit("docs/cli.md is stale: run .venv/bin/python scripts/cli_reference.py")
        return
    TARGET.write_text(text, "utf-8")


if __name__ == "__main__":
    main()
