"""What a new policy version changes, in the policy's own terms — and whether it widens.

The seed promises that material changes "in how NextraOne will use your personal
information" are posted before they are implemented. A change is **material** when it
lets anyone have more: a new recipient or purpose, a category collected or granted where
it was not, data kept longer, a transform that reveals more (``last4`` → ``full``; a
change between transforms that reveal different things, such as ``last4`` → ``token``,
counts too), an obligation dropped, a different legal basis, raw or more private usage
data (a larger budget), full card numbers kept, a new description of a purpose that
collects or shares data, or a shorter notice period. Everything else narrows or is
neutral and may apply at once (it is still posted: a new grievance contact, say).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from needtoknow.policy.engine import Engine
from needtoknow.policy.model import COVERS, Policy


@dataclass(frozen=True)
class Change:
    kind: str  # e.g. "grant_added", "transform_widened", "purpose_removed"
    widens: bool
    recipient: str | None = None
    purpose: str | None = None
    category: str | None = None
    before: Any = None
    after: Any = None

    def to_json(self) -> dict[str, Any]:
        data = {"kind": self.kind, "widens": self.widens}
        for name in ("recipient", "purpose", "category", "before", "after"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data


def diff(old: Policy, new: Policy) -> list[Change]:
    """Every change from ``old`` to ``new``, widening ones first."""
    changes = [
        *_named(old.recipients, new.recipients, "recipient", lambda r: r.kind),
        *_named(old.purposes, new.purposes, "purpose", lambda p: p.legal_basis),
        *_collection(old, new),
        *_retention(old, new),
        *_grants(old, new),
        *_usage(old, new),
        *_descriptions(old, new),
        *_settings(old, new),
        *_trackers(old, new),
        *_parties(
            old.consent_managers,
            new.consent_managers,
            "consent_manager",
            lambda m: (m.public_key, m.registration),
        ),
        *_parties(old.age_verifiers, new.age_verifiers, "age_verifier", lambda v: v.public_key),
        *_tracking(old, new),
        *_written_consent(old, new),
    ]
    if new.store_full_card_numbers and not old.store_full_card_numbers:
        changes.append(Change("full_card_numbers_kept", True, category="card_number"))
    elif old.store_full_card_numbers and not new.store_full_card_numbers:
        changes.append(Change("full_card_numbers_dropped", False, category="card_number"))
    return sorted(changes, key=lambda c: not c.widens)


def is_material(changes: list[Change]) -> bool:
    return any(c.widens for c in changes)


def _named(old: Any, new: Any, what: str, attribute: Any) -> list[Change]:
    """Recipients or purposes added, removed, or with a different kind / legal basis."""
    changes = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            changes.append(
                Change(f"{what}_added", True, **{what: name}, after=attribute(new[name]))
            )
        elif name not in new:
            changes.append(Change(f"{what}_removed", False, **{what: name}))
        elif attribute(old[name]) != attribute(new[name]):
            label = "kind" if what == "recipient" else "legal_basis"
            changes.append(
                Change(
                    f"{label}_changed",
                    True,
                    **{what: name},
                    before=attribute(old[name]),
                    after=attribute(new[name]),
                )
            )
    return changes


def _collection(old: Policy, new: Policy) -> list[Change]:
    """Categories a purpose collects that it did not (widens), or no longer (narrows)."""
    changes = []
    for purpose in sorted(set(old.purposes) | set(new.purposes)):
        was = old.purposes[purpose].collects if purpose in old.purposes else frozenset()
        now = new.purposes[purpose].collects if purpose in new.purposes else frozenset()
        for category in sorted(now - was):
            changes.append(Change("collection_added", True, purpose=purpose, category=category))
        for category in sorted(was - now):
            changes.append(Change("collection_removed", False, purpose=purpose, category=category))
    return changes


def _retention(old: Policy, new: Policy) -> list[Change]:
    """A purpose that keeps data longer (or no longer says how long) widens."""
    changes = []
    for purpose in sorted(set(old.purposes) & set(new.purposes)):
        was, now = old.purposes[purpose].retention, new.purposes[purpose].retention
        if was == now or (was and now and not was.exceeds(now) and not now.exceeds(was)):
            continue
        longer = now is None or (was is not None and now.exceeds(was))
        kind = "retention_extended" if longer else "retention_shortened"
        before, after = (str(r) if r else "unstated" for r in (was, now))
        changes.append(Change(kind, longer, purpose=purpose, before=before, after=after))
    return changes


def _grants(old: Policy, new: Policy) -> list[Change]:
    before, after = Engine(old, ()).served(), Engine(new, ()).served()
    changes = []
    for recipient, purpose in sorted(set(before) | set(after)):
        was, was_duties = before.get((recipient, purpose), ({}, frozenset()))
        now, duties = after.get((recipient, purpose), ({}, frozenset()))
        where = {"recipient": recipient, "purpose": purpose}
        for category in sorted(set(was) | set(now)):
            t_old, t_new = was.get(category), now.get(category)
            if t_old == t_new:
                continue
            if t_old is None:
                changes.append(Change("grant_added", True, **where, category=category, after=t_new))
            elif t_new is None:
                changes.append(
                    Change("grant_removed", False, **where, category=category, before=t_old)
                )
            else:
                narrower = t_new in COVERS[t_old]  # the old transform revealed all of it
                kind = "transform_narrowed" if narrower else "transform_widened"
                changes.append(
                    Change(
                        kind, not narrower, **where, category=category, before=t_old, after=t_new
                    )
                )
        for duty in sorted(was_duties - duties):
            changes.append(Change("obligation_dropped", True, **where, before=duty))
        for duty in sorted(duties - was_duties):
            changes.append(Change("obligation_added", False, **where, after=duty))
    return changes


def _usage(old: Policy, new: Policy) -> list[Change]:
    """Usage-data rules per (recipient, purpose): raw beats aggregate; a larger budget
    releases more."""

    def table(policy: Policy) -> dict[tuple[str, str], tuple[str, float, float]]:
        return {
            (r, p): (rule.form, rule.epsilon, rule.delta)
            for rule in policy.usage
            for r in rule.recipients
            for p in rule.purposes
        }

    was, now = table(old), table(new)
    changes = []
    for recipient, purpose in sorted(set(was) | set(now)):
        before, after = was.get((recipient, purpose)), now.get((recipient, purpose))
        if before == after:
            continue
        where = {"recipient": recipient, "purpose": purpose, "category": "usage_events"}
        if before is None or after is None:
            kind = "usage_added" if before is None else "usage_removed"
            changes.append(Change(kind, before is None, **where, before=before, after=after))
            continue
        widens = (before[0], after[0]) == ("aggregate", "raw") or (
            after[0] == "aggregate" and (after[1] > before[1] or after[2] > before[2])
        )
        changes.append(
            Change("usage_changed", widens, **where, before=list(before), after=list(after))
        )
    return changes


def _descriptions(old: Policy, new: Policy) -> list[Change]:
    """A purpose described differently is a change customers are told of: what a
    purpose is *for* is the promise ("service improvement" → "train models licensed to
    partners"). Material when the purpose collects data, or anyone is granted data or
    usage data for it, in either version; a description of a purpose that touches no
    data narrows nothing and widens nothing."""
    shared = {
        purpose
        for policy in (old, new)
        for purpose in (
            *(p for (_, p) in Engine(policy, ()).served()),
            *(p for rule in policy.usage for p in rule.purposes),
        )
    }
    changes = []
    for purpose in sorted(set(old.purposes) & set(new.purposes)):
        was, now = old.purposes[purpose], new.purposes[purpose]
        if (was.description, dict(was.translations)) == (now.description, dict(now.translations)):
            continue
        uses_data = bool(was.collects or now.collects) or purpose in shared
        changes.append(
            Change(
                "description_changed",
                uses_data,
                purpose=purpose,
                before=was.description,
                after=now.description,
            )
        )
    return changes


def _settings(old: Policy, new: Policy) -> list[Change]:
    """A shorter notice period lets the *next* widening take effect sooner, so it is
    material itself; a longer one narrows. A new grievance contact is posted, not
    material (it changes who hears complaints, not what anyone gets)."""
    changes = []
    if new.notice_period_days != old.notice_period_days:
        shorter = new.notice_period_days < old.notice_period_days
        changes.append(
            Change(
                "notice_period_shortened" if shorter else "notice_period_lengthened",
                shorter,
                before=old.notice_period_days,
                after=new.notice_period_days,
            )
        )
    if new.grievance_contact != old.grievance_contact:
        changes.append(
            Change(
                "grievance_contact_changed",
                False,
                before=old.grievance_contact,
                after=new.grievance_contact,
            )
        )
    return changes


def _trackers(old: Policy, new: Policy) -> list[Change]:
    """A tracker added, serving another purpose, or passing from the company to a third
    party widens; one taken away, or a change of its kind only (a cookie become local
    storage) or back to the company, does not."""
    changes = []
    for name in sorted(set(old.trackers) | set(new.trackers)):
        before, after = old.trackers.get(name), new.trackers.get(name)
        if before == after:
            continue
        either = after or before
        assert either is not None
        purpose = either.purpose
        shown = None if after is None else f"{name} ({after.party} party {after.kind})"
        if after is None:
            changes.append(Change("tracker_removed", False, purpose=purpose, before=name))
        elif before is None:
            changes.append(Change("tracker_added", True, purpose=purpose, after=shown))
        else:
            widens = after.purpose != before.purpose or (before.party, after.party) == (
                "first",
                "third",
            )
            changes.append(Change("tracker_changed", widens, purpose=purpose, after=shown))
    return changes


def _written_consent(old: Policy, new: Policy) -> list[Change]:
    """Asking for consent in writing for fewer categories, or for less long, widens
    (less is asked before collecting); for more narrows."""
    before, after = old.written_consent, new.written_consent
    if before == after:
        return []
    dropped = (before.categories if before else frozenset()) - (
        after.categories if after else frozenset()
    )
    shorter = before is not None and after is not None and after.until < before.until
    widens = bool(dropped) or shorter or (before is not None and after is None)
    shown = None if after is None else f"{sorted(after.categories)} until {after.until}"
    return [Change("written_consent_changed", widens, before=sorted(dropped) or None, after=shown)]


def _tracking(old: Policy, new: Policy) -> list[Change]:
    """A purpose no longer marked as tracking may now be served for children: widens."""
    changes = []
    for name in sorted(set(old.purposes) & set(new.purposes)):
        before, after = old.purposes[name].tracking, new.purposes[name].tracking
        if before != after:
            kind = "tracking_unmarked" if before else "tracking_marked"
            changes.append(Change(kind, before, purpose=name))
    return changes


def _parties(
    before_all: Mapping[str, Any],
    after_all: Mapping[str, Any],
    noun: str,
    trusted: Callable[[Any], object],
) -> list[Change]:
    """Parties the company takes signed word from — consent managers (consents in
    people's names), age verifiers (a child's record let in): one registered, or another
    ``trusted`` part for one (its key, its registration), widens; one removed narrows; a
    new description alone changes nothing anyone may have."""
    changes = []
    for name in sorted(set(before_all) | set(after_all)):
        before, after = before_all.get(name), after_all.get(name)
        if before == after:
            continue
        if after is None:
            changes.append(Change(f"{noun}_removed", False, before=name))
        elif before is None:
            changes.append(Change(f"{noun}_added", True, after=name))
        else:
            changes.append(Change(f"{noun}_changed", trusted(before) != trusted(after), after=name))
    return changes
