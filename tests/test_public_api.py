"""The package's front door: everything in ``__all__`` exists, and the README example runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import needtoknow


def test_exported_members_exist() -> None:
    for name in needtoknow.__all__:
        assert hasattr(needtoknow, name), name


def test_every_error_is_exported() -> None:
    from needtoknow import errors

    leaves = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.NeedToKnowError)
    }
    assert leaves <= set(needtoknow.__all__)


def test_readme_library_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text("utf-8")
    example = re.search(r"```python\n(.*?)```", readme, re.S)
    assert example is not None
    monkeypatch.setenv("NTK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NTK_DATABASE_URL", raising=False)
    namespace: dict[str, object] = {}
    exec(compile(example.group(1), "README.md", "exec"), namespace)
    seen = namespace["seen"]
    assert seen.values == {"name": "Asha Rao", "email": "asha@example.in"}  # type: ignore[attr-defined]
    namespace["vault"].close()  # type: ignore[attr-defined]


def test_cli_has_a_command_for_each_vault_operation() -> None:
    import typer
    from typer.main import get_command

    from needtoknow.cli.main import app

    root = get_command(app)
    context = typer.Context(root)
    commands = {
        f"{group} {name}".strip()
        for group in root.list_commands(context)  # type: ignore[attr-defined]
        for name in getattr(root.get_command(context, group), "commands", {"": None})  # type: ignore[attr-defined]
    }
    expected = {
        "init",
        "demo",
        "customer add",
        "customer get",
        "customer find",
        "customer correct",
        "customer erase",
        "policy check",
        "policy explain",
        "keys rotate",
        "keys retire",
    }
    assert expected <= commands
    operations = {"add", "get", "find", "correct", "erase", "rotate_keys", "retire_key", "explain"}
    assert operations <= {name for name in dir(needtoknow.Vault) if not name.startswith("_")}
