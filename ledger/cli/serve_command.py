"""`govledger serve`: the HTTP service on the configured ledger (embedded SQLite by default)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated

import typer
from fastapi import APIRouter

from ledger.cli.context import state

__all__ = ["register"]


def register(app: typer.Typer, routers: Callable[[], Sequence[APIRouter]]) -> None:
    """`routers`: the policy and report endpoints the composition root adds to the service."""

    @app.command()
    def serve(
        ctx: typer.Context,
        host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=1, max=65535, help="Port")] = 8000,
    ) -> None:
        """Serve the REST API (OpenAPI docs at /docs); checkpoints are signed every 0.5 s while entries arrive."""
        import uvicorn

        from ledger.service import create_app

        settings = state(ctx).settings()
        uvicorn.run(create_app(settings, routers=routers()), host=host, port=port, log_level="info")
