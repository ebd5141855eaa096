"""``make run`` (``ntk demo --serve``): a fresh vault, demo keys printed, the API served."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import httpx

from tests.api.conftest import NTK, free_port, stop


def test_make_run_serves_the_demo_with_one_key_per_recipient(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [NTK, "demo", "--serve", "--customers", "5", "--port", str(port)],
        env={**os.environ, "NTK_HOME": str(tmp_path / "home"), "NTK_DATABASE_URL": ""},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        printed = ""
        while "curl" not in printed:
            line = process.stdout.readline()
            assert line, printed
            printed += line
        keys = dict(re.findall(r"^  (\w+) +(ntk_\S+)", printed, re.MULTILINE))
        assert len(keys) == 16 and f"http://127.0.0.1:{port}/docs" in printed
        url = re.search(r"'(http://\S+)'", printed)
        assert url is not None
        for _ in range(300):
            try:
                response = httpx.get(url.group(1), headers={"X-API-Key": keys["billing_team"]})
                break
            except httpx.TransportError:
                process.poll()
                assert process.returncode is None
                time.sleep(0.05)
        assert response.status_code == 200 and response.json()["values"]["name"]
        denied = httpx.get(url.group(1), headers={"X-API-Key": keys["ad_network"]})
        assert denied.status_code == 403
    finally:
        stop(process)


def test_demo_keys_are_never_issued_for_a_vault_the_demo_did_not_make(tmp_path: Path) -> None:
    env = {**os.environ, "NTK_HOME": str(tmp_path / "home"), "NTK_DATABASE_URL": ""}
    subprocess.run([NTK, "init"], env=env, check=True, capture_output=True)
    refused = subprocess.run(
        [NTK, "demo", "--serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1 and "did not make" in refused.stderr
    assert "ntk_" not in refused.stdout
