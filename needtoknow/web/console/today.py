"""Today: what needs the officer now — requests against their deadlines, disclosures
waiting for a second person, policy changes waiting out their notice, erasures not yet
confirmed by the recipients told to make them, and the ledger's state."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from needtoknow.rights.requests import RightsRequests
from needtoknow.web.console.access import Viewing, page

router = APIRouter()


@router.get("")
def today(request: Request, desk: Viewing) -> Response:
    vault = desk.vault
    now = vault.clock()
    requests = RightsRequests(vault).listing(open_only=True)
    waiting = [d for d in vault.disclosures.requests() if d.status == "requested"]
    proposals = [
        v for v in vault.versions.history() if v.activated_at is None and v.retired_at is None
    ]
    instructions = [i for i in vault.instructions.listing() if i.acknowledged_at is None]
    return page(
        request,
        desk,
        "console/today.html",
        now=now,
        requests=requests,
        waiting=waiting,
        proposals=proposals,
        instructions=instructions,
        head=vault.ledger.newest_head(),
        audit=vault.audits.last(),
        whole=vault.audits.last(whole=True),
    )
