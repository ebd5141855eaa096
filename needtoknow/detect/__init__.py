"""Find PII in text, files and datasets, and take it out (see docs/detect.md)."""

from needtoknow.detect.entities import ENTITIES, Entity
from needtoknow.detect.scanner import Finding, Scanner

__all__ = ["ENTITIES", "Entity", "Finding", "Scanner"]
