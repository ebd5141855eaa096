"""The peer for bench_http.py: FastAPI answering the same paths with the same JSON, with no
vault, policy, ledger or authentication — the cost of the web stack alone. Each handler is
the same kind as the service's on SQLite (both async since session 18: the service's
correction runs on the event loop), so the comparison prices what needtoknow adds, not a
choice between FastAPI's two handler kinds."""

from __future__ import annotations

import json
import os
from typing import Any

from fastapi import FastAPI

BODY: dict[str, Any] = json.loads(os.environ.get("BARE_BODY", "{}"))
app = FastAPI()


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/v1/customers/{customer_id}")
async def get(customer_id: str, purpose: str) -> dict[str, Any]:
    return {**BODY, "customer_id": customer_id, "purpose": purpose}


@app.patch("/v1/customers/{customer_id}")
async def correct(customer_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"customer_id": customer_id, "categories": list(body["fields"]), "notices": []}
