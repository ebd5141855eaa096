"""The customer's own calls (``/v1/me``), described once for both clients, like
:mod:`.calls`. A customer has no API key: a session starts with a one-time code to the
e-mail or telephone on file, and the token it gives is sent with every later call."""

from __future__ import annotations

from typing import Any, Generic

from needtoknow.client import answers
from needtoknow.client.calls import Call, Endpoint, Http, _segment


class CustomerCalls(Generic[Http]):
    _connect: type[Http]

    def __init__(self, base_url: str, timeout: float = 10.0, **httpx_options: Any) -> None:
        self._http: Http = self._connect(base_url=base_url, timeout=timeout, **httpx_options)

    def use_token(self, token: str) -> None:
        """Send ``token`` (from signing in) with every call from now on."""
        self._http.headers["Authorization"] = f"Bearer {token}"

    @Endpoint
    def start_session(address: str) -> Call[str]:
        """Ask for a code; returns the session id (the same answer for any address)."""
        return Call("POST", "/v1/me/session", _session_id, body={"address": address})

    @Endpoint
    def verify_session(session_id: str, code: str) -> Call[dict[str, Any]]:
        body = {"session_id": session_id, "code": code}
        return Call("POST", "/v1/me/session/verify", answers.as_json, body=body)

    @Endpoint
    def sign_out() -> Call[None]:
        return Call("DELETE", "/v1/me/session", answers.nothing)

    @Endpoint
    def summary() -> Call[dict[str, Any]]:
        """What is held about me, why, who received it with proofs, how long it is kept."""
        return Call("GET", "/v1/me", answers.as_json)

    @Endpoint
    def my_history() -> Call[dict[str, Any]]:
        return Call("GET", "/v1/me/history", answers.as_json)

    @Endpoint
    def my_consents() -> Call[list[dict[str, Any]]]:
        return Call("GET", "/v1/me/consents", answers.listed("consents"))

    @Endpoint
    def grant_consent(purpose: str, notice_version: str | None = None) -> Call[dict[str, Any]]:
        body = {"purpose": purpose, "notice_version": notice_version}
        return Call("POST", "/v1/me/consents", answers.as_json, body=body)

    @Endpoint
    def withdraw_consent(purpose: str) -> Call[list[dict[str, Any]]]:
        path = f"/v1/me/consents/{_segment(purpose)}/withdraw"
        return Call("POST", path, answers.listed("consents"))

    @Endpoint
    def my_requests() -> Call[list[dict[str, Any]]]:
        return Call("GET", "/v1/me/requests", answers.listed("requests"))

    @Endpoint
    def open_request(kind: str, details: Any = None) -> Call[dict[str, Any]]:
        body = {"kind": kind, "details": details}
        return Call("POST", "/v1/me/requests", answers.as_json, body=body)

    @Endpoint
    def my_request(request_id: str) -> Call[dict[str, Any]]:
        return Call("GET", f"/v1/me/requests/{_segment(request_id)}", answers.as_json)


def _session_id(response: Any) -> str:
    return str(response.json()["session_id"])
