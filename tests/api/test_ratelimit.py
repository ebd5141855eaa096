"""The moving window behind per-key and refusal limits (api/ratelimit.py)."""

from __future__ import annotations

import threading

import pytest
from limits import parse

from needtoknow.api import ratelimit
from needtoknow.api.ratelimit import MovingWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_admits_the_limit_in_any_window_then_says_when_one_frees(clock: Clock) -> None:
    window = MovingWindow(parse("3/minute"), clock)
    assert [window.hit("k"), window.hit("k")] == [None, None]
    clock.now += 30
    assert window.hit("k") is None
    clock.now += 29
    assert window.wait("k") == pytest.approx(1.0)  # the first two leave at +60
    assert window.hit("k") == pytest.approx(1.0)  # refused, and not counted
    clock.now += 1
    assert window.hit("k") is None and window.hit("k") is None  # both of +0 left
    assert window.hit("k") == pytest.approx(30.0)  # the one of +30 leaves at +90
    assert window.hit("other") is None  # buckets are apart


def test_wait_counts_nothing(clock: Clock) -> None:
    window = MovingWindow(parse("1/second"), clock)
    assert [window.wait("k") for _ in range(5)] == [None] * 5
    assert window.hit("k") is None
    assert window.wait("k") == pytest.approx(1.0)


def test_quiet_buckets_are_forgotten(clock: Clock) -> None:
    """One bucket per client address: without a sweep, every address ever seen stays."""
    window = MovingWindow(parse("10/second"), clock)
    for n in range(ratelimit.SWEEP_EVERY - 1):
        window.hit(f"address {n}")
    clock.now += 1
    window.hit("now")  # the sweep: everything but this is out of the window
    assert len(window._buckets) == 1
    assert window.hit("address 0") is None


def test_no_thread_is_started(clock: Clock) -> None:
    """limits' MemoryStorage restarted a timer thread every 10 ms while it held events."""
    before = threading.active_count()
    window = MovingWindow(parse("1000/second"), clock)
    for n in range(2000):
        window.hit(f"k{n % 3}")
    assert threading.active_count() == before


def test_asking_keeps_nothing_for_an_unseen_bucket(clock: Clock) -> None:
    """Review, session 19: wait() (asked before every console sign-in) kept an empty
    bucket per client address, and only admissions swept them."""
    window = MovingWindow(parse("10/minute"), clock)
    for n in range(10_000):
        assert window.wait(f"address {n}") is None
    assert not window._buckets


def test_a_refusal_is_a_refusal_even_when_the_window_frees_at_that_instant(clock: Clock) -> None:
    """A refused request's wait may round to 0.0: refused all the same, never admitted
    uncounted (0.0 once meant "admitted")."""
    window = MovingWindow(parse("1/second"), clock)
    assert window.hit("k") is None
    clock.now += 1 - 1e-12
    assert window.hit("k") is not None
