"""A vault's health: what an operator must fix before trusting it (``ntk doctor``)."""

from needtoknow.health.checks import Check, diagnose

__all__ = ["Check", "diagnose"]
