"""``ntk serve --tls-cert/--tls-key``: the API over HTTPS with a certificate we trust, and
the console's pages under HSTS."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from needtoknow.config import Settings, init_vault
from tests.api.conftest import NTK, free_port, start, stop


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return cert_file, key_file


def test_the_api_is_served_over_tls(tmp_path: Path) -> None:
    home = tmp_path / "home"
    vault = init_vault(Settings(home=home, database_url=f"sqlite:///{home}/vault.db"))
    token = vault.api_keys.create("billing_team").token
    vault.close()
    cert, key = self_signed(tmp_path)
    port = free_port()
    process = subprocess.Popen(
        [NTK, "serve", "--port", str(port), "--tls-cert", str(cert), "--tls-key", str(key)],
        env={**os.environ, "NTK_HOME": str(home), "NTK_DATABASE_URL": ""},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"https://127.0.0.1:{port}"
        trusted = ssl.create_default_context(cafile=str(cert))
        for _ in range(300):
            try:
                response = httpx.get(
                    f"{url}/v1/policy", headers={"X-API-Key": token}, verify=trusted
                )
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert response.status_code == 200 and response.json()["name"] == "nextraone"
        page = httpx.get(f"{url}/console/signin", verify=trusted)  # the pages, under HSTS
        assert page.headers["strict-transport-security"].startswith("max-age=31536000")
        assert "strict-transport-security" not in response.headers  # the API: unchanged
        plain = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{port}/"],
            capture_output=True,
            text=True,
        )
        assert plain.stdout != "200"  # plain HTTP is not served on the TLS port
    finally:
        stop(process)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.2", "api.example.com"])
def test_serve_refuses_plain_http_beyond_loopback(tmp_path: Path, host: str) -> None:
    """Issue 15 (transport): API keys and customer data must not cross a network in clear
    text: a --host other than loopback needs TLS, or an explicit --insecure-http."""
    port = free_port()
    result = subprocess.run(
        [NTK, "serve", "--host", host, "--port", str(port)],
        env={
            **os.environ,
            "NTK_HOME": str(tmp_path / "home"),
            "NTK_DATABASE_URL": "",
            "COLUMNS": "200",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    message = " ".join(result.stderr.split())
    assert "--tls-cert" in message and "--insecure-http" in message and "127.0.0.1" in message
    with socket.socket() as probe:  # nothing was bound
        probe.bind(("127.0.0.1", port))


def test_serve_with_insecure_http_warns_at_start(tmp_path: Path) -> None:
    home = tmp_path / "home"
    init_vault(Settings(home=home, database_url=f"sqlite:///{home}/vault.db")).close()
    log = tmp_path / "serve.log"
    process, url = start(home, log, "--host", "0.0.0.0", "--insecure-http")
    try:
        assert httpx.get(f"{url}/healthz").status_code == 200
    finally:
        stop(process)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    warnings = [line for line in lines if line["level"] == "warning"]
    assert [w["host"] for w in warnings] == ["0.0.0.0"]
    assert warnings[0]["event"].startswith("insecure_http")
