"""The core install works without any extra, and a part whose extra is missing says which
extra to install. A missing library is simulated the way Python itself blocks an import
(``sys.modules[name] = None``) in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from needtoknow.errors import MissingExtra
from needtoknow.guards.extras import EXTRAS, require
from tests.customers import ASHA

ROOT = Path(__file__).parents[1]
EVERY_EXTRA = sorted({module for modules in EXTRAS.values() for module in modules})

_WITHOUT = """
import sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None
from needtoknow.cli.main import app
app(sys.argv[2:], prog_name="ntk")
"""


def ntk_without(modules: list[str], *args: str, home: Path, stdin: str | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT, ",".join(modules), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={"NTK_HOME": str(home), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        timeout=120,
    )


def test_the_vault_works_with_no_extra_installed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert ntk_without(EVERY_EXTRA, "init", home=home).returncode == 0
    added = ntk_without(
        EVERY_EXTRA, "customer", "add", "-", "--json", home=home, stdin=json.dumps(ASHA)
    )
    assert added.returncode == 0, added.stderr
    customer = json.loads(added.stdout)["customer_id"]
    got = ntk_without(
        EVERY_EXTRA,
        "customer",
        "get",
        customer,
        "--recipient",
        "billing_team",
        "--purpose",
        "billing",
        "--json",
        home=home,
    )
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["values"]["email"] == ASHA["email"]
    for command in (
        ("ledger", "verify"),
        ("policy", "explain", "--recipient", "billing_team", "--purpose", "billing"),
    ):
        ran = ntk_without(EVERY_EXTRA, *command, home=home)
        assert ran.returncode == 0, (command, ran.stderr)


@pytest.mark.parametrize(
    ("command", "extra"),
    [
        (("events", "--help"), "analytics"),
        (("report", "--help"), "analytics"),
        (("serve", "--help"), "api"),
        (("scan", "--help"), "detect"),
        (("demo", "--help"), "demo"),
        (("eval", "--documents", "5"), "demo"),
    ],
)
def test_a_command_whose_extra_is_missing_names_it(
    tmp_path: Path, command: tuple[str, ...], extra: str
) -> None:
    """Every library of the extra is missing, as in an install without it."""
    ran = ntk_without(list(EXTRAS[extra]), *command, home=tmp_path / "home")
    assert ran.returncode == 14, ran.stderr
    assert f"pip install 'needtoknow[{extra}]'" in " ".join(ran.stderr.split())
    assert "Traceback" not in ran.stderr


def test_incident_reports_name_their_extra(tmp_path: Path) -> None:
    words = tmp_path / "words.yaml"
    words.write_text("description: x\n")
    ran = ntk_without(
        list(EXTRAS["incidents"]),
        "incident",
        "report",
        "x",
        "--words",
        str(words),
        home=tmp_path / "home",
    )
    assert ran.returncode == 14, ran.stderr
    assert "pip install 'needtoknow[incidents]'" in " ".join(ran.stderr.split())


def test_the_scanner_needs_only_its_own_extra(tmp_path: Path) -> None:
    """With [detect] alone (no Faker, no web server, no analytics) scan and redact run."""
    others = [m for m in EVERY_EXTRA if m not in EXTRAS["detect"]]
    text = tmp_path / "ticket.txt"
    text.write_text("call me on +91 98765 43210\n")
    scanned = ntk_without(others, "scan", str(text), "--json", home=tmp_path / "home")
    assert scanned.returncode == 0, scanned.stderr
    assert "PHONE_NUMBER" in scanned.stdout
    redacted = tmp_path / "out.txt"
    ran = ntk_without(others, "redact", str(text), str(redacted), home=tmp_path / "home")
    assert ran.returncode == 0, ran.stderr
    assert "98765" not in redacted.read_text()


def test_the_library_says_which_extra_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "spacy", None)
    with pytest.raises(MissingExtra) as raised:
        require("ner")
    assert raised.value.details() == {"extra": "ner", "missing": ["spacy"]}
    assert "pip install 'needtoknow[ner]'" in str(raised.value)


def test_every_extra_checked_is_declared_in_pyproject() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert set(EXTRAS) <= set(declared)
    everything = " ".join(declared["all"])
    assert all(extra in everything for extra in EXTRAS)
