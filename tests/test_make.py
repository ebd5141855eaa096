"""`make test` itself: it cannot pass when the services it needs did not start."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def _project(tmp_path: Path, services_exit: int) -> Path:
    """The Makefile over a stand-in venv whose tools record how they were called."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "test-services.sh").write_text(
        f"echo 'export NTK_TEST_POSTGRES_URL=postgresql://x'\nexit {services_exit}\n"
    )
    bin_ = tmp_path / ".venv" / "bin"
    bin_.mkdir(parents=True)
    for tool in ("python", "ruff", "mypy"):
        (bin_ / tool).write_text(
            '#!/bin/sh\necho "$(basename "$0") $NTK_TEST_SERVICES $NTK_TEST_POSTGRES_URL"'
            f" >> {tmp_path / 'calls'}\n"
        )
        (bin_ / tool).chmod(0o755)
    stamp = tmp_path / ".venv" / ".installed-stamp"
    stamp.touch()
    os.utime(stamp, (2**31, 2**31))  # newer than pyproject.toml: no install runs
    return tmp_path


def _make(project: Path, target: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("make") is None:
        pytest.fail("make is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NTK_TEST")}
    return subprocess.run(
        ["make", "-s", target], cwd=project, env=env, capture_output=True, text=True
    )


def test_make_test_fails_when_the_services_script_fails(tmp_path: Path) -> None:
    project = _project(tmp_path, services_exit=1)
    assert _make(project, "test").returncode != 0
    calls = (project / "calls").read_text().splitlines()
    assert not [c for c in calls if c.startswith("python")], "pytest ran without services"


def test_make_test_requires_every_service(tmp_path: Path) -> None:
    project = _project(tmp_path, services_exit=0)
    assert _make(project, "test").returncode == 0
    calls = (project / "calls").read_text().splitlines()
    assert any(c.startswith("python required postgresql://x") for c in calls)


def test_make_test_quick_says_services_are_optional(tmp_path: Path) -> None:
    project = _project(tmp_path, services_exit=1)
    result = _make(project, "test-quick")
    assert result.returncode == 0
    assert "services are optional" in result.stdout
    assert "python optional " in (project / "calls").read_text()
