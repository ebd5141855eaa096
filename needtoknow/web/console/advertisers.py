"""Advertisers: each one's privacy budget per month of usage data — spent and left, as
the policy's ε allows — and the reports released to it, shown again from what was
released (checked against the ledger) without a new charge or new noise."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from needtoknow.analytics.budget import Budgets, remaining
from needtoknow.analytics.chart import svg
from needtoknow.analytics.releases import Releases
from needtoknow.web.console.access import ReadingReports, page

router = APIRouter()


@router.get("/advertisers")
def advertisers(request: Request, desk: ReadingReports) -> Response:
    scope = desk.vault.scope
    budgets, releases = Budgets(scope), Releases(scope)
    shown = []
    for rule in desk.vault.policy.usage:
        if rule.form != "aggregate":
            continue
        for recipient in rule.recipients:
            months = [
                {"month": month, "spent": spent, "left": remaining(rule, spent)}
                for month, spent in budgets.spent(recipient).items()
            ]
            shown.append(
                {
                    "recipient": recipient,
                    "rule": rule,
                    "months": months,
                    "releases": releases.listing(recipient),
                }
            )
    return page(request, desk, "console/advertisers.html", advertisers=shown)


@router.get("/advertisers/reports/{ledger_index}")
def report(ledger_index: int, request: Request, desk: ReadingReports) -> Response:
    release = Releases(desk.vault.scope).get(ledger_index)
    return page(request, desk, "console/report.html", release=release)


@router.get("/advertisers/reports/{ledger_index}/chart.svg")
def chart(ledger_index: int, desk: ReadingReports) -> Response:
    release = Releases(desk.vault.scope).get(ledger_index)
    return Response(svg(release), media_type="image/svg+xml")
