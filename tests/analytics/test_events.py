"""Usage events: pseudonymous, scrubbed of PII on the way in, bad ones counted and left out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from needtoknow.analytics import EventStore
from needtoknow.analytics.events import subject_key
from needtoknow.config import Settings, init_vault

NTK = str(Path(sys.executable).with_name("ntk"))


def store(tmp_path: Path, name: str = "a") -> EventStore:
    vault = init_vault(
        Settings(home=tmp_path / name, database_url=f"sqlite:///{tmp_path}/{name}.db")
    )
    return EventStore(tmp_path / name / "events", vault.keys)


def test_subjects_are_pseudonyms_that_change_each_month_and_each_deployment(
    tmp_path: Path,
) -> None:
    a, b = store(tmp_path, "a"), store(tmp_path, "b")
    a.ingest(
        [
            {"kind": "page_view", "day": "2026-11-02", "customer_id": "c-1", "page": "/"},
            {"kind": "page_view", "day": "2026-11-30", "customer_id": "c-1", "page": "/"},
            {"kind": "page_view", "day": "2026-12-01", "customer_id": "c-1", "page": "/"},
        ]
    )
    subjects = [row[0] for row in a.query("SELECT subject FROM events ORDER BY day")]
    assert subjects[0] == subjects[1] != subjects[2]
    assert "c-1" not in "".join(subjects)
    keys_b = b._normalise._keys
    assert subject_key(keys_b, "c-1", date(2026, 11, 2)) != subjects[0]


def test_pii_in_free_text_is_taken_out_and_counted(tmp_path: Path) -> None:
    events = store(tmp_path)
    report = events.ingest(
        [
            {
                "kind": "search",
                "day": "2026-11-02",
                "customer_id": "c-1",
                "search": "reset password asha@example.in",
            },
            {
                "kind": "search",
                "day": "2026-11-02",
                "customer_id": "c-2",
                "search": "call 9876543210 please",
            },
            {"kind": "search", "day": "2026-11-02", "customer_id": "c-3", "search": "vps"},
        ]
    )
    assert report.to_json()["redacted"] == {"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}
    stored = sorted(row[0] for row in events.query("SELECT search FROM events"))
    assert stored == ["call <TELEPHONE> please", "reset password <EMAIL>", "vps"]
    raw = b"".join(p.read_bytes() for p in events.files())
    assert b"asha@example.in" not in raw and b"9876543210" not in raw


def test_bad_events_are_counted_by_rule_and_left_out(tmp_path: Path) -> None:
    events = store(tmp_path)
    report = events.ingest(
        [
            {"kind": "purchase", "day": "2026-11-02", "customer_id": "c"},
            {"kind": "page_view", "day": "yesterday", "customer_id": "c", "page": "/"},
            {"kind": "page_view", "day": "2026-11-02", "customer_id": "c"},
            {
                "kind": "page_view",
                "day": "2026-11-02",
                "customer_id": "c",
                "page": "/",
                "email": "x@y.in",
            },
            {"kind": "ad_click", "day": "2026-11-02", "customer_id": "c", "ad": "ad-1"},
        ]
    )
    assert (report.accepted, report.rejected) == (1, 4)
    assert dict(report.reasons) == {"kind": 1, "iso_date": 1, "required": 1, "unknown_field": 1}
    assert events.query("SELECT count(*) FROM events") == [(1,)]


def test_an_empty_store_still_answers_queries(tmp_path: Path) -> None:
    assert store(tmp_path).query("SELECT count(*) FROM events") == [(0,)]


def test_a_process_that_only_reads_events_never_imports_pyarrow(tmp_path: Path) -> None:
    """PyArrow is 35 MB of memory, needed only to write Parquet: a report process (and
    a server that runs reports) reads the files through DuckDB alone."""
    store(tmp_path).ingest(
        [{"kind": "page_view", "day": "2026-11-02", "customer_id": "c-1", "page": "/plans"}]
    )
    files = [str(f) for f in (tmp_path / "a" / "events").glob("*.parquet")]
    code = (
        "import sys; from needtoknow.analytics import EventStore; "
        "from needtoknow.analytics.reports import Reports; "
        "from needtoknow.analytics.store import events_view; import duckdb; "
        f"db = duckdb.connect(); events_view(db, {files!r}); "
        "assert db.execute('SELECT count(*) FROM events').fetchone() == (1,); "
        "print('pyarrow' in sys.modules)"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "False"


def test_ntk_events_load_reads_csv_json_lines_and_parquet(tmp_path: Path) -> None:
    env = {**os.environ, "NTK_HOME": str(tmp_path / "home"), "NTK_DATABASE_URL": ""}
    subprocess.run([NTK, "init"], env=env, check=True, capture_output=True)
    (tmp_path / "e.csv").write_text("kind,day,customer_id,page\npage_view,2026-11-02,c-1,/\n")
    (tmp_path / "e.jsonl").write_text(
        json.dumps({"kind": "search", "day": "2026-11-02", "customer_id": "c", "search": "x"})
        + "\n"
    )
    pq.write_table(
        pa.Table.from_pylist(
            [{"kind": "plan_subscribed", "day": "2026-11-03", "customer_id": "c", "plan": "pro"}]
        ),
        tmp_path / "e.parquet",
    )
    for name in ("e.csv", "e.jsonl", "e.parquet"):
        result = subprocess.run(
            [NTK, "events", "load", str(tmp_path / name), "--json"],
            env=env,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["accepted"] == 1
    demo = subprocess.run(
        [NTK, "events", "demo", "--events", "500", "--json"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert json.loads(demo.stdout)["accepted"] == 500


def test_events_fuzzing_findings_are_counted_not_crashed(tmp_path: Path) -> None:
    """Issue 15 (fuzzing) found these raising out of ingest (a 500 over HTTP): a lone
    surrogate (JSON's "\\ud800") in an id or a dimension, a digit int() cannot read."""
    events = store(tmp_path)
    good = {"kind": "page_view", "day": "2026-11-02", "customer_id": "c", "page": "/"}
    report = events.ingest(
        [
            {**good, "customer_id": "c\ud800"},
            {**good, "page": "/a\udfff"},
            {**good, "value": "²"},
            good,
        ]
    )
    assert (report.accepted, report.rejected) == (1, 3)
    assert dict(report.reasons) == {"customer_id": 1, "not_unicode": 1, "value": 1}
