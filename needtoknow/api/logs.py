"""Structured logs: one JSON object per line, and one access line per request.

Nothing a customer typed reaches a log: the access line names the route *template*
(``/v1/customers/{customer_id}``), never the path or query string, and errors are logged
by class and request id, never by message or traceback.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
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
        line = _line(
            self._times.text(record.created),
            record.levelname.lower(),
            record.name,
            record.getMessage(),
            getattr(record, "fields", {}),
        )
        return orjson.dumps(line, default=str).decode()


def _line(
    moment: str, level: str, logger: str, event: str, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """Every log line's shape, a record's or an access line written directly."""
    return {"time": moment, "level": level, "logger": logger, "event": event, **fields}


# The configured StderrLines and its file descriptor, where access lines go straight to.
_stderr: tuple[StderrLines, int] | None = None


class StderrLines(logging.StreamHandler):  # type: ignore[type-arg]
    """The service's handler (:func:`uvicorn_log_config`): JSON lines on stderr. While
    one is configured, :func:`access` writes its lines to the same file descriptor
    itself; without one (an application embedding ``create_app`` under a logging setup
    of its own), access lines are records like any other, and go where it sends them."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        global _stderr
        # No stderr (a process started with it closed): nothing of ours to write to.
        with contextlib.suppress(AttributeError, OSError, ValueError):
            _stderr = (self, self.stream.fileno())

    def close(self) -> None:
        global _stderr
        if _stderr is not None and _stderr[0] is self:
            _stderr = None
        super().close()


def uvicorn_log_config(level: str = "info") -> dict[str, Any]:
    """uvicorn's own loggers and ours, all as JSON lines on stderr."""
    handler = {"class": f"{__name__}.StderrLines", "formatter": "json"}
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
    """The request's access line. Under ``ntk serve``'s logging (:class:`StderrLines`)
    it is written to stderr here, as :class:`JsonFormatter` would print its record, in
    one ``write``: one a request, through :mod:`logging` it cost 36 µs under load (a
    record, its caller's frame, a handler's lock and flush), a tenth of the request; a
    line that size is written whole (a pipe takes up to 4 KiB at once), so lines of two
    workers never interleave. Only while the ``needtoknow.api`` logger takes info."""
    if not log.isEnabledFor(logging.INFO):
        return
    state = scope.get("state", {})
    key = state.get("key")
    route = scope.get("route")
    fields = {
        "request_id": state.get("request_id"),
        "method": scope.get("method"),
        "route": getattr(route, "path", None),
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        "key": key.id if key is not None else None,
        "recipient": key.recipient if key is not None else None,
    }
    direct = _stderr
    if direct is None:
        log.info("request", extra={"fields": fields})
        return
    line = _line(_ACCESS_TIMES.text(time.time()), "info", log.name, "request", fields)
    data = orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE)
    try:
        while data:  # all at once but for a signal or a full disk
            data = data[os.write(direct[1], data) :]
    except OSError:
        pass  # stderr gone, or full and not blocking: as logging, a log never fails a request


def failure(scope: Mapping[str, Any], exc: BaseException) -> None:
    state = scope.get("state", {})
    log.error(
        "unhandled error",
        extra={"fields": {"request_id": state.get("request_id"), "error": type(exc).__name__}},
    )
