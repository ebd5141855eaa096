"""How a one-time code or an escalation reaches a person: e-mail over SMTP, or an SMS
gateway — any object with ``send`` will do, so a deployment plugs in its own provider.

``SmsWebhook`` posts ``{"to", "text"}`` as JSON to a gateway URL with a bearer token,
the shape most Indian SMS providers' HTTP APIs accept behind a small adapter. Over
anything but loopback it must be HTTPS: the message carries a code and a number.
"""

from __future__ import annotations

import json
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import urlsplit

from needtoknow.errors import Unavailable, ValidationError
from needtoknow.guards.network import LOOPBACK_EXAMPLES, is_loopback
from needtoknow.records.outbox import Smtp

CHANNELS = ("email", "sms")
CHANNEL_CATEGORY = {"email": "email", "sms": "telephone"}


class Sender(Protocol):
    def send(self, channel: str, address: str, subject: str, text: str) -> None:
        """Deliver ``text`` to ``address`` over ``channel`` (email or sms), or raise
        Unavailable: the caller may then ask for another code."""
        ...


@dataclass(frozen=True)
class SmsWebhook:
    url: str
    token: str = ""

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme != "https" and not (
            parts.scheme == "http" and is_loopback(parts.hostname or "")
        ):
            raise ValidationError(
                "sms_url", "sms", "https_beyond_loopback", f"https, or http to {LOOPBACK_EXAMPLES}"
            )

    def deliver(self, address: str, text: str) -> None:
        import urllib.request  # only here: every command loads this module, few send SMS

        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = json.dumps({"to": address, "text": text}).encode()
        request = urllib.request.Request(self.url, body, headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        except OSError as exc:  # URLError and HTTPError are OSErrors
            raise Unavailable(
                f"the SMS gateway refused the message ({type(exc).__name__})"
            ) from None


@dataclass(frozen=True)
class Messenger:
    """E-mail through ``smtp``, SMS through ``sms``; either may be absent."""

    smtp: Smtp | None = None
    sms: SmsWebhook | None = None

    def send(self, channel: str, address: str, subject: str, text: str) -> None:
        if channel == "sms" and self.sms is not None:
            self.sms.deliver(address, text)
            return
        if channel != "email" or self.smtp is None:
            raise Unavailable(f"no {channel} sender is configured")
        message = EmailMessage()
        message["From"] = self.smtp.sender
        message["To"] = address
        message["Subject"] = subject
        message.set_content(text)
        try:
            with self.smtp.connect() as server:
                server.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise Unavailable(
                f"the mail server refused the message ({type(exc).__name__})"
            ) from None
