"""A real ``ntk serve`` process on 127.0.0.1, its vault, and one API key per role."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from needtoknow.config import Settings, init_vault
from needtoknow.records.apikeys import SCOPES
from needtoknow.vault import Vault

NTK = str(Path(sys.executable).with_name("ntk"))

# role → (recipient, scopes)
ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "billing": ("billing_team", ("customers:read", "policy:read")),
    "signup": ("support_team", ("customers:read", "customers:write", "customers:erase")),
    "collector": ("collection_agency", ("customers:read",)),
    "advertiser": ("ad_network", ("customers:read", "policy:read")),
    "auditor": ("legal_team", ("ledger:read", "agreements:manage")),
    "legal": ("legal_team", ("disclosures:request", "disclosures:release")),
    "dpo": ("legal_team", ("disclosures:decide", "disclosures:request")),
    "police": ("law_enforcement", ("customers:read", "policy:read")),
    "frontend": ("support_team", ("events:write",)),
    "buyer": ("ad_network", ("reports:run",)),
    "consents": ("support_team", ("consents:manage",)),
    "marketing": ("marketing_team", ("customers:read",)),
    "everything": ("support_team", tuple(SCOPES)),
}


@dataclass
class Server:
    url: str
    vault: Vault  # the same vault, opened by the test process
    tokens: dict[str, str]
    log: Path

    def client(self, role: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"X-API-Key": self.tokens[role]})

    def log_text(self) -> str:
        return self.log.read_text()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(
    home: Path, log: Path, *args: str, group: bool = False, **env: str
) -> tuple[subprocess.Popen[bytes], str]:
    """``ntk serve`` (with ``args``) on a free port, once it answers on 127.0.0.1;
    ``group``: in a process group of its own, as a terminal or service manager starts it
    (for signals to the whole group)."""
    port = free_port()
    process = subprocess.Popen(
        [NTK, "serve", "--port", str(port), *args],
        env={**os.environ, "NTK_HOME": str(home), "NTK_DATABASE_URL": "", **env},
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        start_new_session=group,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.05)
        if process.poll() is not None:
            break
    process.kill()
    raise RuntimeError(f"ntk serve did not start: {log.read_text()[-2000:]}")


def stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("api")
    home = root / "home"
    vault = init_vault(Settings(home=home, database_url=f"sqlite:///{home}/vault.db"))
    keys = vault.api_keys
    tokens = {
        role: keys.create(recipient, scopes, label=role).token
        for role, (recipient, scopes) in ROLES.items()
    }
    # The authorisation matrix refuses one revoked key at every endpoint, within a minute.
    process, url = start(home, root / "serve.log", NTK_API_REFUSAL_RATE="1000/minute")
    yield Server(url, vault, tokens, root / "serve.log")
    stop(process)
    vault.close()


@pytest.fixture
def apps(vault: Vault) -> Iterator[tuple[str, str]]:
    """The same vault served twice: with the fast routes (api/fastread.py,
    api/fastcorrect.py), and through FastAPI only; each limited to 3 requests a minute
    per key."""
    from needtoknow.api.app import create_app
    from needtoknow.api.service import Limits
    from tests.serving import serving

    with (
        serving(create_app(vault, Limits(rate="3/minute"))) as fast,
        serving(create_app(vault, Limits(rate="3/minute"), fast_routes=False)) as slow,
    ):
        yield fast, slow


def answered(got: httpx.Response, vault: Vault) -> tuple[Any, ...]:
    """What a client saw, and what the ledger kept, with the request's own id taken out:
    what a fast route and its FastAPI route must agree on."""
    from tests.ledgered import last_entry

    request_id = got.headers["x-request-id"]
    shown = {k: v for k, v in got.headers.items() if k not in ("x-request-id", "date")}
    body = got.text.replace(request_id, "<id>")
    entry = last_entry(vault)
    if entry.get("request_id") == request_id:
        entry["request_id"] = "<id>"
    entry.pop("time", None)
    return got.status_code, shown, body, entry


def access_routes(caplog: pytest.LogCaptureFixture, count: int) -> list[str | None]:
    """The routes of the first ``count`` access records (api/logs.py: in-process, no
    service handler, so records). A record is made after its response is sent, so the
    client may have it first: wait for them, up to 10 s."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [r for r in caplog.records if r.getMessage() == "request"]
        if len(lines) >= count:
            break
        time.sleep(0.01)
    return [getattr(r, "fields", {}).get("route") for r in lines[:count]]
