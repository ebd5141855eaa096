"""Aggregate reports on usage data: the one path usage data takes to a recipient.

    decide   the policy's usage_data rule for (recipient, purpose, "aggregate");
             none → PolicyDenied, ledgered
    plan     OpenDP measurements for the spec's bounds, ε and δ, and their cost
             (OpenDP's own maps) — before any data is read
    charge   the cost, against the recipient's budget for every month the window
             touches, in one transaction with its ledger entry; too little left →
             BudgetExceeded (with what is left), ledgered
    bound    per-subject contribution bounding in DuckDB (analytics.bounding) or Spark
             (analytics.spark)
    noise    OpenDP's discrete Laplace (public keys) or thresholded discrete Laplace
             (private keys), then suppression of rows under ``min_count``
    release  a ledger entry naming the spec, the rows' SHA-256 and the cost
             → Release

A crash after the charge loses the report but never refunds the budget: spending
without releasing is safe; releasing without spending is not.

Raw events go to nobody but a recipient the policy gives them to (``export``); an
advertiser never qualifies — the policy loader refuses such a rule.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from needtoknow.analytics import noise
from needtoknow.analytics.bounding import Bounded, key_columns, public_keys
from needtoknow.analytics.budget import Budgets, remaining
from needtoknow.errors import PolicyDenied
from needtoknow.storage.schema import report_releases

if TYPE_CHECKING:
    from needtoknow.analytics.spec import ReportSpec
    from needtoknow.ledger import Entry
    from needtoknow.records.scope import Scope

ADVERTISING = "advertising"


@dataclass(frozen=True)
class Plan:
    """The measurements a spec needs, by the column each one releases."""

    mechanisms: dict[str, noise.Mechanism]
    public: bool

    @property
    def cost(self) -> tuple[float, float]:
        costs = [m.cost for m in self.mechanisms.values()]
        return (sum(c[0] for c in costs), sum(c[1] for c in costs))


def plan(spec: ReportSpec) -> Plan:
    """OpenDP measurements whose sensitivity is what :mod:`bounding` guarantees: one
    subject touches ≤ K partitions, adding ≤ C events (≤ C * high of value) to each."""
    k, c = spec.max_partitions, spec.max_per_partition
    high = spec.value_bounds[1] if spec.value_bounds else 0
    if spec.private_dimensions:
        return Plan({"count": noise.thresholded(k, c, spec.epsilon, spec.delta)}, public=False)
    if spec.measure == "sum":
        return Plan({"sum": noise.vector(k * c * high, spec.epsilon)}, public=True)
    if spec.measure == "mean":
        half = spec.epsilon / 2
        return Plan(
            {"count": noise.vector(k * c, half), "sum": noise.vector(k * c * high, half)},
            public=True,
        )
    return Plan({"count": noise.vector(k * c, spec.epsilon)}, public=True)


@dataclass(frozen=True)
class Release:
    report: str
    recipient: str
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    epsilon: float
    delta: float
    remaining: dict[str, tuple[float, float]]  # month → (ε, δ) left
    ledger_index: int
    # Which partitions each subject kept (bounding.py). Public, like the spec: the
    # guarantee holds for any salt; with it an auditor can redo the exact totals.
    bounding_salt: int
    noise: dict[str, dict[str, Any]]  # column → scale, error at 95% (and threshold)
    policy_version: str  # the version whose usage rule allowed it

    @property
    def table_columns(self) -> tuple[str, ...]:
        """The columns with each noisy total's 95% interval (``count_low``,
        ``count_high``…): what a CSV of the rows holds."""
        bounds = [f"{c}_{end}" for c in self.columns if c in self.noise for end in ("low", "high")]
        return (*self.columns, *bounds)

    def to_json(self) -> dict[str, Any]:
        return {
            "report": self.report,
            "recipient": self.recipient,
            "columns": list(self.columns),
            "rows": self.rows,
            "spent": {"epsilon": self.epsilon, "delta": self.delta},
            "remaining": {p: {"epsilon": e, "delta": d} for p, (e, d) in self.remaining.items()},
            "noise": self.noise,
            "ledger_index": self.ledger_index,
            "policy_version": self.policy_version,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], bounding_salt: int) -> Release:
        return cls(
            report=data["report"],
            recipient=data["recipient"],
            columns=tuple(data["columns"]),
            rows=data["rows"],
            epsilon=data["spent"]["epsilon"],
            delta=data["spent"]["delta"],
            remaining={p: (v["epsilon"], v["delta"]) for p, v in data["remaining"].items()},
            ledger_index=data["ledger_index"],
            bounding_salt=bounding_salt,
            noise=data["noise"],
            policy_version=data["policy_version"],
        )


class Source(Protocol):
    """Where the events are: the embedded store (DuckDB) or a Spark DataFrame
    (``analytics.spark.SparkEvents``). Both bound contributions the same way."""

    def bound(self, spec: ReportSpec, salt: int) -> Bounded: ...

    def export(self, destination: Path) -> int: ...


class Reports:
    def __init__(self, scope: Scope, source: Source) -> None:
        self.scope = scope
        self.source = source
        self.budgets = Budgets(scope)

    def run(self, spec: ReportSpec, recipient: str, purpose: str = ADVERTISING) -> Release:
        """Release ``spec`` to ``recipient`` under differential privacy, or raise
        PolicyDenied / BudgetExceeded (both ledgered) having released nothing."""
        rule, version = self._decide(recipient, purpose, "aggregate", spec.name)
        if rule.requires_consent:
            spec = replace(spec, consent=rule.requires_consent)
        chosen = plan(spec)
        charge = self.budgets.charge(rule, recipient, purpose, spec, chosen.cost)
        salt = secrets.randbits(62)
        bounded = self.source.bound(spec, salt)
        rows = _noised(spec, chosen, bounded)
        columns = (*key_columns(spec), *_measure_columns(spec))
        _with_intervals(rows, chosen)
        digest = hashlib.sha256(orjson.dumps(rows, option=orjson.OPT_SORT_KEYS)).hexdigest()
        index = self.scope.ledger.record(
            self._entry(
                recipient,
                purpose,
                "release",
                report=spec.name,
                spec_sha256=spec.digest(),
                rows=len(rows),
                rows_sha256=digest,
                cost={"epsilon": charge.cost[0], "delta": charge.cost[1]},
                charge=charge.ledger_index,
                bounding_salt=salt,
            )
        )
        release = Release(
            report=spec.name,
            recipient=recipient,
            columns=columns,
            rows=rows,
            epsilon=charge.cost[0],
            delta=charge.cost[1],
            remaining=charge.remaining,
            ledger_index=index,
            bounding_salt=salt,
            policy_version=version,
            noise=_noise(chosen),
        )
        with self.scope.db.begin() as conn:
            conn.execute(
                report_releases.insert().values(
                    ledger_index=index,
                    recipient=recipient,
                    report=spec.name,
                    released_at=self.scope.clock(),
                    document=orjson.dumps(release.to_json()).decode(),
                )
            )
        return release

    def preview(
        self, spec: ReportSpec, recipient: str, purpose: str = ADVERTISING
    ) -> dict[str, Any]:
        """What :meth:`run` would cost and how accurate it would be — the (ε, δ) charged
        to each month the window touches, whether it fits what is left, and each noisy
        column's error at 95% (OpenDP's scale-to-accuracy) — reading no event and
        spending nothing. A recipient the policy refuses is refused (and ledgered) here
        as it would be there."""
        rule, version = self._decide(recipient, purpose, "aggregate", spec.name)
        chosen = plan(spec)
        cost = chosen.cost
        spent = self.budgets.spent(recipient)
        left = {month: remaining(rule, spent.get(month, (0.0, 0.0))) for month in spec.months}
        return {
            "report": spec.name,
            "recipient": recipient,
            "purpose": purpose,
            "cost": {"epsilon": cost[0], "delta": cost[1]},
            "months": {
                month: {
                    "left": {"epsilon": e, "delta": d},
                    "fits": cost[0] <= e + 1e-12 and cost[1] <= d + 1e-12,
                }
                for month, (e, d) in left.items()
            },
            "noise": _noise(chosen),
            "policy_version": version,
        }

    def export(self, recipient: str, purpose: str, destination: Path) -> int:
        """Copy every stored event (pseudonymous) to ``destination`` (Parquet) for a
        recipient the policy gives raw usage data; returns the number of events."""
        self._decide(recipient, purpose, "raw", None)
        # Ledgered before a byte is written: an export the ledger does not show must
        # not exist, even if the process dies mid-copy.
        self.scope.ledger.record(
            self._entry(recipient, purpose, "export", destination=str(destination))
        )
        return self.source.export(destination)

    def _decide(
        self, recipient: str, purpose: str, form: str, report: str | None
    ) -> tuple[Any, str]:
        """The usage rule that allows this, and the policy version that decided it."""
        engine = self.scope.engine()
        try:
            return engine.decide_usage(recipient, purpose, form), engine.version
        except PolicyDenied as exc:
            self.scope.ledger.record(
                self._entry(
                    recipient,
                    purpose,
                    "deny",
                    form=form,
                    report=report,
                    reason=exc.reasons["usage_events"],
                )
            )
            raise

    def _entry(self, recipient: str, purpose: str, action: str, **detail: Any) -> Entry:
        basis = self.scope.policy().purposes.get(purpose)
        return self.scope.entry(
            "report",
            recipient=recipient,
            purpose=purpose,
            legal_basis=basis.legal_basis if basis else None,
            decision="deny" if action == "deny" else "allow",
            detail={"action": action, **{k: v for k, v in detail.items() if v is not None}},
        )


def _noise(chosen: Plan) -> dict[str, dict[str, Any]]:
    return {
        name: {"mechanism": "discrete laplace", "scale": m.scale, "error_95": m.error}
        | ({"threshold": m.threshold} if m.threshold is not None else {})
        for name, m in chosen.mechanisms.items()
    }


def _with_intervals(rows: list[dict[str, Any]], chosen: Plan) -> None:
    """Each noisy total's 95% interval, beside it: the noise's bound either way (a
    total is never below 0, so neither is its interval). Post-processing only."""
    for row in rows:
        for name, mechanism in chosen.mechanisms.items():
            value = row[name]
            row[f"{name}_low"] = max(0, value - mechanism.error)
            row[f"{name}_high"] = value + mechanism.error


def natural(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """A sort key that reads numbers in text as numbers: "term 2" before "term 10"."""
    return tuple(
        tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", str(k)))
        for k in key
    )


def _measure_columns(spec: ReportSpec) -> tuple[str, ...]:
    return {"sum": ("sum",), "mean": ("count", "sum", "mean")}.get(spec.measure, ("count",))


def _bin_order(spec: ReportSpec) -> Any:
    """Sort key for released partitions: by key, a histogram's bins in edge order."""
    if spec.measure != "histogram":
        return natural
    position = {label: i for i, label in enumerate(spec.bin_labels)}
    return lambda key: (natural(key[:-1]), position[key[-1]])


def _noised(spec: ReportSpec, chosen: Plan, bounded: Bounded) -> list[dict[str, Any]]:
    """The released rows: noise on every total, then post-processing only (negative
    counts and sums shown as 0, rows under ``min_count`` suppressed)."""
    columns = key_columns(spec)
    if not chosen.public:
        totals = dict(zip(bounded.keys, bounded.counts, strict=True))
        released = noise.release_map(chosen.mechanisms["count"], totals)
        order = _bin_order(spec)
        cells = [(key, {"count": released[key]}) for key in sorted(released, key=order)]
    else:
        assert public_keys(spec) is not None
        noisy = {
            name: noise.release_vector(mechanism, bounded.sums if name == "sum" else bounded.counts)
            for name, mechanism in chosen.mechanisms.items()
        }
        cells = [
            (key, {name: values[i] for name, values in noisy.items()})
            for i, key in enumerate(bounded.keys)
        ]
    rows = []
    low, high = spec.value_bounds or (0, 0)
    for key, values in cells:
        if spec.min_count and values.get("count", 0) < spec.min_count:
            continue  # suppressed
        row: dict[str, Any] = dict(zip(columns, key, strict=True))
        row.update({name: max(0, value) for name, value in values.items()})
        if spec.measure == "mean":
            count = row["count"]
            row["mean"] = min(high, max(low, row["sum"] / count)) if count > 0 else None
        rows.append(row)
    return rows
