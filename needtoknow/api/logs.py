"""Structured logs: one JSON object per line, and one access line per request.

Nothing a customer typed reaches a log: the access line names the route *template*
(``/v1/customers/{customer_id}``), never the path or query string, and errors are logged
by class and request id, never by message or traceback.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from needtoknow.moments import utc_text

log = logging.getLogger("needtoknow.api")


class Milliseconds:
    """Times as :func:`utc_text` to the millisecond, the text of each second made once
    (lines come hundreds a second)."""

    def __init__(self) -> None:
        self._made = (-1.0, "")  # a second, and its text up to the dot: one attribute,
        # so a thread never reads one second with another's text

    def text(self, created: float) -> str:
        second, fraction = divmod(created, 1)
        micro = round(fraction * 1e6)  # as datetime.fromtimestamp rounds
        if micro >= 1_000_000:
            second, micro = second + 1, micro - 1_000_000
        made, prefix = self._made
        if second != made:
            prefix = utc_text(datetime.fromtimestamp(second, UTC))[:-1]
            self._made = (second, prefix)
        return f"{prefix}.{micro // 1000:03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object a line. orjson, not json: it was a fifth of a line's cost."""

    def __init__(self) -> None:
        super().__init__()
        self._times = Milliseconds()

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self._times.text(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        return orjson.dumps(line, default=str).decode()


def uvicorn_log_config(level: str = "info") -> dict[str, Any]:
    """uvicorn's own loggers and ours, all as JSON lines on stderr."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": handler},
        "loggers": {
            name: {"handlers": ["stderr"], "level": level.upper(), "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "needtoknow")
        },
    }


_ACCESS_TIMES = Milliseconds()


def access(scope: Mapping[str, Any], status: int, started: float) -> None:
    """The request's access line, as :class:`JsonFormatter` would print a record of it,
    written to stderr (where ``ntk serve`` sends every log) in one ``write``: one a
    request, through :mod:`logging` it cost 36 µs under load (a record, its caller's
    frame, a handler's lock and flush), a tenth of the request. Only when the
    ``needtoknow.api`` logger takes info lines; a line that large is written whole
    (pipes: up to 4 KiB), so lines of two workers never interleave."""
    if not log.isEnabledFor(logging.INFO):
        return
    state = scope.get("state", {})
    key = state.get("key")
    route = scope.get("route")
    line = {
        "time": _ACCESS_TIMES.text(time.time()),
        "level": "info",
        "logger": log.name,
        "event": "request",
        "request_id": state.get("request_id"),
        "method": scope.get("method"),
        "route": getattr(route, "path", None),
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        "key": key.id if key is not None else None,
        "recipient": key.recipient if key is not None else None,
    }
    try:  # noqa: SIM105 - contextlib.suppress costs more than the write
        os.write(2, orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE))
    except OSError:
        pass  # stderr is gone: there is nowhere left to say so


def failure(scope: Mapping[str, Any], exc: BaseException) -> None:
    state = scope.get("state", {})
    log.error(
        "unhandled error",
        extra={"fields": {"request_id": state.get("request_id"), "error": type(exc).__name__}},
    )
