"""Find PII in text, files and datasets, and take it out (see docs/detect.md)."""

from needtoknow.guards.extras import require

require("detect")

# ruff: noqa: E402 - imported after the check of their extra
from needtoknow.detect.entities import ENTITIES, Entity
from needtoknow.detect.scanner import Finding, Scanner

__all__ = ["ENTITIES", "Entity", "Finding", "Scanner"]
