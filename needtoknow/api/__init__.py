"""The HTTP service (FastAPI): ``create_app(vault)``; ``ntk serve`` runs it under uvicorn."""

from needtoknow.api.app import create_app

__all__ = ["create_app"]
