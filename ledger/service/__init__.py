"""The HTTP service (FastAPI): thin endpoints over the Ledger, one error map, roles on every route."""

from ledger.service.app import create_app

__all__ = ["create_app"]
