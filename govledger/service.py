"""The whole HTTP service: the ledger's endpoints plus those of `policies` and `reports`, over a
ledger that appends every kind of the full registry.

Imported only when a command serves (FastAPI and uvicorn are not loaded with the CLI). Without
the reports extra the report endpoints are left out, and a note on stderr says so.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from govledger.extras import install_hint, missing_extra
from govledger.registry import full_registry
from ledger.config import Settings

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI

__all__ = ["FACTORY_PATH", "full_app", "service_from_env", "service_routers"]

# The import path each `serve --workers` process builds its service from.
FACTORY_PATH = "govledger.service:service_from_env"


def service_routers() -> list[APIRouter]:
    """The endpoints of `policies` and `reports`, and the web console (`/ui`), that the service mounts
    beside the ledger's; the report endpoints and the console only where the reports extra (Jinja2,
    WeasyPrint) is installed (a note on stderr says so)."""
    from policies.routes import router as policy_router

    routers = [policy_router]
    try:
        from reports.routes import router as report_router
    except ModuleNotFoundError as exc:
        if missing_extra(exc) is None:
            raise
        sys.stderr.write(f"govledger: note: the report endpoints are off; {install_hint('reports', exc.name)}\n")
    else:
        routers.append(report_router)
    try:
        from console.routes import router as console_router
    except ModuleNotFoundError as exc:
        if missing_extra(exc) is None:
            raise
        sys.stderr.write(f"govledger: note: the web console (/ui) is off; {install_hint('reports', exc.name)}\n")
    else:
        routers.append(console_router)
    return routers


def full_app(settings: Settings) -> FastAPI:
    """The whole service over the ledger `settings` names."""
    from ledger.service import create_app

    return create_app(settings, routers=service_routers(), registry=full_registry())


def service_from_env() -> FastAPI:
    """The whole service over the ledger the environment names: what each `serve --workers` process runs."""
    return full_app(Settings.from_env())
