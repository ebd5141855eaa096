"""The policy: who may see what, for which purpose, how transformed, how long kept —
as tables read from the compiled engine (the same rows as ``ntk policy who/what``) —
and each posted version with its change in words and the notice customers get, in
English and Hindi, activated here once its notice period has run."""

from __future__ import annotations

from itertools import groupby

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from needtoknow.policy import notice
from needtoknow.web.console.access import PostedFiling, ReadingPolicy, page

router = APIRouter()


@router.get("/policy")
def active(request: Request, desk: ReadingPolicy) -> Response:
    engine = desk.vault.engine
    rows = engine.matrix()
    by_recipient = [
        (name, list(grants)) for name, grants in groupby(rows, lambda r: r["recipient"])
    ]
    return page(
        request,
        desk,
        "console/policy.html",
        policy=engine.policy,
        by_recipient=by_recipient,
        versions=desk.vault.versions.history()[::-1],
    )


@router.get("/policy/{version}")
def version(version: str, request: Request, desk: ReadingPolicy) -> Response:
    posted, policy, registry = desk.vault.versions.get(version)
    notices = {
        lang: notice.render(policy, registry, lang, posted.changes) for lang in notice.LANGUAGES
    }
    now = desk.vault.clock()
    due = posted.effective_at is not None and posted.effective_at <= now
    return page(request, desk, "console/version.html", v=posted, notices=notices, now=now, due=due)


@router.post("/policy/{version}/activate")
def activate(version: str, posted: PostedFiling) -> Response:
    done = posted.desk.vault.versions.activate(version)
    return RedirectResponse(f"/console/policy/{done.version}", status_code=303)
