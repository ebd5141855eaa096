"""Errors as RFC 9457 problem details: one table from error class to status and type.

Every error body is ``application/problem+json`` with a stable ``type`` URI per error
(clients switch on it, never on the message), the request id, and — for a denial — the
recipient, purpose and reasons. Like the CLI's exit-code table, first match wins; the
messages are the library's, which name ids, fields and categories, never values.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from needtoknow import errors

TYPE_BASE = "urn:needtoknow:problem:"

PROBLEMS: tuple[tuple[type[errors.NeedToKnowError], int, str, str], ...] = (
    (errors.AuthenticationError, 401, "unauthenticated", "Authentication failed"),
    (errors.ScopeDenied, 403, "scope-denied", "Scope denied"),
    (errors.VerificationFailed, 403, "verification-failed", "Verification failed"),
    (errors.TooManyAttempts, 429, "rate-limited", "Too many attempts"),
    (errors.PolicyDenied, 403, "policy-denied", "Denied by policy"),
    (errors.BudgetExceeded, 403, "budget-exceeded", "Privacy budget exceeded"),
    (errors.NotFound, 404, "not-found", "Not found"),
    (errors.NoticePending, 409, "notice-pending", "Notice period not over"),
    (errors.ValidationError, 422, "validation", "Invalid input"),
    (errors.CategoryError, 422, "unknown-category", "Unknown category"),
    (errors.PolicyError, 422, "policy", "Invalid policy"),
    (errors.KeyProviderError, 503, "key-provider", "Keys unavailable"),
    (errors.Unavailable, 503, "unavailable", "Try again"),
    (errors.IntegrityError, 500, "integrity", "Integrity check failed"),
    (errors.NeedToKnowError, 409, "conflict", "Request cannot be completed"),
)


def problem(
    status: int, slug: str, title: str, detail: str, request_id: str | None, **extra: Any
) -> JSONResponse:
    body = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "request_id": request_id,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 429:
        headers = {"Retry-After": str(extra.get("retry_after", 60))}
    return JSONResponse(body, status, headers=headers, media_type="application/problem+json")


def from_error(exc: errors.NeedToKnowError, request_id: str | None) -> JSONResponse:
    status, slug, title = next((s, t, ti) for kind, s, t, ti in PROBLEMS if isinstance(exc, kind))
    return problem(status, slug, title, str(exc), request_id, **exc.details())
