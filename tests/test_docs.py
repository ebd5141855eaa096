"""Documents that must match the code: the CLI reference, the compliance map and the
threat model (every test they name exists)."""

from __future__ import annotations

import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize("script", ["cli_reference.py", "records_reference.py"])
def test_generated_references_are_current(script: str) -> None:
    """docs/cli.md (from every --help) and docs/records.md (from the categories)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / script), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("document", ["compliance.md", "threat-model.md"])
def test_every_test_named_in_the_compliance_map_and_threat_model_exists(document: str) -> None:
    text = (ROOT / "docs" / document).read_text("utf-8")
    current_file = None
    named = 0
    modules: dict[Path, dict[str, object]] = {}
    for match in re.finditer(r"`(tests/[\w/]+\.py)(?:::(\w+))?(?:\[[^\]`]*\])?`|`::(\w+)`", text):
        path, test, continuation = match.groups()
        if path:
            current_file = ROOT / path
            assert current_file.exists(), path
        name = test or continuation
        if name:
            assert current_file is not None
            if current_file not in modules:
                modules[current_file] = runpy.run_path(str(current_file), run_name="doc_check")
            assert name in modules[current_file], (
                f"{current_file.name}::{name} is named but does not exist"
            )
            named += 1
    assert named > 20
