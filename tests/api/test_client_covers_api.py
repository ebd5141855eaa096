"""The Python client covers every operation the API publishes: each operation in
``/openapi.json`` has a client method that sends that method to that path (read from
the calls themselves, not from a list kept by hand), so a route added without its
client method fails here by name. The calls added for that are then run over HTTP."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from needtoknow.api.app import create_app
from needtoknow.client import CustomerClient, VaultClient
from needtoknow.client.calls import Call, Endpoint
from needtoknow.vault import Vault
from tests.api.conftest import Server
from tests.api.test_analytics_api import SPEC, consenting, events
from tests.customers import ASHA


def _made_up(parameter: inspect.Parameter) -> Any:
    text = str(parameter.annotation)
    if "int" in text:
        return 1
    if "date" in text:
        return date(2027, 1, 1)
    if "dict" in text:
        return {"x": 1}
    if "Iterable" in text or "list" in text:
        return ["x"]
    if "bytes" in text:
        return b"\x00" * 32
    return "x"


def client_calls() -> Iterator[tuple[str, str, str]]:
    """(client method, HTTP method, path) for every call of both clients."""
    for client in (VaultClient, CustomerClient):
        for name, endpoint in inspect.getmembers(client, lambda m: isinstance(m, Endpoint)):
            describe = endpoint._describe
            arguments = {
                p.name: _made_up(p)
                for p in inspect.signature(describe).parameters.values()
                if p.default is inspect.Parameter.empty
                and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
            }
            call: Call[Any] = describe(**arguments)
            yield f"{client.__name__}.{name}", call.method, call.path


def test_every_operation_in_the_openapi_document_has_a_client_call(vault: Vault) -> None:
    # A consent manager's own system posts its signed events: no client of ours does.
    published = {
        (method.upper(), path)
        for path, operations in create_app(vault).openapi()["paths"].items()
        for method, operation in operations.items()
        if "x-consent-manager" not in operation
    }
    calls = [(method, path) for _, method, path in client_calls()]
    missing = sorted(f"{m} {t}" for m, t in published if not any(_fits(m, t, c) for c in calls))
    assert missing == []
    # and no call aims at an operation the API lacks
    stray = [name for name, m, p in client_calls() if not any(_fits(*o, (m, p)) for o in published)]
    assert stray == []


def _fits(method: str, template: str, call: tuple[str, str]) -> bool:
    """Whether a call (method, path) is the operation (method, path template)."""
    pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
    return call[0] == method and re.fullmatch(pattern, call[1]) is not None


def test_the_calls_for_consents_explain_a_disclosure_events_and_reports_work(
    server: Server,
) -> None:
    cid = server.vault.add(ASHA).customer_id
    staff = VaultClient(server.url, server.tokens["everything"])
    recorded = staff.record_consent(cid, "marketing_contact", "form 7", channel="web")
    assert recorded["active"] and recorded["granted_at"].endswith("Z")
    assert [c["purpose"] for c in staff.consents(cid)] == ["marketing_contact"]
    closed = staff.withdraw_consents(cid, "marketing_contact")
    assert [c["active"] for c in closed] == [False]
    assert staff.explain("billing")["recipient"] == "support_team"
    legal = VaultClient(server.url, server.tokens["legal"])
    made = legal.request_disclosure(
        authority="law_enforcement",
        purpose="legal_process",
        legal_basis="BNSS 2023 s.94",
        reference="Summons 9",
        customer_ids=[cid],
        categories=["name"],
        case_owner="Priya",
    )
    assert legal.disclosure(made["id"]) == made
    frontend = VaultClient(server.url, server.tokens["frontend"])
    sent = frontend.send_events(events(consenting(server, 300)))
    assert sent["accepted"] == 451
    released = VaultClient(server.url, server.tokens["buyer"]).run_report(SPEC)
    assert released["report"] == "pages" and released["rows"]
