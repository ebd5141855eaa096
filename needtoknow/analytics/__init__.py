"""Usage events without PII, for aggregate reports to advertisers (see docs/architecture.md)."""

from needtoknow.guards.extras import require

require("analytics")

# ruff: noqa: E402 - imported after the check of their extra
from needtoknow.analytics.events import KINDS, IngestReport
from needtoknow.analytics.store import EventStore

__all__ = ["KINDS", "EventStore", "IngestReport"]
