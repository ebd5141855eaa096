"""The HTTP service in this process on 127.0.0.1 (uvicorn in a thread) over the test's
own vault, so a test can move the vault's clock while it talks HTTP to it; one-time
codes go to the test's SMTP server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI

from needtoknow.api.app import create_app
from needtoknow.records.outbox import Smtp
from needtoknow.rights.senders import Messenger
from needtoknow.vault import Vault
from tests.mail import Inbox, free_port


@pytest.fixture
def url(vault: Vault, smtp: tuple[Smtp, Inbox, Controller]) -> Iterator[str]:
    with serving(create_app(vault, messenger=Messenger(smtp[0]))) as address:
        yield address


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` served on a free loopback port for the block: its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
