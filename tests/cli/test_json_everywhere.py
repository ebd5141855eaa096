"""Every command that prints takes ``--json``, and with it every outcome a program can
get is JSON: the answer on stdout, or an ``{"error", "message", …}`` object on stderr —
for the library's errors and for a usage error (a missing option) alike.

The commands are enumerated from the CLI itself, so a new command without ``--json``
fails here by name. Each is run with made-up arguments on a home with no vault: every
one of them fails somewhere, and the failure must be JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from needtoknow.cli.main import app

# Commands without --json, and why.
NO_JSON = {
    "demo": "a walkthrough for people (its --serve prints the keys it issues)",
    "serve": "runs a server; prints nothing of its own",
    "ledger export": "its output is the export format itself: JSON Lines",
}
NOT_RUN = {"eval": "scores the whole generated corpus (tests/detect covers it)"}


def commands() -> Iterator[tuple[str, Any]]:
    root = typer.main.get_command(app)
    context = typer.main.get_command(app).make_context("ntk", [], resilient_parsing=True)

    def walk(command: Any, path: list[str]) -> Iterator[tuple[str, Any]]:
        if hasattr(command, "commands"):
            for name in command.list_commands(context):
                yield from walk(command.get_command(context, name), [*path, name])
        else:
            yield " ".join(path), command

    yield from walk(root, [])


ALL = sorted(commands(), key=lambda pair: pair[0])


def test_every_printing_command_has_json() -> None:
    lacking = [name for name, command in ALL if not _has_json(command)]
    assert sorted(lacking) == sorted(NO_JSON)


def _has_json(command: Any) -> bool:
    return any("--json" in getattr(p, "opts", ()) for p in command.params)


def _made_up(param: Any, tmp: Path) -> list[str]:
    kind = param.bare_type().lower()  # Typer's name of the type: int, list[Path], …
    if "int" in kind or "float" in kind:
        value = "1"
    elif "path" in kind:
        value = str(tmp / "missing")
    else:
        value = "x"
    if getattr(param, "param_type_name", "") == "argument":
        return [value]
    return [param.opts[0], value] if not getattr(param, "is_flag", False) else [param.opts[0]]


@pytest.mark.parametrize("name", [n for n, c in ALL if _has_json(c) and n not in NOT_RUN], ids=str)
def test_with_json_every_outcome_is_json(name: str, tmp_path: Path) -> None:
    command = dict(ALL)[name]
    args = name.split()
    for param in command.params:
        if param.required:
            args += _made_up(param, tmp_path)
    env = {"NTK_HOME": str(tmp_path / "no-vault"), "NTK_DATABASE_URL": None, "COLUMNS": "80"}
    ran = CliRunner().invoke(app, [*args, "--json"], env=env, catch_exceptions=False)
    if name == "scan":  # JSON Lines: findings on stdout, what was skipped on stderr
        for line in ran.stdout.splitlines() + ran.stderr.splitlines():
            json.loads(line)
        return
    if ran.stdout:  # an answer, or a report whose exit code says what it found
        json.loads(ran.stdout)
        return
    assert ran.exit_code != 0
    error = json.loads(ran.stderr)
    assert {"error", "message"} <= set(error), ran.stderr
