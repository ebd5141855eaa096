"""Customers reached by a material change are told by e-mail: queued once per version,
delivered through a real SMTP server on 127.0.0.1 (aiosmtpd), retried when it is down,
never sent twice; each address is read through the policy and ledgered."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from needtoknow.outbox import Outbox, Smtp
from needtoknow.storage.schema import ledger_entries
from needtoknow.vault import Vault
from needtoknow.versions import PolicyVersions
from tests.conftest import Clock
from tests.customers import ASHA, RAVI

TEXT = (Path(__file__).parents[1] / "policies" / "nextraone.yaml").read_text("utf-8")
WIDER = TEXT.replace(
    "address: city_only, digital_identity: full}", "address: full, digital_identity: full}"
)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
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
    yield Smtp("127.0.0.1", controller.port, "privacy@nextraone.example"), inbox, controller
    controller.stop()


def notices(vault: Vault) -> list[dict[str, Any]]:
    with vault.db.connect() as conn:
        rows = conn.execute(sa.select(ledger_entries.c.entry).order_by(ledger_entries.c.idx))
        entries = [json.loads(bytes(row.entry)) for row in rows]
    return [e for e in entries if e["kind"] == "notice"]


def test_customers_the_widening_reaches_are_told_once(
    vault: Vault, smtp: tuple[Smtp, Inbox, Controller]
) -> None:
    settings, inbox, _ = smtp
    asha, ravi = vault.add(ASHA).customer_id, vault.add(RAVI).customer_id
    vault.add({"name": "No Address", "email": "no.address@example.in"})  # not reached
    posted = PolicyVersions(vault).propose(WIDER)  # widens address: queues who has one
    outbox = Outbox(vault, settings)
    assert outbox.status(posted.version) == {"pending": 2}
    assert outbox.deliver() == {"sent": 2}
    assert outbox.deliver() == {} and Outbox(vault).enqueue(posted.version) == 0  # never twice
    assert sorted(m["To"] for m in inbox.messages) == sorted([ASHA["email"], RAVI["email"]])
    payload = inbox.messages[0].get_payload(decode=True)
    body = payload.decode("utf-8") if isinstance(payload, bytes) else ""
    assert "What changed" in body and "city_only → full" in body
    assert {m["Message-ID"] for m in inbox.messages} == {
        f"<{posted.version[:32]}.{c}@needtoknow>" for c in (asha, ravi)
    }
    assert [n["detail"]["status"] for n in notices(vault)] == ["sent", "sent"]


def test_a_server_that_is_down_is_retried_later(
    vault: Vault, clock: Clock, smtp: tuple[Smtp, Inbox, Controller]
) -> None:
    settings, inbox, _ = smtp
    vault.add(ASHA)
    posted = PolicyVersions(vault).propose(WIDER)
    down = Smtp("127.0.0.1", free_port(), settings.sender)  # nothing listens there
    assert Outbox(vault, down).deliver() == {"retry": 1}
    assert Outbox(vault, settings).deliver() == {}  # not due yet
    clock.now += timedelta(minutes=3)
    assert Outbox(vault, settings).deliver() == {"sent": 1}
    assert len(inbox.messages) == 1 and Outbox(vault).status(posted.version) == {"sent": 1}


def test_a_narrowing_change_tells_no_one(vault: Vault) -> None:
    vault.add(ASHA)
    narrower = TEXT.replace("telephone: full, address: city_only", "address: city_only")
    posted = PolicyVersions(vault).propose(narrower)
    assert not posted.material and Outbox(vault).status(posted.version) == {}


def test_collecting_a_new_category_tells_everyone(vault: Vault) -> None:
    vault.add(ASHA)
    vault.add({"name": "No Licence", "email": "no.licence@example.in"})  # may be asked too
    more = TEXT.replace("driving_licence,", "driving_licence, vehicle_registration,")
    posted = PolicyVersions(vault).propose(more)
    assert posted.material and Outbox(vault).status(posted.version) == {"pending": 2}


def test_keeping_data_longer_tells_those_who_hold_what_is_kept(vault: Vault) -> None:
    vault.add(ASHA)
    vault.add({"date_of_birth": "1990-01-01"})  # verification data only: billing keeps none
    longer = TEXT.replace("retention: 8 years", "retention: 10 years")
    posted = PolicyVersions(vault).propose(longer)
    assert posted.material and Outbox(vault).status(posted.version) == {"pending": 1}
