"""``ntk`` starts at once: a command loads only what it uses (a module check, no timing —
the times are benchmarks/bench_cli.py's)."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from needtoknow.cli.main import COMMANDS, load_command
from tests.conftest import Ntk
from tests.customers import ASHA

EXTRAS = ("fastapi", "uvicorn", "duckdb", "pyarrow", "opendp", "cv2", "pandas", "faker", "httpx")

_LOADED = """
import json, sys
from needtoknow.cli.main import app
try:
    app(sys.argv[1:], prog_name="ntk")
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _loaded(home: Path, *args: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``ntk ARGS`` in-process."""
    result = subprocess.run(
        [sys.executable, "-c", _LOADED, *args],
        capture_output=True,
        text=True,
        env={"NTK_HOME": str(home), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


def _top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_help_loads_no_command_and_nothing_of_the_vault(tmp_path: Path) -> None:
    loaded = _loaded(tmp_path, "--help")
    assert "typer.rich_utils" not in loaded  # it imports Markdown, Pygments, tracebacks
    assert not _top(loaded) & set(EXTRAS)
    assert not {m for m in loaded if m.startswith("needtoknow.")} - {
        "needtoknow.cli",
        "needtoknow.cli.main",
        "needtoknow.errors",
        "needtoknow.moments",
    }
    assert "sqlalchemy" not in _top(loaded)


def test_a_vault_command_loads_none_of_the_extras(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ntk = Ntk(home, process=True)
    ntk("init")
    customer = ntk.json("customer", "add", "-", "--json", stdin=json.dumps(ASHA))["customer_id"]
    get = ("customer", "get", customer, "--recipient", "billing_team", "--purpose", "billing")
    loaded = _top(_loaded(home, *get, "--json"))
    assert not loaded & set(EXTRAS)
    assert "alembic" not in loaded  # a current database is not migrated, so not loaded


def test_the_check_sees_an_extra_when_one_is_loaded(tmp_path: Path) -> None:
    """The module check can fail: ``ntk events`` does load its extra."""
    assert _top(_loaded(tmp_path, "events", "--help")) & {"duckdb", "pyarrow"}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_command_list_says_what_each_commands_own_help_says(name: str) -> None:
    """``ntk --help`` lists commands without importing them, from COMMANDS: each summary
    must stay the first paragraph of that command's help."""
    command = load_command(name)
    first = inspect.cleandoc(command.help or "").split("\n\n")[0].replace("\n", " ").strip()
    assert COMMANDS[name][2] == first


def test_the_root_help_lists_every_command_with_its_summary(ntk: Ntk) -> None:
    ntk.env["TERMINAL_WIDTH"] = "400"  # one line per command
    shown = ntk("--help")
    assert "[OPTIONS] COMMAND [ARGS]..." in shown.stdout  # the program's name varies
    listed = {
        line.strip("│ ").split(" ", 1)[0]: " ".join(line.strip("│ ").split()[1:])
        for line in shown.stdout.splitlines()
        if line.startswith("│ ") and not line.startswith("│ --")
    }
    assert listed.pop("init").startswith("Create a vault under NTK_HOME")
    assert listed == {name: summary for name, (_, _, summary) in COMMANDS.items()}
