"""Usage events without PII, for aggregate reports to advertisers (see docs/architecture.md)."""

from needtoknow.analytics.events import KINDS, IngestReport
from needtoknow.analytics.store import EventStore

__all__ = ["KINDS", "EventStore", "IngestReport"]
