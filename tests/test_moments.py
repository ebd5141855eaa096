"""Moments as text: the one form, however the moment arrives."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from needtoknow.api.logs import JsonFormatter
from needtoknow.moments import Precision, utc_text

MOMENTS = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@given(MOMENTS, st.sampled_from(["seconds", "milliseconds", "microseconds"]))
def test_a_moment_reads_the_same_in_any_zone_it_arrives_in(
    moment: datetime, spec: Precision
) -> None:
    """UTC's own zone takes a shorter path; the text must not depend on which one."""
    text = utc_text(moment, spec)
    assert text.endswith("Z") and "+" not in text
    zones = (timezone(timedelta(hours=-3)), timezone(timedelta(hours=5, minutes=30)))
    for zone in (*zones, timezone(timedelta())):
        assert utc_text(moment.astimezone(zone), spec) == text
    assert utc_text(moment.replace(tzinfo=None), spec) == text


@given(
    st.floats(min_value=86_400, max_value=7_000_000_000)
    | st.integers(86_400, 7_000_000_000).map(lambda s: s - 1e-7)  # rounds up a second
)
def test_a_log_line_times_its_record_as_utc_text_does(created: float) -> None:
    """The formatter makes the text of each second once and keeps it: the line's time
    is still the record's, to the millisecond (truncated, as isoformat truncates), in
    the same second, a later one, or an earlier one (records of other threads can be
    formatted out of order)."""
    formatter = JsonFormatter()
    record = logging.LogRecord("needtoknow.api", logging.INFO, __file__, 1, "x", None, None)
    for when in (created, created - 1, created, created + 0.0004, created + 1, created):
        record.created = when
        moment = datetime.fromtimestamp(when, UTC)
        assert f'"time":"{utc_text(moment, "milliseconds")}"' in formatter.format(record)
