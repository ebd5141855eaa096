"""Real delivery for tests, on 127.0.0.1 only: an SMTP server (aiosmtpd) whose inbox a
test reads, and an SMS gateway (an HTTP server) that records what it is asked to send."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from needtoknow.records.outbox import Smtp

SENDER = "privacy@nextraone.example"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.upgraded: list[bool] = []  # per message: did it arrive after STARTTLS?

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        self.upgraded.append(session.ssl is not None)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Smtp, Inbox, Controller]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield Smtp("127.0.0.1", controller.port, SENDER, tls="plain"), inbox, controller
    controller.stop()


def text_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


def code_in(message: Message | str) -> str:
    """The six-digit one-time code in a message (an e-mail, or an SMS's text)."""
    text = message if isinstance(message, str) else text_of(message)
    found = re.search(r"\b(\d{6})\b", text)
    assert found, "no code in the message"
    return found.group(1)


class SmsGateway:
    """An SMS provider's HTTP API: records each JSON message and its Authorization."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.tokens: list[str | None] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                gateway.messages.append(json.loads(body))
                gateway.tokens.append(self.headers.get("Authorization"))
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sms() -> Iterator[SmsGateway]:
    gateway = SmsGateway()
    yield gateway
    gateway.close()
