"""``ntk events``: load usage events (CSV, JSON Lines, Parquet) or generate demo ones."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from needtoknow.guards.extras import require

require("analytics")  # before pyarrow: a missing extra is named, not a traceback

# ruff: noqa: E402 - imported after the check of their extra
import pyarrow.parquet as pq
import typer

from needtoknow.analytics import EventStore, demo
from needtoknow.analytics.reports import Reports
from needtoknow.cli.common import Json, counting, reported, show
from needtoknow.config import Settings, open_vault
from needtoknow.errors import ValidationError
from needtoknow.vault import Vault

app = typer.Typer(help="Usage events for aggregate reports (no PII stored).", no_args_is_help=True)


def open_store() -> tuple[Vault, EventStore]:
    """The vault of NTK_HOME and its event store (``NTK_HOME/events``)."""
    settings = Settings.from_env()
    vault = open_vault(settings)
    return vault, EventStore.of(settings, vault)


def _store() -> EventStore:
    return open_store()[1]


def _read(path: Path) -> Iterator[dict[str, Any]]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        for batch in pq.ParquetFile(path).iter_batches():
            for row in batch.to_pylist():
                day = row.get("day")
                yield {**row, "day": day if isinstance(day, str) or day is None else str(day)}
    elif suffix in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except ValueError:
                        raise ValidationError(f"line {number}", "event", "json") from None
    elif suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as rows:
            for row in csv.DictReader(rows):
                yield {k: v for k, v in row.items() if v != ""}
    else:
        raise ValidationError(str(path), "event", "format", "CSV, JSON Lines or Parquet")


def _load(
    store: EventStore, rows: Iterator[dict[str, Any]], total: int | None, as_json: bool
) -> None:
    with counting("storing events", as_json, total) as advance:
        report = store.ingest(rows, advance)
    show(report.to_json(), as_json)


@app.command()
def load(
    path: Annotated[Path, typer.Argument(help="Events as CSV, JSON Lines or Parquet.")],
    as_json: Json = False,
) -> None:
    """Validate, pseudonymise and scrub events, then store them; prints what was
    accepted, rejected (and why) and which PII was taken out of free text (the answer
    of POST /v1/events)."""
    with reported(as_json):
        store = _store()
        _load(store, _read(path), None, as_json)


@app.command(name="demo")
def demo_events(
    count: Annotated[int, typer.Option("--events", help="How many events.")] = 100_000,
    subjects: Annotated[int, typer.Option("--subjects")] = 200_000,
    seed: Annotated[int, typer.Option("--seed")] = 2026,
    as_json: Json = False,
) -> None:
    """Generate seeded synthetic events (skewed: heavy users, popular pages) into the store."""
    with reported(as_json):
        settings = Settings.from_env()
        vault = open_vault(settings)
        consent_based = frozenset(
            name for name, p in vault.policy.purposes.items() if p.legal_basis == "consent"
        )
        store = EventStore(
            settings.events_dir, vault.keys, settings.events_memory, demo.consents(consent_based)
        )
        _load(store, demo.events(count, subjects, seed), count, as_json)


@app.command()
def export(
    destination: Annotated[Path, typer.Argument(help="Parquet file to write.")],
    recipient: Annotated[str, typer.Option(help="Who receives the raw events.")],
    purpose: Annotated[str, typer.Option(help="What for.")],
    as_json: Json = False,
) -> None:
    """Raw (pseudonymous) events, only to a recipient a ``raw`` usage_data rule of the
    policy names — never to an advertiser. Allowed or not, the attempt is ledgered."""
    with reported(as_json):
        vault, store = open_store()
        count = Reports(vault.scope, store).export(recipient, purpose, destination)
    show({"events": count, "destination": str(destination)}, as_json)
