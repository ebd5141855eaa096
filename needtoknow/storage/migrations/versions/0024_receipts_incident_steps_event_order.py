"""The ledger's receipts index (who received which customer's data, when), derived from
the sealed entries now and at every seal from here on; an incident's steps, kept in
order; what each affected person has been told; and what each consent manager's event
was about and when it was issued (so events arriving out of order are not applied).

Revision ID: 0024
Revises: 0023
"""

import hashlib
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

BATCH = 20_000


def upgrade() -> None:
    receipts = op.create_table(
        "ledger_receipts",
        sa.Column("party", sa.String(300), primary_key=True),
        sa.Column("at", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("categories", sa.Text, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_ledger_receipts_idx", "ledger_receipts", ["idx"])
    _backfill(receipts)
    op.create_table(
        "incident_steps",
        sa.Column("incident_id", sa.String(36), primary_key=True),
        sa.Column("step", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("event", sa.String(30), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    with op.batch_alter_table("incident_customers") as batch:
        batch.add_column(sa.Column("told", sa.Text, nullable=True))
    with op.batch_alter_table("consent_manager_events") as batch:
        batch.add_column(sa.Column("customer_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("purpose", sa.String(100), nullable=True))
        batch.add_column(sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True))
    # the words of each notice now live on its step; notices queued under the old key
    # (incident:<id>) are still sent with the words last written there
    _words_to_steps()
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("notice")


def _words_to_steps() -> None:
    """Carry each incident's notice words (0022) to a 'notified' step numbered 0, and
    mark its queued people as told of what the scope held then."""
    conn = op.get_bind()
    incidents = sa.table(
        "incidents",
        sa.column("id"),
        sa.column("notice"),
        sa.column("opened_by"),
        sa.column("opened_at"),
    )
    steps = sa.table(
        "incident_steps",
        sa.column("incident_id"),
        sa.column("step"),
        sa.column("event"),
        sa.column("at"),
        sa.column("actor"),
        sa.column("detail"),
    )
    customers = sa.table(
        "incident_customers",
        sa.column("incident_id"),
        sa.column("customer_id"),
        sa.column("categories"),
        sa.column("told"),
    )
    notifications = sa.table("notifications", sa.column("version"), sa.column("customer_id"))
    for row in conn.execute(sa.select(incidents).where(incidents.c.notice.is_not(None))).all():
        words = json.loads(row.notice)
        text = json.dumps(words, ensure_ascii=False, sort_keys=True)
        detail = {"number": 0, "sha256": hashlib.sha256(text.encode()).hexdigest(), "words": words}
        conn.execute(
            steps.insert().values(
                incident_id=row.id,
                step=0,
                event="notified",
                at=row.opened_at,
                actor=row.opened_by,
                detail=json.dumps(detail, ensure_ascii=False),
            )
        )
        old = f"incident:{row.id}"
        conn.execute(
            notifications.update().where(notifications.c.version == old).values(version=f"{old}:0")
        )
        told = sa.select(notifications.c.customer_id).where(notifications.c.version == f"{old}:0")
        conn.execute(
            customers.update()
            .where(customers.c.incident_id == row.id, customers.c.customer_id.in_(told))
            .values(told=customers.c.categories)
        )


def _receipts_of(data: bytes) -> list[dict[str, object]]:
    """What ledger.entry.receipts_of derived when this revision was written, frozen here
    (a migration never changes with the code; verification checks the two agree)."""
    try:
        entry = json.loads(data.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError included: an entry is UTF-8 or nothing
        return []
    if not isinstance(entry, dict) or entry.get("kind") not in ("read", "find"):
        return []
    customer, moment = entry.get("customer_id"), entry.get("time")
    if entry.get("decision") != "allow" or not isinstance(customer, str):
        return []
    if not isinstance(moment, str):
        return []
    try:
        at = datetime.fromisoformat(moment)
    except ValueError:
        return []
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    delta = at - datetime(1970, 1, 1, tzinfo=UTC)
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    listed = entry.get("categories")
    names = sorted(c for c in listed if isinstance(c, str)) if isinstance(listed, list) else []
    return [
        {
            "party": f"{role}:{entry[role]}",
            "at": micros,
            "customer_id": customer,
            "categories": ",".join(names),
        }
        for role in ("actor", "recipient")
        if isinstance(entry.get(role), str)
    ]


def _backfill(receipts: sa.Table) -> None:
    """Index every sealed entry (what is appended later is indexed at its seal), a
    window of indexes at a time."""
    conn = op.get_bind()
    entries = sa.table("ledger_entries", sa.column("idx"), sa.column("entry"))
    state = sa.table("ledger_state", sa.column("sealed"))
    sealed = conn.execute(sa.select(state.c.sealed)).scalar() or 0
    for low in range(0, int(sealed), BATCH):
        high = min(low + BATCH, int(sealed))
        rows = [
            {**receipt, "idx": int(row[0])}
            for row in conn.execute(
                sa.select(entries.c.idx, entries.c.entry).where(
                    entries.c.idx >= low, entries.c.idx < high
                )
            )
            for receipt in _receipts_of(bytes(row[1]))
        ]
        if rows:
            conn.execute(receipts.insert(), rows)


def downgrade() -> None:
    with op.batch_alter_table("consent_manager_events") as batch:
        batch.drop_column("issued_at")
        batch.drop_column("purpose")
        batch.drop_column("customer_id")
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("notice", sa.Text, nullable=True))
    with op.batch_alter_table("incident_customers") as batch:
        batch.drop_column("told")
    op.drop_table("incident_steps")
    op.drop_table("ledger_receipts")
