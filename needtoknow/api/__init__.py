"""The HTTP service (FastAPI): ``create_app(vault)``; ``ntk serve`` runs it under uvicorn."""

from needtoknow.guards.extras import require

require("api")

from needtoknow.api.app import create_app  # noqa: E402 - after the check of its extra

__all__ = ["create_app"]
