"""The app `bench.service_bench` serves with uvicorn: the real service plus trivial baseline routes.

Started as a separate process::

    GOVLEDGER_DATABASE_URL=... GOVLEDGER_HOME=... python -m bench.service_app --port N [--workers K]

(one process: uvicorn; several: `ledger.cli.serve_workers`, as `govledger serve --workers K` runs).

`create_bench_app()` is `ledger.service.create_app()` with its settings from the environment (as
in production), plus two routes under ``/bench`` that do no ledger work, so that the benchmark
can time HTTP, routing, middleware and JSON parsing alone on the same server, in the same process:

- ``POST /bench/echo``: reads the body and parses it with `ledger.service.json_body.parse_json`
  (as the decisions route does), then answers 201 with the number of items; no authentication,
  no database.
- ``GET /bench/ping``: answers ``{"ok": true}``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request, status
from fastapi.responses import JSONResponse

from govledger.registry import full_registry
from ledger.config import Settings
from ledger.service import create_app
from ledger.service.json_body import parse_json

__all__ = ["baseline_router", "create_bench_app"]

baseline_router = APIRouter(prefix="/bench", tags=["benchmark baselines"])


@baseline_router.post("/echo", status_code=status.HTTP_201_CREATED)
async def echo(request: Request) -> JSONResponse:
    value = parse_json(await request.body())
    count = len(value) if isinstance(value, list) else 1
    return JSONResponse({"received": count}, status_code=status.HTTP_201_CREATED)


@baseline_router.get("/ping")
async def ping() -> dict[str, Any]:
    return {"ok": True}


def create_bench_app() -> FastAPI:
    """The service over the ledger named by GOVLEDGER_DATABASE_URL / GOVLEDGER_HOME, plus /bench."""
    app = create_app(Settings.from_env(), registry=full_registry())
    app.include_router(baseline_router)
    return app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    factory = "bench.service_app:create_bench_app"
    if args.workers == 1:
        import uvicorn

        uvicorn.run(factory, factory=True, host=args.host, port=args.port, log_level="warning", access_log=False)
        return
    from ledger.cli.serve_workers import serve_processes

    serve_processes(
        factory, host=args.host, port=args.port, workers=args.workers, log_level="warning", access_log=False
    )


if __name__ == "__main__":
    main()
