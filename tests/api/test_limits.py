"""Per-key rate limits, on a service started with a tight limit."""

from __future__ import annotations

from pathlib import Path

import httpx

from needtoknow.apikeys import ApiKeys
from needtoknow.home import Settings, init_vault
from tests.api.conftest import start, stop


def test_a_key_over_its_rate_gets_429_and_others_do_not(tmp_path: Path) -> None:
    home = tmp_path / "home"
    vault = init_vault(Settings(home=home, database_url=f"sqlite:///{home}/vault.db"))
    busy, quiet = (ApiKeys(vault).create("billing_team").token for _ in range(2))
    vault.close()
    process, url = start(home, tmp_path / "serve.log", NTK_API_RATE="3/minute")
    try:
        statuses = [
            httpx.get(f"{url}/v1/policy", headers={"X-API-Key": busy}).status_code for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        limited = httpx.get(f"{url}/v1/policy", headers={"X-API-Key": busy})
        assert limited.json()["type"] == "urn:needtoknow:problem:rate-limited"
        assert 0 < int(limited.headers["retry-after"]) <= 60
        assert httpx.get(f"{url}/v1/policy", headers={"X-API-Key": quiet}).status_code == 200
    finally:
        stop(process)
