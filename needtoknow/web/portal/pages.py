"""The customer's own pages: what is held and why, who saw it (each entry's proof
checked by the customer's browser, not taken on our word), consents, requests and the
notices — each one library call, acting as the customer."""

from __future__ import annotations

import base64
import json

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from needtoknow.policy import notice
from needtoknow.rights.summary import access_summary
from needtoknow.web.portal.access import PostedForm, SignedIn, page

router = APIRouter()
CHANNEL = "web"  # consents.CHANNELS: the portal is the web channel
CONSENT_EVIDENCE = "customer portal, signed in with a one-time code"


@router.get("")
def my_data(request: Request, me: SignedIn) -> Response:
    summary = access_summary(me.vault, me.customer_id)
    return page(request, me, "me/data.html", summary=summary, policy=me.vault.policy)


@router.get("/data.json")
def my_data_file(me: SignedIn) -> Response:
    """The same summary as a file to keep (what ``GET /v1/me`` answers)."""
    body = json.dumps(access_summary(me.vault, me.customer_id), indent=2, ensure_ascii=False)
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="my-data.json"'},
    )


@router.get("/history")
def history(request: Request, me: SignedIn) -> Response:
    proofs, head = me.vault.signed_history(me.customer_id)
    rows = [
        {
            "shown": proof.to_json(),
            "bytes": base64.b64encode(proof.entry).decode(),
            "redacted_leaf": proof.redacted_leaf.hex() if proof.redacted_leaf else "",
        }
        for proof in proofs
    ]
    return page(request, me, "me/history.html", head=head.to_json(), rows=rows)


@router.get("/proofs")
def about_proofs(request: Request, me: SignedIn) -> Response:
    return page(request, me, "me/proofs.html")


@router.get("/consents")
def consents(request: Request, me: SignedIn) -> Response:
    policy = me.vault.policy
    standing = {c.purpose: c for c in me.vault.consents.listing(me.customer_id) if c.active}
    purposes = [
        (name, p)
        for name, p in policy.purposes.items()
        if p.legal_basis == "consent" and name not in policy.prohibited_purposes
    ]
    return page(request, me, "me/consents.html", purposes=purposes, standing=standing)


@router.post("/consents/{purpose}/grant")
def grant(purpose: str, posted: PostedForm) -> Response:
    me = posted.me
    notice_version = me.vault.policy.version  # the notice the portal shows now
    me.vault.consents.grant(me.customer_id, purpose, CHANNEL, CONSENT_EVIDENCE, notice_version)
    return RedirectResponse("/me/consents", status_code=303)


@router.post("/consents/{purpose}/withdraw")
def withdraw(purpose: str, posted: PostedForm) -> Response:
    me = posted.me
    me.vault.consents.withdraw(me.customer_id, purpose, CHANNEL)
    return RedirectResponse("/me/consents", status_code=303)


@router.get("/requests")
def requests(request: Request, me: SignedIn) -> Response:
    found = me.desk.listing(me.customer_id)
    answers = {r.id: me.desk.resolution(r.id) for r in found if r.status == "closed"}
    return page(
        request,
        me,
        "me/requests.html",
        found=found,
        answers=answers,
        correctable=sorted(me.vault.policy.collected()),
        now=me.vault.clock(),
    )


@router.post("/requests")
def open_request(posted: PostedForm) -> Response:
    """One form per shape of request: a correction names the category and its new
    value, a nomination the nominee and a contact, the rest say what they want in words."""
    me, form = posted.me, posted.form
    kind = form.get("kind")
    details: object
    if kind == "correction":
        details = {form.get("category"): form.get("value")}
    elif kind == "nomination":
        contact = form.get("contact")
        details = {"name": form.get("name"), "email" if "@" in contact else "telephone": contact}
    else:
        details = form.get("details") or None
    me.desk.open(me.customer_id, kind, details, verified_method="session")
    return RedirectResponse("/me/requests", status_code=303)


@router.get("/notices")
def notices(request: Request, me: SignedIn) -> Response:
    from needtoknow.web.language import chosen

    lang = chosen(request)
    shown = []
    for version in me.vault.versions.history()[::-1]:
        _, policy, registry = me.vault.versions.get(version.version)
        shown.append((version, notice.render(policy, registry, lang, version.changes)))
    return page(request, me, "me/notices.html", shown=shown)
