"""``make run`` (``ntk demo --serve``): a fresh vault, demo keys printed, the API served,
and the console's and the portal's demo sign-ins printed and working."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import httpx

from tests.api.conftest import NTK, free_port, stop
from tests.web.visitor import Visitor


def test_make_run_serves_the_demo_with_one_key_per_recipient(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [NTK, "demo", "--serve", "--customers", "5", "--port", str(port)],
        env={**os.environ, "NTK_HOME": str(tmp_path / "home"), "NTK_DATABASE_URL": ""},
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "stderr").open("w"),
        text=True,
    )
    try:
        assert process.stdout is not None
        printed = ""
        while "customer portal" not in printed:
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
        _sign_in_to_the_console_and_the_portal(printed, port, tmp_path / "stderr")
    finally:
        stop(process)


def _sign_in_to_the_console_and_the_portal(printed: str, port: int, stderr: Path) -> None:
    assert f"http://localhost:{port}/console" in printed
    officer = re.search(r"demo-officer +officer +password (\S+) .*code now: (\d{6})", printed)
    assert officer is not None
    visitor = Visitor(f"http://127.0.0.1:{port}")
    visitor.get("/console/signin")
    name, password, code = "demo-officer", officer.group(1), officer.group(2)
    signed = visitor.post("/console/signin", {"name": name, "password": password, "code": code})
    assert signed.status_code == 303 and visitor.follow(signed).status_code == 200
    email = re.search(r"/me  sign in as (\S+);", printed)
    assert email is not None
    customer = Visitor(f"http://127.0.0.1:{port}")
    customer.get("/me/signin")
    page = customer.post("/me/signin", {"address": email.group(1)})
    session_id = re.search(r'name="session_id" value="([^"]+)"', page.text)
    assert session_id is not None
    for _ in range(200):
        sent = re.findall(r"\[demo\].* (\d{6})\.", stderr.read_text())
        if sent:
            break
        time.sleep(0.05)
    assert email.group(1) not in stderr.read_text()  # the code, never the address
    verified = customer.post(
        "/me/signin/code", {"session_id": session_id.group(1), "code": sent[-1]}
    )
    assert verified.status_code == 303 and customer.follow(verified).status_code == 200


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
