"""``ntk serve``: the HTTP service under uvicorn."""

from __future__ import annotations

import contextlib
import logging.config
import os
from functools import partial
from pathlib import Path
from typing import Annotated

from needtoknow.guards.extras import require

require("api")  # before uvicorn: a missing extra is named, not a traceback

# ruff: noqa: E402 - imported after the check of their extra
import typer
import uvicorn

from needtoknow.api.logs import log, uvicorn_log_config
from needtoknow.cli.common import stopping_on_sigterm, with_vault
from needtoknow.cli.signing import SignerProcess
from needtoknow.guards.network import LOOPBACK_EXAMPLES, is_loopback


def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on: beyond loopback, only with TLS.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    tls_cert: Annotated[Path | None, typer.Option(help="TLS certificate (PEM).")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="TLS private key (PEM).")] = None,
    max_connections: Annotated[
        int, typer.Option(help="Concurrent connections before new ones get 503.")
    ] = 1000,
    sth_every: Annotated[
        float,
        typer.Option(
            min=0,
            envvar="NTK_STH_EVERY",
            help="Sign a ledger tree head every SECONDS while serving, and on shutdown "
            "(0: never; then run 'ntk ledger sth --every' beside it).",
        ),
    ] = 60,
    insecure_http: Annotated[
        bool,
        typer.Option(
            "--insecure-http",
            help="Serve plain HTTP on a host other than loopback (behind a proxy that "
            "terminates TLS); warned about at every start.",
        ),
    ] = False,
) -> None:
    """Serve the vault under NTK_HOME over HTTP: OpenAPI at /docs and /openapi.json.

    Limits per API key come from NTK_API_RATE (default 1000/second per process) and
    NTK_API_MAX_BODY (bytes, default 1 MiB); refused attempts on a key id, per client
    address, from NTK_API_REFUSAL_RATE (default 10/minute). Logs are JSON lines on stderr.
    A --host other than loopback needs --tls-cert and --tls-key, or --insecure-http.
    """
    if (tls_cert is None) != (tls_key is None):
        raise typer.BadParameter("--tls-cert and --tls-key go together")
    # Read by every worker's from_env: no worker signs; a process of its own signs for
    # all of them (cli/signing.py).
    os.environ["NTK_STH_EVERY"] = "0"
    if tls_cert is None and not is_loopback(host):
        # API keys and customer data would cross the network in clear text.
        if not insecure_http:
            raise typer.BadParameter(
                f"plain HTTP only on loopback ({LOOPBACK_EXAMPLES}); for {host} give "
                "--tls-cert and --tls-key, or --insecure-http behind a proxy that "
                "terminates TLS",
                param_hint="--host",
            )
        logging.config.dictConfig(uvicorn_log_config())
        log.warning(
            "insecure_http: serving plain HTTP beyond loopback; API keys and customer data "
            "cross the network unencrypted unless a proxy in front terminates TLS",
            extra={"fields": {"host": host, "port": port}},
        )
    # Open the vault once here, so a missing vault is one clear error rather than every
    # worker failing in turn, and a pending migration runs once rather than in each
    # worker at the same moment (on SQLite the second waits on the lock, then fails).
    with_vault(lambda vault: vault.close())
    serving = partial(
        uvicorn.run,
        "needtoknow.api.app:from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
        limit_concurrency=max_connections,
        timeout_keep_alive=5,
        access_log=False,  # the service writes its own, without paths or query strings
        log_config=uvicorn_log_config(),
        server_header=False,
    )
    if not sth_every:
        serving()
        return
    logging.config.dictConfig(uvicorn_log_config())  # before the signer can have news
    signer = SignerProcess(sth_every)
    signer.start()
    try:
        # uvicorn with one worker re-raises SIGTERM once it has shut down: here it ends
        # the command as Ctrl-C does, so the signer is still told to sign the last head.
        with stopping_on_sigterm(), contextlib.suppress(KeyboardInterrupt):
            serving()
    finally:
        signer.stop()
