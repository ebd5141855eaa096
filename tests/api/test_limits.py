"""Per-key rate limits, on a service started with a tight limit."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import sqlalchemy as sa

from needtoknow.config import Settings, init_vault
from needtoknow.storage.schema import ledger_entries
from tests.api.conftest import start, stop


def test_a_key_over_its_rate_gets_429_and_others_do_not(tmp_path: Path) -> None:
    home = tmp_path / "home"
    vault = init_vault(Settings(home=home, database_url=f"sqlite:///{home}/vault.db"))
    busy, quiet = (vault.api_keys.create("billing_team").token for _ in range(2))
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


def test_refusals_of_a_known_key_are_rate_limited_before_they_reach_the_ledger(
    tmp_path: Path,
) -> None:
    """Key ids are public; each refusal of a known key is a ledger write. A flood with a
    wrong secret is cut off by the refusal limit, and blames nobody's key."""
    home = tmp_path / "home"
    vault = init_vault(Settings(home=home, database_url=f"sqlite:///{home}/vault.db"))
    issued = vault.api_keys.create("billing_team")
    forged = f"ntk_{issued.key.id}_not-the-secret"
    process, url = start(home, tmp_path / "serve.log", NTK_API_REFUSAL_RATE="3/minute")
    try:
        statuses = [
            httpx.get(f"{url}/v1/policy", headers={"X-API-Key": forged}).status_code
            for _ in range(6)
        ]
    finally:
        stop(process)
    assert statuses == [401, 401, 401, 429, 429, 429]
    with vault.db.connect() as conn:
        rows: list[bytes] = list(conn.execute(sa.select(ledger_entries.c.entry)).scalars())
    refused = [json.loads(bytes(r)) for r in rows if b'"refused"' in bytes(r)]
    assert len(refused) == 3
    assert {e["actor"] for e in refused} == {"api:unauthenticated"}
    vault.close()


def test_wrong_secrets_for_a_key_id_do_not_lock_out_its_holder(tmp_path: Path) -> None:
    """Issue 15 (medium): key ids are public, and wrong-secret requests spent the key's
    own rate, so anyone could lock its holder out. Refusals have their own bucket per
    client address and key id: the attacker is throttled, the holder's allowance is
    untouched, and another address keeps its own bucket."""
    home = tmp_path / "home"
    vault = init_vault(Settings(home=home, database_url=f"sqlite:///{home}/vault.db"))
    issued = vault.api_keys.create("billing_team")
    forged = f"ntk_{issued.key.id}_not-the-secret"
    process, url = start(
        home, tmp_path / "serve.log", NTK_API_RATE="4/minute", NTK_API_REFUSAL_RATE="3/minute"
    )
    try:
        attacks = [httpx.get(f"{url}/v1/policy", headers={"X-API-Key": forged}) for _ in range(8)]
        holder = [
            httpx.get(f"{url}/v1/policy", headers={"X-API-Key": issued.token}).status_code
            for _ in range(4)
        ]
        again = httpx.get(f"{url}/v1/policy", headers={"X-API-Key": forged})
        # Another client address has a bucket of its own (the holder mistyping elsewhere).
        elsewhere = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(transport=elsewhere) as other:
            typo = other.get(f"{url}/v1/policy", headers={"X-API-Key": forged})
    finally:
        stop(process)
    assert [a.status_code for a in attacks] == [401] * 3 + [429] * 5
    assert "refused attempts" in attacks[-1].json()["detail"]
    assert 0 < int(attacks[-1].headers["retry-after"]) <= 60
    assert holder == [200] * 4  # the key's own 4/minute, all of it
    assert again.status_code == 429 and typo.status_code == 401
    vault.close()


def test_an_unexpected_failure_is_a_500_problem_with_the_request_id_and_no_traceback(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    vault = init_vault(Settings(home=home, database_url=f"sqlite:///{home}/vault.db"))
    token = vault.api_keys.create("billing_team").token
    cid = vault.add({"name": "Asha Canary", "email": "asha.canary@example.in"}).customer_id
    log = tmp_path / "serve.log"
    process, url = start(home, log)
    try:
        with vault.db.begin() as conn:  # break the store under the running service
            conn.exec_driver_sql("ALTER TABLE customers RENAME TO customers_gone")
        response = httpx.get(
            f"{url}/v1/customers/{cid}", params={"purpose": "billing"}, headers={"X-API-Key": token}
        )
    finally:
        stop(process)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["request_id"] == response.headers["x-request-id"]
    text = log.read_text()
    failures = [json.loads(line) for line in text.splitlines() if "unhandled error" in line]
    assert [f["request_id"] for f in failures] == [response.headers["x-request-id"]]
    assert "Traceback" not in text and "asha.canary" not in text and "Asha" not in text
    vault.close()
