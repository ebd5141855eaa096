"""``ntk report``: differentially private reports for a recipient, and its budget."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from needtoknow.analytics.budget import remaining
from needtoknow.analytics.chart import check_chart_path, write_chart
from needtoknow.analytics.reports import ADVERTISING, Release, Reports
from needtoknow.analytics.spec import load_spec
from needtoknow.cli.common import Json, print_json, reported, show, stdout
from needtoknow.cli.events import open_store

app = typer.Typer(help="Differentially private aggregate reports.", no_args_is_help=True)


Chart = Annotated[
    Path | None, typer.Option(help="Also draw the rows: a .png, .svg or .html (interactive) file.")
]
AsCsv = Annotated[
    bool, typer.Option("--csv", help="Print the rows as CSV, with their 95% intervals.")
]


@app.command()
def run(
    spec: Annotated[Path, typer.Argument(help="Report spec (YAML).")],
    advertiser: Annotated[str, typer.Option(help="The recipient (an advertiser).")],
    purpose: Annotated[str, typer.Option(help="What for.")] = ADVERTISING,
    preview: Annotated[
        bool,
        typer.Option(
            "--preview",
            help="Only say what it would cost (ε, δ per month, and whether that fits) and "
            "how accurate it would be (each column's error at 95%); spends nothing.",
        ),
    ] = False,
    as_json: Json = False,
    as_csv: AsCsv = False,
    chart: Chart = None,
) -> None:
    """Charge the report's ε (and δ) to ADVERTISER's budget, then release it: rows with
    their 95% intervals. A report that does not fit is refused (exit 11) with the budget
    left; nothing is released. `ntk report show` shows a release again for free."""
    with reported(as_json=as_json):
        report = load_spec(spec)
        if chart is not None:
            check_chart_path(chart)
        vault, store = open_store()
        reports = Reports(vault.scope, store)
        if preview:
            show(reports.preview(report, advertiser, purpose), as_json, _print_preview)
            return
        release = reports.run(report, advertiser, purpose)
    _render(release, as_json, as_csv, chart)


@app.command(name="show")
def show_release(
    ledger_index: Annotated[int, typer.Argument(help="The release's ledger index.")],
    as_json: Json = False,
    as_csv: AsCsv = False,
    chart: Chart = None,
) -> None:
    """A report released before, exactly as released (its rows checked against the
    SHA-256 in its ledger entry; exit 8 if they differ) — no new charge, no new noise."""
    with reported(as_json=as_json):
        if chart is not None:
            check_chart_path(chart)
        from needtoknow.analytics.releases import Releases

        vault, _ = open_store()
        release = Releases(vault.scope).get(ledger_index)
    _render(release, as_json, as_csv, chart)


def _render(release: Release, as_json: bool, as_csv: bool, chart: Path | None) -> None:
    if chart is not None:
        with reported(as_json=as_json):
            write_chart(release, chart)
    if as_json:
        print_json(release.to_json())
        return
    if as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(release.table_columns))
        writer.writeheader()
        writer.writerows(release.rows)
        return
    shown = [{c: row.get(c) for c in release.table_columns} for row in release.rows]
    show(shown, False)
    left = ", ".join(f"{p}: ε={e:.4g} δ={d:.3g}" for p, (e, d) in release.remaining.items())
    stdout.print(
        f"{len(release.rows)} rows (ledger index {release.ledger_index}); spent "
        f"ε={release.epsilon:.4g} δ={release.delta:.3g}; left {left}",
        highlight=False,
    )


def _print_preview(preview: dict[str, Any]) -> None:
    cost = preview["cost"]
    stdout.print(
        f"{preview['report']} for {preview['recipient']}: would spend "
        f"ε={cost['epsilon']:.4g} δ={cost['delta']:.3g} of each month it reads",
        highlight=False,
    )
    for month, budget in preview["months"].items():
        left = budget["left"]
        fits = "fits" if budget["fits"] else "DOES NOT FIT"
        stdout.print(
            f"  {month}: left ε={left['epsilon']:.4g} δ={left['delta']:.3g} — {fits}",
            highlight=False,
        )
    for column, how in preview["noise"].items():
        threshold = f"; rows under {how['threshold']} withheld" if "threshold" in how else ""
        stdout.print(
            f"  {column}: ±{how['error_95']} at 95% (discrete Laplace, scale "
            f"{how['scale']:.3g}){threshold}",
            highlight=False,
        )


@app.command()
def budget(
    recipient: Annotated[str, typer.Argument(help="The recipient.")],
    purpose: Annotated[str, typer.Option(help="What for.")] = ADVERTISING,
    as_json: Json = False,
) -> None:
    """The recipient's budget per month of data: spent, left, and every charge."""
    with reported(as_json=as_json):
        vault, store = open_store()
        reports = Reports(vault.scope, store)
        rule = vault.engine.decide_usage(recipient, purpose, "aggregate")
        months = {
            period: {
                "spent": {"epsilon": spent[0], "delta": spent[1]},
                "left": dict(zip(("epsilon", "delta"), remaining(rule, spent), strict=True)),
            }
            for period, spent in reports.budgets.spent(recipient).items()
        }
        charges = reports.budgets.charges(recipient)
    body = {
        "recipient": recipient,
        "budget": {"epsilon": rule.epsilon, "delta": rule.delta, "per": "month of data"},
        "months": months,
        "charges": charges,
    }
    if as_json:
        print_json(body)
        return
    stdout.print(
        f"{recipient}: ε={rule.epsilon:g} δ={rule.delta:g} per month of data", highlight=False
    )
    for period, month in months.items():
        stdout.print(
            f"  {period}: left ε={month['left']['epsilon']:.4g} δ={month['left']['delta']:.3g}",
            highlight=False,
        )
