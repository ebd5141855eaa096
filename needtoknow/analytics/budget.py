"""Privacy budgets: what each recipient may still spend on each month of usage data.

The budget is the policy's (a ``usage_data`` rule's ε and δ, per month of data); what
has been spent is here, in the vault's database. A report is charged for every month
its window touches — each month's subjects are different pseudonyms, so months are
disjoint data and the charge to one does not reduce another (parallel composition).
Within a month charges add up (basic composition of (ε, δ)), which is how OpenDP's own
accountant composes the same releases (``tests/analytics/test_accounting.py``).

A charge is made in one transaction that locks the month's row, checks and updates it,
and appends the charge's ledger entry, so two reports can never both spend the last of
a budget, and no charge exists without its entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from needtoknow.errors import BudgetExceeded
from needtoknow.moments import utc_text
from needtoknow.storage.database import reading
from needtoknow.storage.schema import privacy_budgets, privacy_charges

if TYPE_CHECKING:
    from needtoknow.analytics.spec import ReportSpec
    from needtoknow.ledger import Entry
    from needtoknow.policy.model import UsageRule
    from needtoknow.records.scope import Scope

# Charges are floats from OpenDP's maps; a budget spent to its last bit must not be
# refused for a rounding error in the sum.
_SLACK = 1e-12


@dataclass(frozen=True)
class Charge:
    recipient: str
    cost: tuple[float, float]
    remaining: dict[str, tuple[float, float]]  # period → (ε, δ) left after the charge
    ledger_index: int


def remaining(rule: UsageRule, spent: tuple[float, float]) -> tuple[float, float]:
    return (max(0.0, rule.epsilon - spent[0]), max(0.0, rule.delta - spent[1]))


class Budgets:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def charge(
        self,
        rule: UsageRule,
        recipient: str,
        purpose: str,
        spec: ReportSpec,
        cost: tuple[float, float],
    ) -> Charge:
        """Spend ``cost`` of ``recipient``'s budget for every month ``spec`` touches, or
        raise BudgetExceeded for the first month without room (nothing is spent; the
        refusal is ledgered)."""
        scope = self.scope
        now = scope.clock()
        try:
            with scope.db.begin() as conn:
                left: dict[str, tuple[float, float]] = {}
                for period in spec.months:
                    spent = _locked(conn, recipient, period)
                    room = remaining(rule, spent)
                    if cost[0] > room[0] + _SLACK or cost[1] > room[1] + _SLACK:
                        raise BudgetExceeded(recipient, period, cost, room)
                    after = (spent[0] + cost[0], spent[1] + cost[1])
                    conn.execute(
                        privacy_budgets.update()
                        .where(
                            privacy_budgets.c.recipient == recipient,
                            privacy_budgets.c.period == period,
                        )
                        .values(epsilon_spent=after[0], delta_spent=after[1])
                    )
                    left[period] = remaining(rule, after)
                index = scope.ledger.append(
                    conn, self._entry(rule, recipient, purpose, spec, cost, "charge", left)
                )
                conn.execute(
                    privacy_charges.insert(),
                    [
                        {
                            "recipient": recipient,
                            "period": period,
                            "report": spec.name,
                            "spec_sha256": spec.digest(),
                            "epsilon": cost[0],
                            "delta": cost[1],
                            "charged_at": now,
                            "ledger_index": index,
                        }
                        for period in spec.months
                    ],
                )
        except BudgetExceeded as exc:
            scope.ledger.record(
                self._entry(
                    rule, recipient, purpose, spec, cost, "refuse", {exc.period: exc.remaining}
                )
            )
            raise
        return Charge(recipient, cost, left, index)

    def spent(self, recipient: str) -> dict[str, tuple[float, float]]:
        """(ε, δ) spent per month of data, for every month ``recipient`` has used."""
        with reading(self.scope.db) as conn:
            rows = conn.execute(
                sa.select(privacy_budgets)
                .where(privacy_budgets.c.recipient == recipient)
                .order_by(privacy_budgets.c.period)
            )
            return {r.period: (r.epsilon_spent, r.delta_spent) for r in rows}

    def charges(self, recipient: str) -> list[dict[str, Any]]:
        with reading(self.scope.db) as conn:
            rows = conn.execute(
                sa.select(privacy_charges)
                .where(privacy_charges.c.recipient == recipient)
                .order_by(privacy_charges.c.id)
            )
            return [
                {
                    "period": r.period,
                    "report": r.report,
                    "spec_sha256": r.spec_sha256,
                    "epsilon": r.epsilon,
                    "delta": r.delta,
                    "charged_at": utc_text(r.charged_at),
                    "ledger_index": r.ledger_index,
                }
                for r in rows
            ]

    def _entry(
        self,
        rule: UsageRule,
        recipient: str,
        purpose: str,
        spec: ReportSpec,
        cost: tuple[float, float],
        action: str,
        left: dict[str, tuple[float, float]],
    ) -> Entry:
        scope = self.scope
        return scope.entry(
            "report",
            recipient=recipient,
            purpose=purpose,
            legal_basis=scope.policy().purposes[purpose].legal_basis,
            decision="allow" if action == "charge" else "deny",
            detail={
                "action": action,
                "report": spec.name,
                "spec_sha256": spec.digest(),
                "rule": rule.id,
                "periods": list(spec.months),
                "cost": {"epsilon": cost[0], "delta": cost[1]},
                "budget": {"epsilon": rule.epsilon, "delta": rule.delta},
                "remaining": {p: {"epsilon": e, "delta": d} for p, (e, d) in left.items()},
            },
        )


def _locked(conn: sa.Connection, recipient: str, period: str) -> tuple[float, float]:
    """The month's spend, its row created if new and locked until the transaction ends
    (SQLite's write transactions are already exclusive)."""
    where = (privacy_budgets.c.recipient == recipient, privacy_budgets.c.period == period)
    row = conn.execute(sa.select(privacy_budgets).where(*where).with_for_update()).first()
    if row is None:
        values = {
            "recipient": recipient,
            "period": period,
            "epsilon_spent": 0.0,
            "delta_spent": 0.0,
        }
        insert = (
            pg_insert(privacy_budgets).values(values).on_conflict_do_nothing()
            if conn.dialect.name == "postgresql"
            else privacy_budgets.insert().values(values)  # SQLite: we hold the write lock
        )
        conn.execute(insert)
        row = conn.execute(sa.select(privacy_budgets).where(*where).with_for_update()).one()
    return (float(row.epsilon_spent), float(row.delta_spent))
