"""What becomes of each category of a customer, and when: kept, held, or erased.

Pure: the account's state, the policy and the legal holds in, one :class:`Fate` per
category out, so a dry run, a retention run and an erasure request decide alike.

- A category is *kept* while any purpose that collects it still serves: until the
  longest of their ``retention:`` periods after the account closes (an open account
  keeps everything), and at least a year after the account was last processed (DPDP
  Rules 2025 r.8(3)). A purpose stating no retention keeps it until one is stated.
  An erasure request ends the purposes at once.
- Past that, it is *held* while a statutory hold of the policy (a law: CERT-In's five
  years for VPS subscribers, tax law's eight for invoices) or a legal hold placed by
  hand covers it: kept, and readable only for the holds' purposes.
- Otherwise it is *erased*: crypto-shredded.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

from needtoknow.policy.model import Policy, Retention

# DPDP Rules 2025 r.8(3): personal data, traffic data and logs of processing are kept at
# least a year from the processing.
MINIMUM = Retention(1, "year")


@dataclass(frozen=True)
class Account:
    """What the plan needs to know of a customer; nothing of its values."""

    customer_id: str
    categories: frozenset[str]
    closed_at: datetime | None
    last_processed: datetime  # the last write; the closure, if later
    services: frozenset[str] = frozenset()
    erasing: bool = False  # the customer asked for erasure: no purpose keeps anything


@dataclass(frozen=True)
class LegalHold:
    """A hold placed by hand (``ntk hold place``) on some categories of one customer."""

    id: str
    customer_id: str
    categories: frozenset[str]
    basis: str
    readable_for: tuple[str, ...]
    until: date


@dataclass(frozen=True)
class Fate:
    """``keep`` (its purposes serve until ``until``; None: no retention stated or the
    account is open), ``hold`` (kept for ``readable_for`` alone until ``until``, under
    ``basis``: the holds) or ``erase``."""

    category: str
    action: str
    until: date | None = None
    basis: tuple[str, ...] = ()
    readable_for: tuple[str, ...] = field(default=())
    laws: tuple[str, ...] = ()  # what each hold in ``basis`` cites

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"category": self.category, "action": self.action}
        if self.action != "erase":
            out["until"] = self.until.isoformat() if self.until else None
            out["basis"] = list(self.basis)
        if self.action == "hold":
            out["readable_for"] = list(self.readable_for)
            out["laws"] = list(self.laws)
        return out


def after(moment: datetime, period: Retention) -> datetime:
    """``moment`` plus ``period`` on the calendar (a month from 31 January is the last
    day of February)."""
    if period.unit == "day":
        return moment + timedelta(days=period.count)
    months = period.count * (12 if period.unit == "year" else 1)
    year, month = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def plan(
    account: Account,
    policy: Policy,
    holds: Iterable[LegalHold],
    now: datetime,
    erasing: bool = False,
) -> list[Fate]:
    """Each category's fate at ``now``, in name order; ``erasing`` (or the account's own
    mark): the customer asked for erasure, so no purpose keeps anything (holds still do)."""
    placed = [h for h in holds if h.until >= now.date()]
    ends = _Ends(account)
    return [
        _fate(category, account, policy, placed, now, erasing or account.erasing, ends)
        for category in sorted(account.categories)
    ]


class _Ends:
    """One account's closure plus each period, each worked out once however many of
    its categories' purposes share the period (a policy has a handful of periods, each
    one object: found by identity in a short list, faster than hashing)."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self.known: list[tuple[Retention, datetime]] = []

    def __getitem__(self, period: Retention) -> datetime:
        for known, end in self.known:
            if known is period:
                return end
        assert self.account.closed_at is not None
        end = after(self.account.closed_at, period)
        self.known.append((period, end))
        return end

    @cached_property
    def minimum(self) -> datetime:
        """The DPDP Rules' year after the account was last processed."""
        return after(self.account.last_processed, MINIMUM)


def _fate(
    category: str,
    account: Account,
    policy: Policy,
    placed: list[LegalHold],
    now: datetime,
    erasing: bool,
    ends: _Ends,
) -> Fate:
    if not erasing:
        end, purposes = _purposes_end(category, account, policy, ends)
        if end is None or end > now:
            return Fate(category, "keep", end.date() if end else None, purposes)
    covering = _holds(category, account, policy, placed, now)
    if covering:
        until = max(until for _, until, _, _ in covering)
        readable = sorted({p for _, _, purposes, _ in covering for p in purposes})
        names = tuple(name for name, _, _, _ in covering)
        laws = tuple(law for _, _, _, law in covering)
        return Fate(category, "hold", until, names, tuple(readable), laws)
    return Fate(category, "erase")


def _purposes_end(
    category: str, account: Account, policy: Policy, ends: _Ends
) -> tuple[datetime | None, tuple[str, ...]]:
    """When the last purpose collecting ``category`` stops serving, and those purposes:
    None while the account is open or while one of them states no retention."""
    purposes = policy.collectors(category)
    periods = policy.periods(category)
    if account.closed_at is None or periods is None:
        return None, purposes
    last = max(account.closed_at, ends.minimum)
    for period in periods:
        last = max(last, ends[period])
    return last, purposes


def _holds(
    category: str,
    account: Account,
    policy: Policy,
    placed: list[LegalHold],
    now: datetime,
) -> list[tuple[str, date, tuple[str, ...], str]]:
    """(name, until, readable for, law) of every hold covering ``category`` now."""
    found = []
    start = account.closed_at or now  # an open account's erasure starts the clock
    for hold in policy.holds.values():
        if category not in hold.categories:
            continue
        if hold.services and hold.services.isdisjoint(account.services):
            continue
        until = after(start, hold.kept)
        if until > now:
            found.append((hold.name, until.date(), hold.readable_for, hold.basis))
    for legal in placed:
        if legal.customer_id == account.customer_id and category in legal.categories:
            found.append((legal.id, legal.until, legal.readable_for, legal.basis))
    return found


def summary(fates: Iterable[Fate]) -> Mapping[str, list[str]]:
    """Category names by action (``keep``, ``hold``, ``erase``)."""
    out: dict[str, list[str]] = {"keep": [], "hold": [], "erase": []}
    for fate in fates:
        out[fate.action].append(fate.category)
    return out
