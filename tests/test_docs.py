"""Documents that must match the code: the CLI reference and the compliance map."""

from __future__ import annotations

import re
import runpy
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_cli_reference_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "cli_reference.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_every_test_named_in_the_compliance_map_exists() -> None:
    text = (ROOT / "docs" / "compliance.md").read_text("utf-8")
    current_file = None
    named = 0
    for match in re.finditer(r"`(tests/[\w/]+\.py)(?:::(\w+))?`|`::(\w+)`", text):
        path, test, continuation = match.groups()
        if path:
            current_file = ROOT / path
            assert current_file.exists(), path
        name = test or continuation
        if name:
            assert current_file is not None
            module = runpy.run_path(str(current_file), run_name="compliance_check")
            assert name in module, f"{current_file.name}::{name} is named but does not exist"
            named += 1
    assert named > 20
