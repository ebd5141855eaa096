"""Consent managers' events: a registered manager (``consent_managers:`` in the policy)
posts each grant or withdrawal it recorded, signed with its Ed25519 key — no API key:
the signature over the exact body is the credential."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool

from needtoknow.api.service import Service
from needtoknow.errors import AuthenticationError

router = APIRouter(prefix="/v1/consent-manager", tags=["consent managers"])
UNAUTHENTICATED = "consent_manager:unauthenticated"


@router.post(
    "/events",
    openapi_extra={
        "x-consent-manager": True,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": [
                            "event_id",
                            "action",
                            "customer_id",
                            "purpose",
                            "artefact_id",
                            "issued_at",
                        ],
                        "properties": {
                            "event_id": {"type": "string"},
                            "action": {"enum": ["grant", "withdraw"]},
                            "customer_id": {"type": "string"},
                            "purpose": {"type": "string"},
                            "artefact_id": {"type": "string"},
                            "issued_at": {"type": "string", "format": "date-time"},
                        },
                    }
                }
            },
        },
    },
)
async def event(
    request: Request,
    manager: Annotated[str | None, Header(alias="X-Consent-Manager")] = None,
    signature: Annotated[str | None, Header(alias="X-Signature")] = None,
) -> dict[str, Any]:
    """Apply one signed consent event (Ed25519 over the exact body, hex in X-Signature);
    the same event again is answered as before, a used id with another body refused.
    Refusals that are ledgered (a bad signature, a stale or replayed event) are limited
    per client address and manager, like refused API keys; a correctly signed event is
    never held back by someone else's refusals. A bad signature is ledgered as nobody's:
    the name in the header is only a claim until the signature checks."""
    if not manager or not signature:
        raise AuthenticationError("missing", "consent manager signature")
    service: Service = request.app.state.service
    client = request.client.host if request.client else "unknown"
    bucket = f"consent manager {manager[:100]}"
    body = await request.body()
    vault = service.vault.acting(UNAUTHENTICATED, request.state.request_id)
    answer: dict[str, Any] = await run_in_threadpool(
        vault.consent_managers.receive,
        manager,
        body,
        signature,
        lambda: service.admit_refusal(client, bucket),
    )
    return answer
