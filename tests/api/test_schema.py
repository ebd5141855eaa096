"""Schemathesis against the published OpenAPI schema, over real HTTP: whatever it sends,
no 5xx, every status and body as documented, and every problem is problem+json. Then
Hypothesis past the schema: random JSON and raw bytes in the bodies that carry data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import checks
from schemathesis.core.result import Ok

from needtoknow.storage.schema import consents, customers, privacy_charges
from tests.api.conftest import Server
from tests.customers import ASHA

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.ignored_auth,
]


def test_the_service_keeps_its_published_contract(server: Server) -> None:
    # The operations are driven one by one with Hypothesis (schemathesis's pytest
    # plugin does not support pytest 9 yet); a bounded number of examples each.
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    headers = {"X-API-Key": server.tokens["everything"]}
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # an operation the loader could not read
        operations.append(result.ok())
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
        def keeps_contract(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        keeps_contract()


# Beyond the schema: random JSON in every body that carries customer data, events,
# specs or consents — good bodies spoiled at any leaf, anything at all, and bytes that
# are not JSON. Values carry a canary no response may show; a refusal stores nothing.
CANARY = "Qx7canary"
# lone surrogates, NUL, digits int() refuses or reads, bidi override, astral, BOM
_ODD = st.sampled_from(["\ud800", "\udfff", "\x00", "²", "١٢", "\u202e", "\U0001d7d7", "\ufeff"])
_TEXT = st.builds(lambda odd, text: CANARY + odd + text, _ODD, st.text(max_size=6))
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**20, max_value=10**300),
    st.floats(allow_nan=False, allow_infinity=False),
    _TEXT,
)
_KEYS = st.text(max_size=8) | st.sampled_from(
    [
        "name",
        "email",
        "telephone",
        "address",
        "card_number",
        "identity_number",
        "kind",
        "day",
        "page",
        "customer_id",
        "value",
        "search",
        "measure",
        "by",
        "window",
        "keys",
        "number",
    ]
)
_JSON = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=12,
)
_NAMES = st.text(max_size=8) | st.sampled_from(
    ["billing", "service_delivery", "marketing_contact", "email", "telephone", "name"]
)
# Good bodies, to be spoiled: a leaf replaced by any JSON, or a string given odd text.
_GOOD: dict[str, Any] = {
    "customers": {"fields": ASHA},
    "lookup": {"category": "email", "value": ASHA["email"], "purpose": "service_delivery"},
    "events": {
        "events": [
            {"kind": "search", "day": "2026-11-05", "customer_id": "c1", "search": "hosting"},
            {
                "kind": "page_view",
                "day": "2026-11-05",
                "customer_id": "c2",
                "page": "/a",
                "value": 30,
            },
        ]
    },
    "reports": {
        "spec": {
            "name": "pages",
            "measure": "mean",
            "by": ["page"],
            "kinds": ["page_view"],
            "window": {"from": "2026-11-01", "to": "2026-11-30"},
            "keys": {"page": ["/a", "/b"]},
            "bounds": {"max_partitions": 2, "max_per_partition": 1, "value": [0, 600]},
            "privacy": {"epsilon": 0.01, "delta": 1e-9},
        }
    },
    "consents": {"purpose": "marketing_contact", "evidence": "form 12", "channel": "web"},
}
_VOCABULARY = {"purpose", "category"}  # policy names, not values: never spoiled


def _spoiled(body: Any, picks: list[tuple[int, Any]]) -> Any:
    """``body`` with its leaves at the picked positions (counted depth first, modulo the
    number of leaves) replaced: by the pick itself, or — for a str pick that starts
    with the canary — by the old string with the pick's odd text appended."""
    leaves: list[tuple[Any, Any]] = []

    def collect(node: Any, holder: Any = None, key: Any = None) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k not in _VOCABULARY:
                    collect(v, node, k)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                collect(v, node, i)
        elif holder is not None:
            leaves.append((holder, key))

    copy = json.loads(json.dumps(body))
    collect(copy)
    for position, pick in picks:
        holder, key = leaves[position % len(leaves)]
        old = holder[key]
        holder[key] = f"{old}{pick}" if isinstance(pick, str) and isinstance(old, str) else pick
    return copy


# Bodies no JSON encoder writes: deep nesting, numbers past any parser's limit, NaN,
# non-string keys, bytes that are not UTF-8, truncation.
_RAW = st.sampled_from(
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"fields": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001,
        b'{"fields": {"name": ' + b"9" * 5000 + b"}}",
        b'{"fields": {"name": NaN, "email": Infinity}}',
        b'{"fields": {1: "Qx7canary"}}',
        b'{"fields": {"name": "Qx7canary\xff\xfe"}}',
        b'{"events": [{"kind": "search", "search": "Qx7canary\xc3\x28"}]}',
        b'{"spec": {"name": "Qx7canary", "measure": "count"',
        b"\xef\xbb\xbf" + b'{"fields": {"name": "Qx7canary"}}',
        b"",
    ]
)


def _bodies(route: str) -> st.SearchStrategy[bytes]:
    """Bodies for one route: its good body spoiled, its shape with anything inside,
    anything at all, or raw bytes."""
    pick = st.one_of(_TEXT, _TEXT, _JSON)
    picks = st.lists(st.tuples(st.integers(0, 10**6), pick), min_size=1, max_size=2)
    spoiled = picks.map(lambda chosen: _spoiled(_GOOD[route], chosen))
    shaped = {
        "customers": st.builds(lambda f: {"fields": f}, st.dictionaries(_KEYS, _JSON)),
        "lookup": st.builds(
            lambda c, v, p: {"category": c, "value": v, "purpose": p}, _NAMES, _JSON, _NAMES
        ),
        "events": st.builds(
            lambda e: {"events": e}, st.lists(st.dictionaries(_KEYS, _JSON), min_size=1, max_size=5)
        ),
        "reports": st.builds(lambda s: {"spec": s}, st.dictionaries(_KEYS, _JSON)),
        "consents": st.builds(
            lambda p, e, c: {"purpose": p, "evidence": e, "channel": c}, _NAMES, _JSON, _JSON
        ),
    }[route]
    encoded = st.one_of(spoiled, spoiled, shaped, _JSON).map(lambda b: json.dumps(b).encode())
    return encoded | _RAW


def _stored(server: Server, customer_id: str) -> tuple[Any, ...]:
    """Everything a refused request must leave as it was."""
    with server.vault.db.connect() as conn:
        counts = tuple(
            conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            for table in (customers, consents, privacy_charges)
        )
        record = conn.execute(
            sa.select(customers.c.sealed_fields).where(customers.c.id == customer_id)
        ).scalar()
    events = Path(str(server.vault.db.url.database)).parent / "events"
    return (*counts, record, sorted(events.glob("*.parquet")) if events.exists() else [])


@pytest.mark.parametrize(
    ("route", "method", "path", "role"),
    [
        ("customers", "POST", "/v1/customers", "everything"),
        ("customers", "PATCH", "/v1/customers/{customer_id}", "everything"),
        ("lookup", "POST", "/v1/customers/lookup", "everything"),
        ("events", "POST", "/v1/events", "everything"),
        ("reports", "POST", "/v1/reports", "buyer"),
        ("consents", "POST", "/v1/customers/{customer_id}/consents", "everything"),
    ],
)
def test_random_bodies_are_refused_cleanly_and_store_nothing(
    server: Server, route: str, method: str, path: str, role: str
) -> None:
    """Issue 15 (fuzzing): whatever a body holds — any JSON, deep, huge, of the wrong
    types, or not JSON, not UTF-8 — the answer is never a 500 or a traceback, a refusal
    never shows a value it was sent and stores nothing (no customer, correction,
    consent, event file or budget charge)."""
    customer_id = server.vault.add(ASHA).customer_id
    logged = len(server.log_text())
    url = server.url + path.format(customer_id=customer_id)
    headers = {"X-API-Key": server.tokens[role], "Content-Type": "application/json"}

    @given(body=_bodies(route))
    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
    def refused_cleanly(body: bytes) -> None:
        before = _stored(server, customer_id)
        response = httpx.request(method, url, content=body, headers=headers, timeout=30)
        assert response.status_code < 500, (body[:200], response.text)
        assert "Traceback" not in response.text, response.text
        if response.status_code >= 400:  # (an accepted report echoes its own name, by design)
            assert CANARY not in response.text, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert _stored(server, customer_id) == before, response.text

    refused_cleanly()
    log = server.log_text()[logged:]
    assert "Traceback" not in log and "unhandled error" not in log and CANARY not in log


def test_the_record_schema_is_the_body_of_a_write_and_its_forms_are_accepted(
    server: Server,
) -> None:
    """The customer record's JSON Schema (categories.schema) is published as the body
    of POST /v1/customers, and a one-line address written over HTTP is stored whole."""
    document = httpx.get(f"{server.url}/openapi.json").json()
    fields = document["components"]["schemas"]["CustomerFields"]["properties"]["fields"]
    assert fields["additionalProperties"] is False
    assert "one line" in json.dumps(fields["properties"]["address"])
    with server.client("everything") as http:
        written = http.post(
            "/v1/customers",
            json={"fields": {"name": "Ravi K", "address": "9 Beach Road, Chennai 600001"}},
        )
        assert written.status_code == 201, written.text
    with server.client("billing") as http:
        read = http.get(
            f"/v1/customers/{written.json()['customer_id']}", params={"purpose": "billing"}
        )
    assert read.json()["values"]["address"]["city"] == "Chennai"


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_docs_load_nothing_from_another_server(server: Server, page: str) -> None:
    """Swagger UI and ReDoc work offline: every script, style sheet and icon the page
    names is served by us (they came from a CDN before, and /docs was blank offline)."""
    import re

    html = httpx.get(server.url + page)
    assert html.status_code == 200 and "/openapi.json" in html.text
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html.text)
    assert assets, html.text
    for asset in assets:
        assert asset.startswith("/"), asset  # not https://cdn…
        fetched = httpx.get(server.url + asset)
        assert fetched.status_code == 200 and len(fetched.content) > 1000, asset
