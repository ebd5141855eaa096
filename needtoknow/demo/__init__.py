"""Synthetic customers for ``ntk demo`` and the benchmarks (Faker, the ``[demo]`` extra)."""
