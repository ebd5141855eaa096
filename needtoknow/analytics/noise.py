"""Noise, from OpenDP's vetted samplers only.

Bounded totals are integers, so every measurement here is OpenDP's *discrete* Laplace on
64-bit integers — exact sampling, no floating-point Laplace for Mironov's attack to
exploit. Public key sets get a vector mechanism over every partition (absent ones as
zeros); private key sets get OpenDP's thresholded mechanism, which releases a partition
only if its noisy count clears a threshold chosen for δ (private partition selection).

Each :class:`Mechanism` carries its OpenDP measurement and the ``d_in`` the bounding
guarantees, so its privacy cost is OpenDP's own ``map(d_in)`` — what we charge is what
OpenDP's accountant says, not a formula of ours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

import orjson
from opendp.accuracy import discrete_laplacian_scale_to_accuracy
from opendp.domains import atom_domain, map_domain, vector_domain
from opendp.measurements import then_laplace, then_laplace_threshold
from opendp.metrics import absolute_distance, l01inf_distance, l1_distance
from opendp.mod import binary_search, enable_features
from opendp.typing import i64

# OpenDP's core modules only: ``opendp.prelude`` also imports Polars, NumPy and SciPy
# (~170 MB more per process) for APIs this module does not use.
enable_features("contrib")

_NO_THRESHOLD = 2**62


# The intervals reports carry: 95% of released values are within this of the true total.
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Mechanism:
    measurement: Any  # opendp.mod.Measurement
    d_in: Any
    scale: float
    threshold: int | None = None

    @cached_property
    def error(self) -> int:
        """The noise's bound at :data:`CONFIDENCE`, as OpenDP's own scale-to-accuracy
        gives it (whole numbers: the noise is on integers, so the floor keeps coverage).
        Worked out once: every released row carries it, and OpenDP takes ~80 µs a call
        (15,000 rows spent 1.2 s here before it was kept)."""
        return int(discrete_laplacian_scale_to_accuracy(self.scale, 1 - CONFIDENCE))

    @property
    def cost(self) -> tuple[float, float]:
        """(ε, δ) this release spends, as OpenDP maps it."""
        loss = self.measurement.map(self.d_in)
        return (float(loss[0]), float(loss[1])) if isinstance(loss, tuple) else (float(loss), 0.0)


def vector(l1: int, epsilon: float) -> Mechanism:
    """Discrete Laplace on a vector of totals whose L1 distance is at most ``l1`` when
    one subject is added or removed."""
    space = _vector_space()
    scale = _smallest_scale(
        lambda s: (space >> then_laplace(scale=s)).map(l1) <= epsilon, l1 / epsilon
    )
    return Mechanism(space >> then_laplace(scale=scale), l1, scale)


def thresholded(partitions: int, per_partition: int, epsilon: float, delta: float) -> Mechanism:
    """Discrete Laplace with a release threshold on a {partition: total} map: one subject
    touches at most ``partitions`` keys, by at most ``per_partition`` each. ε fixes the
    scale, then δ the smallest threshold (OpenDP's own maps, searched as it does)."""
    space = _map_space()
    d_in = (partitions, partitions * per_partition, per_partition)

    def make(scale: float, threshold: int) -> Any:
        return space >> then_laplace_threshold(scale=scale, threshold=threshold)

    scale = _smallest_scale(
        lambda s: make(s, _NO_THRESHOLD).map(d_in)[0] <= epsilon,
        partitions * per_partition / epsilon,
    )
    # Bounded (a threshold is at least l∞ and an i32), the search is a plain bisection:
    # ~10 ms instead of ~260 ms unbounded.
    within = (per_partition, 2**31 - 1)
    threshold = int(binary_search(lambda t: make(scale, int(t)).map(d_in)[1] <= delta, within))
    return Mechanism(make(scale, threshold), d_in, scale, threshold)


def _smallest_scale(fits: Callable[[float], bool], guess: float) -> float:
    """The scale OpenDP's own map says spends no more than ε. Laplace's ε is the L1
    sensitivity over the scale, so that quotient is tried first (one map, ~0.2 ms);
    should OpenDP's rounding refuse it, its search finds the scale (~100 maps)."""
    return guess if fits(guess) else float(binary_search(fits, T=float))


def release_vector(mechanism: Mechanism, totals: list[int]) -> list[int]:
    return [int(v) for v in mechanism.measurement(totals)]


def release_map(
    mechanism: Mechanism, totals: Mapping[tuple[str, ...], int]
) -> dict[tuple[str, ...], int]:
    # One map key per partition, as JSON: no two partitions can share one, whatever
    # their key columns hold (a separator character could be inside a value).
    joined = {orjson.dumps(key).decode(): int(total) for key, total in totals.items()}
    released = mechanism.measurement(joined)
    return {tuple(orjson.loads(key)): int(v) for key, v in released.items()}


@cache
def _vector_space() -> tuple[Any, Any]:
    return vector_domain(atom_domain(T=i64)), l1_distance(T=i64)


@cache
def _map_space() -> tuple[Any, Any]:
    return (
        map_domain(atom_domain(T=str), atom_domain(T=i64)),
        l01inf_distance(absolute_distance(T=i64)),
    )
