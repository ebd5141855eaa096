"""Customers reached by a material change are told by e-mail: queued once per version,
delivered through a real SMTP server on 127.0.0.1 (aiosmtpd), retried when it is down,
never sent twice; each address is read through the policy and ledgered."""

from __future__ import annotations

import dataclasses
import json
import ssl
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from needtoknow.config import Settings
from needtoknow.errors import ValidationError
from needtoknow.guards.network import is_loopback
from needtoknow.records.outbox import Smtp
from needtoknow.storage.schema import ledger_entries
from needtoknow.vault import Vault
from tests.api.test_tls import self_signed
from tests.conftest import Clock, Ntk
from tests.customers import ASHA, RAVI
from tests.mail import SENDER, Inbox, free_port

TEXT = (Path(__file__).parents[1] / "policies" / "nextraone.yaml").read_text("utf-8")
WIDER = TEXT.replace(
    "address: city_only, digital_identity: full}", "address: full, digital_identity: full}"
)
NARROWER = TEXT.replace(  # support loses the telephone
    "telephone: full, address: city_only, digital_identity: full}",
    "address: city_only, digital_identity: full}",
)


def notices(vault: Vault) -> list[dict[str, Any]]:
    with vault.db.connect() as conn:
        rows = conn.execute(sa.select(ledger_entries.c.entry).order_by(ledger_entries.c.idx))
        entries = [json.loads(bytes(row.entry)) for row in rows]
    return [e for e in entries if e["kind"] == "notice"]


def _ledgered(vault: Vault) -> int:
    with vault.db.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(ledger_entries)).scalar_one()
        )


def test_a_posting_whose_notices_cannot_be_queued_is_not_posted(sqlite_vault: Vault) -> None:
    """Posting and queueing are one transaction: a crash while queueing (here a trigger
    refusing the insert) leaves no posted version that could later be activated with
    nobody told, and no ledger entry saying it was posted."""
    vault = sqlite_vault
    vault.add(ASHA)
    with vault.db.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TRIGGER no_notices BEFORE INSERT ON notifications "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    entries = _ledgered(vault)
    with pytest.raises(sa.exc.IntegrityError):
        vault.versions.propose(WIDER)
    assert [v.version for v in vault.versions.history()] == [vault.policy.version]
    assert _ledgered(vault) == entries
    with vault.db.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER no_notices")
    posted = vault.versions.propose(WIDER)
    assert vault.outbox().status(posted.version) == {"pending": 1}


def test_customers_the_widening_reaches_are_told_once(
    vault: Vault, smtp: tuple[Smtp, Inbox, Controller]
) -> None:
    settings, inbox, _ = smtp
    asha, ravi = vault.add(ASHA).customer_id, vault.add(RAVI).customer_id
    vault.add({"name": "No Address", "email": "no.address@example.in"})  # not reached
    posted = vault.versions.propose(WIDER)  # widens address: queues who has one
    outbox = vault.outbox(settings)
    assert outbox.status(posted.version) == {"pending": 2}
    assert outbox.deliver() == {"sent": 2}
    assert vault.versions.propose(WIDER).version == posted.version
    assert outbox.deliver() == {}  # never twice
    assert sorted(m["To"] for m in inbox.messages) == sorted([ASHA["email"], RAVI["email"]])
    payload = inbox.messages[0].get_payload(decode=True)
    body = payload.decode("utf-8") if isinstance(payload, bytes) else ""
    assert "What changed" in body and "city_only → full" in body
    posting = f"{posted.version[:32]}.{int(posted.posted_at.timestamp())}"
    assert {m["Message-ID"] for m in inbox.messages} == {
        f"<{posting}.{c}@needtoknow>" for c in (asha, ravi)
    }
    assert [n["detail"]["status"] for n in notices(vault)] == ["sent", "sent"]


def test_a_version_posted_again_with_other_changes_tells_its_customers_again(
    vault: Vault, clock: Clock, smtp: tuple[Smtp, Inbox, Controller]
) -> None:
    """What customers were told must be what takes effect: after a narrowing, a version
    posted before describes another change, so it is posted again and told again (as a
    new message, not a duplicate a mail system would drop)."""
    settings, inbox, _ = smtp
    vault.add(ASHA)
    versions = vault.versions
    wider = versions.propose(WIDER)
    outbox = vault.outbox(settings)
    assert outbox.deliver() == {"sent": 1}
    versions.activate(versions.propose(NARROWER).version)
    clock.now += timedelta(seconds=5)
    again = versions.propose(WIDER)
    assert again.version == wider.version and again.posted_at > wider.posted_at
    assert outbox.status(wider.version) == {"pending": 1}
    assert outbox.deliver() == {"sent": 1}
    first, second = inbox.messages
    assert first["Message-ID"] != second["Message-ID"]
    payload = second.get_payload(decode=True)
    assert isinstance(payload, bytes) and "Telephone number: — → full" in payload.decode()


def test_a_server_that_is_down_is_retried_later(
    vault: Vault, clock: Clock, smtp: tuple[Smtp, Inbox, Controller]
) -> None:
    settings, inbox, _ = smtp
    vault.add(ASHA)
    posted = vault.versions.propose(WIDER)
    down = dataclasses.replace(settings, port=free_port())  # nothing listens there
    assert vault.outbox(down).deliver() == {"retry": 1}
    assert vault.outbox(settings).deliver() == {}  # not due yet
    clock.now += timedelta(minutes=3)
    assert vault.outbox(settings).deliver() == {"sent": 1}
    assert len(inbox.messages) == 1 and vault.outbox().status(posted.version) == {"sent": 1}


def test_a_narrowing_change_tells_no_one(vault: Vault) -> None:
    vault.add(ASHA)
    narrower = TEXT.replace("telephone: full, address: city_only", "address: city_only")
    posted = vault.versions.propose(narrower)
    assert not posted.material and vault.outbox().status(posted.version) == {}


def test_collecting_a_new_category_tells_everyone(vault: Vault) -> None:
    vault.add(ASHA)
    vault.add({"name": "No Licence", "email": "no.licence@example.in"})  # may be asked too
    more = TEXT.replace("driving_licence,", "driving_licence, vehicle_registration,")
    posted = vault.versions.propose(more)
    assert posted.material and vault.outbox().status(posted.version) == {"pending": 2}


def test_keeping_data_longer_tells_those_who_hold_what_is_kept(vault: Vault) -> None:
    vault.add(ASHA)
    vault.add({"date_of_birth": "1990-01-01"})  # verification data only: billing keeps none
    longer = TEXT.replace("retention: 180 days", "retention: 10 years")
    posted = vault.versions.propose(longer)
    assert posted.material and vault.outbox().status(posted.version) == {"pending": 1}


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    """A certificate for 127.0.0.1 (the file clients trust) and a server context."""
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context


def test_notices_to_the_smtp_server_go_over_starttls(
    vault: Vault, clock: Clock, certificate: tuple[Path, ssl.SSLContext]
) -> None:
    """Issue 15 (transport): notices carry a customer's address; with ``starttls`` they
    go only over the upgraded connection, the server's certificate checked."""
    cert, context = certificate
    inbox = Inbox()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_port(), tls_context=context, require_starttls=True
    )
    controller.start()
    try:
        vault.add(ASHA)
        posted = vault.versions.propose(WIDER)
        untrusted = Smtp("127.0.0.1", controller.port, SENDER, tls="starttls")
        assert vault.outbox(untrusted).deliver() == {"retry": 1}  # not our CA: nothing sent
        clock.now += timedelta(minutes=3)
        trusted = dataclasses.replace(untrusted, ca_file=cert)
        assert vault.outbox(trusted).deliver() == {"sent": 1}
    finally:
        controller.stop()
    assert inbox.upgraded == [True] and vault.outbox().status(posted.version) == {"sent": 1}


def test_notices_to_the_smtp_server_go_over_implicit_tls(
    vault: Vault, certificate: tuple[Path, ssl.SSLContext]
) -> None:
    cert, context = certificate
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), ssl_context=context)
    controller.start()
    try:
        vault.add(ASHA)
        vault.versions.propose(WIDER)
        smtp = Smtp("127.0.0.1", controller.port, SENDER, tls="implicit", ca_file=cert)
        assert vault.outbox(smtp).deliver() == {"sent": 1}
    finally:
        controller.stop()
    assert [m["To"] for m in inbox.messages] == [ASHA["email"]]


def test_a_tls_required_smtp_server_without_starttls_gets_nothing(
    vault: Vault, smtp: tuple[Smtp, Inbox, Controller]
) -> None:
    """Issue 15 (transport): a server that does not offer STARTTLS is never sent the
    notice in plain text: the delivery fails cleanly (retried later), nothing is sent
    or marked sent."""
    plain, inbox, _ = smtp
    vault.add(ASHA)
    posted = vault.versions.propose(WIDER)
    required = dataclasses.replace(plain, tls="starttls")
    assert vault.outbox(required).deliver() == {"retry": 1}
    assert inbox.messages == [] and vault.outbox().status(posted.version) == {"pending": 1}
    assert notices(vault) == []


@pytest.mark.parametrize(
    "host",
    [
        "0.0.0.0",
        "::",
        "[::]",
        "192.0.2.2",
        "smtp.example.com",
        "localhost.example.com",
        "127.0.0.1.nip.io",
    ],
)
def test_plain_smtp_beyond_loopback_is_refused(host: str) -> None:
    """Issue 15 (transport): plain text only to this machine's loopback, judged on the
    host as configured (never on what a name resolves to); the error names the choices."""
    assert not is_loopback(host)
    with pytest.raises(ValidationError, match="starttls or implicit") as error:
        Smtp(host, 25, SENDER, tls="plain")
    assert error.value.field == "smtp_tls"
    assert Smtp(host, 25, SENDER).tls == "starttls"  # the default


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.9.9.9", "::1", "[::1]", "localhost", "LOCALHOST.", "::ffff:127.0.0.1"],
)
def test_plain_smtp_to_loopback_is_allowed(host: str) -> None:
    assert is_loopback(host) and Smtp(host, 25, SENDER, tls="plain").tls == "plain"


def test_smtp_settings_default_to_tls_beyond_loopback() -> None:
    assert Settings.from_env({}).smtp_tls == "plain"  # 127.0.0.1
    assert Settings.from_env({"NTK_SMTP_HOST": "smtp.example.com"}).smtp_tls == "starttls"
    with pytest.raises(ValidationError, match="starttls, implicit, plain"):
        Smtp("127.0.0.1", 25, SENDER, tls="ssl")


def test_ntk_notice_send_refuses_plain_text_beyond_loopback(ntk: Ntk) -> None:
    ntk.env.update(NTK_SMTP_HOST="0.0.0.0", NTK_SMTP_TLS="plain")
    result = ntk("notice", "send", "--json", expect=5)
    error = json.loads(result.stderr)
    assert (error["field"], error["rule"]) == ("smtp_tls", "plain_beyond_loopback")


def test_a_re_post_that_widens_nothing_leaves_no_notice_queued(
    vault: Vault, clock: Clock, smtp: tuple[Smtp, Inbox, Controller]
) -> None:
    """Second review: pending notices of the first posting were sent with the re-posted
    text even when that no longer widened anything."""
    vault.add(ASHA)
    versions = vault.versions
    wider = versions.propose(WIDER)
    outbox = vault.outbox(smtp[0])
    assert outbox.status(wider.version) == {"pending": 1}
    widest = WIDER.replace("grievance@nextraone.example", "complaints@nextraone.example")
    posted_widest = versions.propose(widest)  # the same widening, another contact
    clock.now += timedelta(days=31)
    versions.activate(posted_widest.version)
    again = versions.propose(WIDER)  # now a narrowing against the active version
    assert not again.material and outbox.status(wider.version) == {}
    posted = [
        e["detail"]
        for e in notices_and_changes(vault)
        if e["detail"]["change"] in ("posted", "reposted") and e["policy_version"] == wider.version
    ]
    assert [p["change"] for p in posted] == ["posted", "reposted"]
    assert posted[0]["changes_sha256"] != posted[1]["changes_sha256"]


def notices_and_changes(vault: Vault) -> list[dict[str, Any]]:
    with vault.db.connect() as conn:
        rows = conn.execute(sa.select(ledger_entries.c.entry).order_by(ledger_entries.c.idx))
        entries = [json.loads(bytes(row.entry)) for row in rows]
    return [e for e in entries if e["kind"] == "policy_change"]
