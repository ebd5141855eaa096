"""Synthetic customers for ``ntk demo`` and the benchmarks (Faker, the ``[demo]`` extra)."""

from needtoknow.guards.extras import require

require("demo")
