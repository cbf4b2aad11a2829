"""`govledger serve`: the HTTP service on the configured ledger (embedded SQLite by default)."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.context import state

__all__ = ["register"]


def register(app: typer.Typer) -> None:
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
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
