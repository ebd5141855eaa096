"""The access line: under ``ntk serve``'s logging, written by the service itself in the
shape of every other log line; under anyone else's, a record like any other."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def served() -> Iterator[logs.StderrLines]:
    """``ntk serve``'s handler on the service's logger, as uvicorn_log_config sets it;
    made inside the test, where capfd holds stderr (a fixture's sys.stderr is closed by
    the time the test runs)."""
    handler = logs.StderrLines()
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("needtoknow.api")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_under_the_services_logging_a_line_is_written_as_its_record_would_be(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """Straight to stderr, not through a handler: the same keys and time format as
    JsonFormatter's lines, and the route's template, never the path."""
    caplog.set_level(logging.INFO, logger="needtoknow.api")
    with served():
        logs.access(scope(), 200, time.perf_counter())
        written = capfd.readouterr().err
        logging.getLogger("needtoknow.api").info("request")  # a record, through the handler
        formatted = json.loads(capfd.readouterr().err)
    assert written.count("\n") == 1 and written.endswith("}\n")
    line = json.loads(written)
    assert list(line)[:4] == list(formatted) == ["time", "level", "logger", "event"]
    assert {k: line[k] for k in ("level", "logger", "event")} == {
        k: formatted[k] for k in ("level", "logger", "event")
    }
    assert len(line["time"]) == len(formatted["time"]) == len("2026-12-06T12:00:00.000Z")
    assert line["route"] == ROUTE.path and "c-1" not in written
    assert (line["status"], line["key"], line["recipient"]) == (200, KEY.id, KEY.recipient)
    assert [r.getMessage() for r in caplog.records] == ["request"]  # only the record above


def test_under_an_applications_own_logging_the_line_is_a_record(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """An application embedding create_app decides where its logs go (a file, syslog):
    without the service's handler, the access line goes through logging."""
    caplog.set_level(logging.INFO, logger="needtoknow.api")
    logs.access(scope(), 200, time.perf_counter())
    assert capfd.readouterr().err == ""
    (record,) = caplog.records
    assert record.getMessage() == "request"
    assert getattr(record, "fields", {})["route"] == ROUTE.path


def test_no_line_when_the_service_logs_only_warnings(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.WARNING, logger="needtoknow.api")
    with served():
        logs.access(scope(), 200, time.perf_counter())
    assert capfd.readouterr().err == "" and not caplog.records


def test_a_process_without_stderr_writes_to_no_descriptor_that_took_its_place(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Started with stderr closed, a process's next socket or file may be given fd 2;
    the service's handler then registers nothing and lines stay records."""
    monkeypatch.setattr(sys, "stderr", None)
    handler = logs.StderrLines()
    try:
        caplog.set_level(logging.INFO, logger="needtoknow.api")
        logs.access(scope(), 200, time.perf_counter())
        assert [r.getMessage() for r in caplog.records] == ["request"]
    finally:
        handler.close()


def test_closing_an_older_handler_keeps_the_newer_ones_descriptor(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """dictConfig run again makes a new handler, then closes the old one."""
    old = logs.StderrLines()
    new = logs.StderrLines()
    old.close()
    try:
        caplog.set_level(logging.INFO, logger="needtoknow.api")
        logs.access(scope(), 200, time.perf_counter())
        assert json.loads(capfd.readouterr().err)["event"] == "request"
    finally:
        new.close()
