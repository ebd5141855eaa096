"""Moments as text: one form for every time needtoknow prints, stores in JSON or answers
over HTTP — RFC 3339, in UTC, with a ``Z`` (``2026-12-05T11:52:57Z``).

One form, so a timestamp from the CLI, the API and the ledger sort and compare as text,
and nobody parses ``+00:00`` here and ``Z`` there. A naive time is one read back from
SQLite, which keeps every time in UTC without its zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import cache
from typing import Literal, overload

Precision = Literal["seconds", "milliseconds", "microseconds"]


@overload
def utc_text(moment: datetime, timespec: Precision = "seconds") -> str: ...
@overload
def utc_text(moment: None, timespec: Precision = "seconds") -> None: ...
def utc_text(moment: datetime | None, timespec: Precision = "seconds") -> str | None:
    """``moment`` in UTC with a Z, to the second unless asked (the ledger keeps
    microseconds); None stays None, for times that have not happened (``revoked_at``)."""
    if moment is None:
        return None
    if moment.tzinfo is UTC:  # most: its "+00:00" becomes the Z (every ledger entry's)
        return moment.isoformat(timespec=timespec)[:-6] + "Z"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec=timespec) + "Z"


@cache
def india() -> tzinfo:
    """Asia/Kolkata: the zone times are shown in to people (the customers' and the
    company's), always beside or over UTC, which is what is kept."""
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Kolkata")
