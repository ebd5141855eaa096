"""Reports released before, kept whole (``report_releases``): listed per recipient and
shown again as they were released — no new charge, no new noise — once their rows
match the SHA-256 their release's ledger entry holds (``ntk report show``, the
console's advertisers page)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from needtoknow.analytics.reports import Release
from needtoknow.errors import NotFound, ReleaseAltered
from needtoknow.moments import utc_text
from needtoknow.storage.database import reading, stored_utc
from needtoknow.storage.schema import report_releases

if TYPE_CHECKING:
    from needtoknow.records.scope import Scope


class Releases:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def listing(self, recipient: str) -> list[dict[str, Any]]:
        """Each release to ``recipient``, newest first: its ledger index, report, time."""
        with reading(self.scope.db) as conn:
            rows = conn.execute(
                sa.select(
                    report_releases.c.ledger_index,
                    report_releases.c.report,
                    report_releases.c.released_at,
                )
                .where(report_releases.c.recipient == recipient)
                .order_by(report_releases.c.ledger_index.desc())
            )
            return [
                {"ledger_index": r.ledger_index, "report": r.report, "released_at": _when(r)}
                for r in rows
            ]

    def get(self, ledger_index: int) -> Release:
        """The release at ``ledger_index``, checked against its ledger entry (raises
        NotFound, or ReleaseAltered when its rows were changed since)."""
        with reading(self.scope.db) as conn:
            row = conn.execute(
                sa.select(report_releases.c.document).where(
                    report_releases.c.ledger_index == ledger_index
                )
            ).first()
        if row is None:
            raise NotFound(f"no released report at ledger index {ledger_index}")
        document = orjson.loads(row.document)
        entry = orjson.loads(self.scope.ledger.prove(ledger_index).entry)
        rows = orjson.dumps(document["rows"], option=orjson.OPT_SORT_KEYS)
        if entry["detail"].get("rows_sha256") != hashlib.sha256(rows).hexdigest():
            raise ReleaseAltered(ledger_index)
        return Release.from_json(document, entry["detail"]["bounding_salt"])


def _when(row: Any) -> str | None:
    moment: datetime = stored_utc(row.released_at)
    return utc_text(moment)
