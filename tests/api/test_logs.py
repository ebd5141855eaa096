"""The access line: written by the service itself, in the shape of every other log line."""

from __future__ import annotations

import json
import logging
import time
from types import SimpleNamespace

import pytest

from needtoknow.api import logs

ROUTE = SimpleNamespace(path="/v1/customers/{customer_id}")
KEY = SimpleNamespace(id="0123456789abcdef", recipient="billing_team")


def scope() -> dict[str, object]:
    return {
        "method": "GET",
        "path": "/v1/customers/c-1?purpose=billing",
        "route": ROUTE,
        "state": {"request_id": "r" * 32, "key": KEY},
    }


def test_an_access_line_is_one_json_line_as_a_formatted_record_would_be(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """Written straight to stderr, not through a handler: the same keys and time format
    as JsonFormatter's lines, and the route's template, never the path."""
    caplog.set_level(logging.INFO, logger="needtoknow.api")
    logs.access(scope(), 200, time.perf_counter())
    written = capfd.readouterr().err
    assert written.count("\n") == 1 and written.endswith("}\n")
    line = json.loads(written)
    record = logging.LogRecord("needtoknow.api", logging.INFO, __file__, 1, "request", None, None)
    formatted = json.loads(logs.JsonFormatter().format(record))
    assert list(line)[:4] == list(formatted) == ["time", "level", "logger", "event"]
    assert {k: line[k] for k in ("level", "logger", "event")} == {
        "level": "info",
        "logger": "needtoknow.api",
        "event": "request",
    }
    assert len(line["time"]) == len(formatted["time"]) == len("2026-12-06T12:00:00.000Z")
    assert line["route"] == ROUTE.path and "c-1" not in written
    assert (line["status"], line["key"], line["recipient"]) == (200, KEY.id, KEY.recipient)
    assert not caplog.records  # not a record: no handler saw it


def test_no_access_line_when_the_service_logs_only_warnings(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """``ntk serve`` configures the logger's level; above info, requests go unlogged as
    they would through logging."""
    caplog.set_level(logging.WARNING, logger="needtoknow.api")
    logs.access(scope(), 200, time.perf_counter())
    assert capfd.readouterr().err == ""
