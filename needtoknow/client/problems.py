"""Problem responses (RFC 9457) turned back into the library's errors.

The service renders each library error as a problem whose ``type`` names it
(``needtoknow.api.problems``); this is the way back, so code calling the service over
HTTP catches the same errors as code calling the library in-process.
"""

from __future__ import annotations

import httpx

from needtoknow import errors

TYPE_BASE = "urn:needtoknow:problem:"


class ServiceError(errors.NeedToKnowError):
    """A refusal with no library counterpart: rate limited, too large, server error."""

    def __init__(self, status: int, type_: str, detail: str, request_id: str | None) -> None:
        self.status = status
        self.type = type_
        self.request_id = request_id
        super().__init__(f"{status} {type_}: {detail}")


def raise_for(response: httpx.Response) -> None:
    """Raise the library error (or ServiceError) a problem response stands for."""
    if response.is_success:
        return
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if not isinstance(problem, dict):
        problem = {}
    kind = str(problem.get("type", "")).removeprefix(TYPE_BASE)
    detail = str(problem.get("detail", response.reason_phrase))
    if kind == "policy-denied":
        raise errors.PolicyDenied(problem["recipient"], problem["purpose"], problem["reasons"])
    if kind == "validation" and problem.get("rule") == "not_collected":
        raise errors.NotCollected(
            problem["categories"], problem.get("policy", ""), problem.get("consent_needed")
        )
    if kind == "validation":
        listed = problem.get("errors") or [{}]
        location = ".".join(str(p) for p in listed[0].get("loc", []))
        raise errors.ValidationError(
            problem.get("field") or location or "request",
            problem.get("category", "request"),
            problem.get("rule", "schema"),
        )
    if kind == "unauthenticated":
        raise errors.AuthenticationError(problem.get("reason", "unknown"))
    if kind == "verification-failed":
        raise errors.VerificationFailed(problem.get("reason", "wrong_code"))
    if kind == "rate-limited" and "retry_after" in problem:  # a customer's attempts
        raise errors.TooManyAttempts(int(problem["retry_after"]))
    if kind == "scope-denied":
        raise errors.ScopeDenied(_key_id(response), problem.get("scope", ""))
    if kind == "integrity":
        raise errors.IntegrityError()
    if kind == "policy":
        raise errors.PolicyError("service", None, detail)
    simple: dict[str, type[errors.NeedToKnowError]] = {
        "not-found": errors.NotFound,
        "unknown-category": errors.CategoryError,
        "key-provider": errors.KeyProviderError,
        "unavailable": errors.Unavailable,
        "conflict": errors.NeedToKnowError,
    }
    if kind in simple:
        raise simple[kind](detail)
    raise ServiceError(response.status_code, kind or "http", detail, problem.get("request_id"))


def _key_id(response: httpx.Response) -> str:
    """The service does not echo the key id; it is the part of the sent key before the
    secret, so ScopeDenied names the same key it does in-process."""
    token = str(response.request.headers.get("x-api-key", ""))
    return token.removeprefix("ntk_").split("_", 1)[0]
