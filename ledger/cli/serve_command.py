"""`govledger serve`: the HTTP service on the configured ledger (embedded SQLite by default).

With `--workers N` there are N processes (`ledger.cli.serve_workers`: one listening socket each,
so the kernel spreads connections over them), each with its own ledger connection, group commit
and key cache; appends from all of them go through the one sequencer lock in the database (the
same guarantee as several writer processes, tested in tests/ledger). The database is migrated
once, by this process, before the workers start.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer

from ledger.cli.context import state
from ledger.cli.errors import fail
from ledger.cli.serve_workers import PortInUseError, check_port_free, serve_processes

if TYPE_CHECKING:
    pass

__all__ = ["app"]


app = typer.Typer()


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Server processes, each on its own socket; more than one helps clients with several connections",
        ),
    ] = 1,
) -> None:
    """Serve the REST API (OpenAPI docs at /docs); checkpoints are signed every 0.5 s while entries arrive."""
    import uvicorn

    from ledger.lineage import open_governance_ledger
    from ledger.service import create_app

    cli = state(ctx)
    settings = cli.settings()
    try:
        check_port_free(host, port)
    except PortInUseError as exc:
        fail(str(exc))
    if workers == 1:
        service = create_app(settings, routers=cli.service_routers(), registry=cli.kinds())
        uvicorn.run(service, host=host, port=port, log_level="info")
        return
    if cli.service_factory is None:
        fail("--workers needs the import path of a service factory (the composition root gives it)")
    open_governance_ledger(settings, registry=cli.kinds()).close()  # migrate once, before the workers open it
    os.environ["GOVLEDGER_DATABASE_URL"] = settings.database_url  # what the workers read
    os.environ["GOVLEDGER_HOME"] = str(settings.home)
    typer.echo(f"govledger: serving http://{host}:{port} with {workers} processes (Ctrl-C stops)", err=True)
    serve_processes(cli.service_factory, host=host, port=port, workers=workers)
