"""Policy versions: posted before they are implemented.

The seed: "If there are material changes to this Statement or in how NextraOne will use
your personal information, NextraOne will prominently post such changes prior to
implementing the change." So a new policy is first *proposed*: stored (immutable, named
by the SHA-256 of its canonical form), compared with the active version
(:mod:`needtoknow.policy.diff`), and its changes posted at once. A **material** change
(one that widens anything) may be activated only once the notice period
(``settings.notice_period_days``, default 30; the longer of the active and the proposed
version's) has passed since posting; a narrowing one at once. A version is activated
only while its posted changes are exactly its changes against the policy active then,
so what takes effect is what customers were told (else it must be proposed again, and
is re-posted with its changes as they are now). Proposal, activation and every refused
activation are ledger entries; the activation bumps the registry version, so every
process switches policy before its next decision.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from needtoknow.categories import Registry
from needtoknow.errors import NotFound, NoticePending, ValidationError
from needtoknow.moments import utc_text
from needtoknow.policy import Engine, Policy, load_policy_text, load_stored_policy
from needtoknow.policy.diff import Change, diff, is_material
from needtoknow.records.agreements import AgreementRegistry, bump_version
from needtoknow.records.outbox import Outbox
from needtoknow.records.scope import Scope
from needtoknow.storage import store
from needtoknow.storage.database import reading, stored_utc
from needtoknow.storage.schema import notifications, policies

if TYPE_CHECKING:
    from needtoknow.ledger import Entry


@dataclass(frozen=True)
class Version:
    version: str
    name: str
    posted_at: datetime
    effective_at: datetime | None
    activated_at: datetime | None
    retired_at: datetime | None
    active: bool
    material: bool | None
    changes: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        def when(moment: datetime | None) -> str | None:
            return utc_text(moment)

        return {
            "version": self.version,
            "name": self.name,
            "material": self.material,
            "changes": self.changes,
            "posted_at": when(self.posted_at),
            "effective_at": when(self.effective_at),
            "activated_at": when(self.activated_at),
            "retired_at": when(self.retired_at),
            "active": self.active,
        }


class PolicyVersions:
    def __init__(self, scope: Scope, agreements: AgreementRegistry) -> None:
        self.scope = scope
        self.agreements = agreements  # replaying a past version compiles them with it

    def propose(self, text: str, source: str = "<policy>") -> Version:
        """Store and post a new version (PolicyError if it does not load); returns it
        with its changes against the active version and when it may take effect.
        Proposing a posted version again returns it unchanged."""
        policy, registry = load_policy_text(text, source)
        active = self.scope.engine().policy  # as now active, in any process
        if policy.version == active.version:
            raise ValidationError("policy", "policy", "unchanged", "it is the active version")
        existing = self._row(policy.version)
        changes = diff(active, policy)
        posted = json.dumps([c.to_json() for c in changes])
        if existing is not None and existing.changes == posted:
            return _version(existing)
        material = is_material(changes)
        now = self.scope.clock()
        # The longer period applies: a proposal that shortens the period (material in
        # itself) cannot take effect sooner than the period it replaces allows.
        days = max(active.notice_period_days, policy.notice_period_days)
        effective = now + timedelta(days=days) if material else now
        values = {
            "loaded_at": now,
            "material": material,
            "changes": posted,
            "effective_at": effective,
        }
        with self.scope.db.begin() as conn:
            if existing is None:
                store_version(conn, policy, active=False, **values)
            else:  # posted against another active policy: post what it changes now
                conn.execute(
                    policies.update().where(policies.c.version == policy.version).values(**values)
                )
            self.scope.ledger.append(
                conn,
                self._entry(
                    policy.version,
                    "posted" if existing is None else "reposted",
                    against=active.version,
                    changes_sha256=hashlib.sha256(posted.encode()).hexdigest(),
                    material=material,
                    effective_at=utc_text(effective),
                    changes=len(changes),
                    widening=sum(1 for c in changes if c.widens),
                ),
            )
            if existing is not None:  # a re-post replaces what the earlier posting queued
                conn.execute(
                    notifications.delete().where(notifications.c.version == policy.version)
                )
            # In the posting's own transaction: no change is posted (and later activated)
            # without the customers it reaches queued to be told.
            _queue_notices(conn, policy, registry, changes, now)
        found = self._row(policy.version)
        assert found is not None
        return _version(found)

    def activate(self, version: str) -> Version:
        """Make a posted version the active one, or raise NoticePending (ledgered) while
        its notice period runs. ``version``: the whole id or any unique prefix of it."""
        row = self._row(version)
        if row is None:
            raise NotFound(f"no posted policy version {version!r}")
        version = row.version
        if row.active:
            return _version(row)
        now = self.scope.clock()
        effective = _aware(row.effective_at)
        previous = self.scope.engine().policy
        candidate, _ = load_stored_policy(row.source, f"policy {version[:12]}")
        # The notice customers were given describes the posted change. If the active
        # version has changed since posting, activating would make a different change
        # from the one described (re-widening what a narrowing took away, say).
        current = json.dumps([c.to_json() for c in diff(previous, candidate)])
        stale = current != row.changes
        if effective is None or now < effective or stale:
            reason = (
                "the policy active now is not the one it was posted against, so the posted "
                "notice describes another change; propose it again"
                if stale
                else ""
            )
            when = effective or now
            self.scope.ledger.record(
                self._entry(version, "activation_refused", effective_at=utc_text(when))
            )
            raise NoticePending(version, when, reason)
        with self.scope.db.begin() as conn:
            # Only if the version judged against is still the active one: two activations
            # racing cannot both pass a check made against the same predecessor.
            retired = conn.execute(
                policies.update()
                .where(policies.c.active.is_(True), policies.c.version == previous.version)
                .values(active=False, retired_at=now)
            ).rowcount
            if retired != 1:
                raise NoticePending(
                    version, now, "another version was activated meanwhile; propose it again"
                )
            conn.execute(
                policies.update()
                .where(policies.c.version == version)
                .values(active=True, activated_at=now)
            )
            bump_version(conn)
            self.scope.ledger.append(
                conn, self._entry(version, "activated", previous=previous.version)
            )
        self.scope.engine()
        found = self._row(version)
        assert found is not None
        return _version(found)

    def get(self, version: str) -> tuple[Version, Policy, Registry]:
        """A posted version (or a unique prefix of it), its policy and the category
        registry it extends."""
        row = self._row(version)
        if row is None:
            raise NotFound(f"no posted policy version {version!r}")
        version = row.version
        policy, registry = load_stored_policy(row.source, f"policy {version[:12]}")
        return _version(row), policy, registry

    def history(self) -> list[Version]:
        with reading(self.scope.db) as conn:
            rows = conn.execute(sa.select(policies).order_by(policies.c.loaded_at))
            return [_version(row) for row in rows]

    def at(self, moment: datetime) -> Policy:
        """The version that was active at ``moment``."""
        moment = moment.astimezone(UTC)
        with reading(self.scope.db) as conn:
            row = conn.execute(
                sa.select(policies.c.version, policies.c.source)
                .where(
                    policies.c.activated_at <= moment,
                    sa.or_(policies.c.retired_at.is_(None), policies.c.retired_at > moment),
                )
                .order_by(policies.c.activated_at.desc())
                .limit(1)
            ).first()
        if row is None:
            raise NotFound(f"no policy was active at {utc_text(moment)}")
        return load_stored_policy(row.source, f"policy {row.version[:12]}")[0]

    def engine_at(self, moment: datetime) -> Engine:
        """The engine of the version active at ``moment``, with today's agreements (the
        agreement registry keeps no history of its own)."""
        return Engine(self.at(moment), self.agreements.current())

    def _row(self, version: str) -> Any:
        with reading(self.scope.db) as conn:
            full = resolve(conn, version)
            return conn.execute(sa.select(policies).where(policies.c.version == full)).first()

    def _entry(self, version: str, change: str, **detail: Any) -> Entry:
        return self.scope.entry(
            "policy_change", policy_version=version, detail={"change": change, **detail}
        )


def store_version(conn: sa.Connection, policy: Policy, **values: Any) -> None:
    """The one place a policy version's row is written (the first, at ``init``, too)."""
    conn.execute(
        policies.insert().values(
            version=policy.version, name=policy.name, source=policy.source, **values
        )
    )


def _queue_notices(
    conn: sa.Connection,
    policy: Policy,
    registry: Registry,
    changes: Sequence[Change],
    now: datetime,
) -> None:
    """Queue, for the outbox to send, every live customer a widening change reaches:
    whoever holds a category it names (or a purpose's, for a longer retention); a new
    collection, or a category this registry does not know, reaches everyone."""
    widening = [c.to_json() for c in changes if c.widens]
    if not widening:
        return
    named: set[str | None] = set()
    for change in widening:
        if change["kind"] == "collection_added":
            named.add(None)  # reaches everyone: each may be asked for it
        elif change["kind"] == "retention_extended":  # whoever holds what it keeps
            named |= policy.purposes[change["purpose"]].collects
        else:
            named.add(change.get("category"))
    everyone = None in named or not named <= set(registry)
    reached = (
        customer_id for customer_id, held in store.live_categories(conn) if everyone or named & held
    )
    Outbox.queue(conn, policy.version, reached, now)


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else stored_utc(moment)


def _version(row: Any) -> Version:
    return Version(
        version=row.version,
        name=row.name,
        posted_at=stored_utc(row.loaded_at),
        effective_at=_aware(row.effective_at),
        activated_at=_aware(row.activated_at),
        retired_at=_aware(row.retired_at),
        active=bool(row.active),
        material=row.material,
        changes=json.loads(row.changes) if row.changes else [],
    )


_HEX = re.compile(r"[0-9a-f]{4,64}")


def resolve(conn: sa.Connection, version: str) -> str:
    """The policy version ``version`` names: itself, or the one version it is a prefix of
    (at least four hex digits, as git takes a commit). An ambiguous prefix is refused
    naming the candidates; an unknown one is returned as given (the caller finds none)."""
    if len(version) == 64 or not _HEX.fullmatch(version):
        return version
    found: Sequence[str] = (
        conn.execute(
            sa.select(policies.c.version).where(policies.c.version.startswith(version)).limit(5)
        )
        .scalars()
        .all()
    )
    if len(found) > 1:
        shown = ", ".join(v[:12] for v in found)
        raise ValidationError("version", "policy", "ambiguous_prefix", f"matches {shown}")
    return str(found[0]) if found else version
