"""``ntk report``: differentially private reports for a recipient, and its budget."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Annotated

import typer

from needtoknow.analytics.budget import remaining
from needtoknow.analytics.chart import check_chart_path, write_chart
from needtoknow.analytics.reports import ADVERTISING, Reports
from needtoknow.analytics.spec import load_spec
from needtoknow.cli.common import Json, print_json, reported, stdout
from needtoknow.cli.events import open_store

app = typer.Typer(help="Differentially private aggregate reports.", no_args_is_help=True)


@app.command()
def run(
    spec: Annotated[Path, typer.Argument(help="Report spec (YAML).")],
    advertiser: Annotated[str, typer.Option(help="The recipient (an advertiser).")],
    purpose: Annotated[str, typer.Option(help="What for.")] = ADVERTISING,
    as_json: Json = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the rows as CSV.")] = False,
    chart: Annotated[
        Path | None, typer.Option(help="Also draw the rows: a .png or .html file.")
    ] = None,
) -> None:
    """Charge the report's ε (and δ) to ADVERTISER's budget, then release it. A report
    that does not fit is refused (exit 11) with the budget left; nothing is released."""
    with reported(as_json=as_json):
        report = load_spec(spec)
        if chart is not None:
            check_chart_path(chart)
        vault, store = open_store()
        release = Reports(vault.scope, store).run(report, advertiser, purpose)
        if chart is not None:
            write_chart(release, chart)
    if as_json:
        print_json(release.to_json())
        return
    if as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(release.columns))
        writer.writeheader()
        writer.writerows(release.rows)
        return
    for row in release.rows:
        stdout.print("  ".join(f"{row[c]}" for c in release.columns), highlight=False)
    left = ", ".join(f"{p}: ε={e:.4g} δ={d:.3g}" for p, (e, d) in release.remaining.items())
    stdout.print(
        f"{len(release.rows)} rows; spent ε={release.epsilon:.4g} δ={release.delta:.3g}; "
        f"left {left}",
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
