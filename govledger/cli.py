"""Composition root of the command line: builds the typer app from the command modules and
maps errors to exit codes in one place (`main`). The policy (and later report) commands and HTTP
routes are wired in here: this is the one module of `ledger` allowed to import `policies`/`reports`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

import typer
from fastapi import APIRouter, FastAPI
from sqlalchemy.exc import SQLAlchemyError

from govledger.demo import command as demo
from govledger.registry import full_registry
from ledger.api import Ledger
from ledger.cli import lineage_commands, log_commands, pack_commands, serve_command, verify_commands
from ledger.cli.context import CliState, state
from ledger.cli.errors import EXIT_FAILED, EXIT_USAGE, exit_code_for, one_line, report_error
from ledger.config import Settings
from ledger.errors import GovledgerError
from policies import cli as policy_cli
from reports import cli as report_cli

__all__ = ["app", "main", "service_routers"]

app = typer.Typer(
    name="govledger",
    help="Governance and compliance audit ledger for ML systems: an append-only, Merkle-proven, signed log.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _global_options(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="GOVLEDGER_DATABASE_URL",
            show_envvar=True,
            help="sqlite:///FILE or postgresql://… (default: sqlite file govledger.db here)",
        ),
    ] = None,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            envvar="GOVLEDGER_HOME",
            show_envvar=True,
            help="Directory for keys and local state (default: ./.govledger)",
        ),
    ] = None,
) -> None:
    ctx.obj = CliState(database_url=database_url, home=home, kinds=full_registry)


log_commands.register(app)
verify_commands.register(app)
pack_commands.register(app)
lineage_commands.register(app)


def service_routers() -> list[APIRouter]:
    """The endpoints of `policies` (and `reports`) that the service mounts beside the ledger's."""
    from policies.routes import router as policy_router
    from reports.routes import router as report_router

    return [policy_router, report_router]


def service_from_env() -> FastAPI:
    """The whole service over the ledger the environment names: what each `serve --workers` process runs."""
    from ledger.service import create_app

    return create_app(Settings.from_env(), routers=service_routers(), registry=full_registry())


serve_command.register(app, service_routers, "govledger.cli:service_from_env")


def _policy_and_report_demo_steps(ledger: Ledger, workdir: Path, step: Callable[[int, str], None], number: int) -> int:
    """The demo's steps that need the policy engine and the reports (composed only here)."""
    from govledger.demo.policy_steps import run_policy_demo
    from govledger.demo.report_steps import run_report_demo

    facts = run_policy_demo(ledger, workdir, step, number)
    return run_report_demo(ledger, workdir, step, facts["next"], facts)


def _full_service(settings: Settings) -> FastAPI:
    from ledger.service import create_app

    return create_app(settings, routers=service_routers(), registry=full_registry())


demo.register(app, _policy_and_report_demo_steps, _full_service)


def _open_local(ctx: typer.Context) -> Ledger:
    return state(ctx).open()


# The policy engine's commands (this module is the one composition root allowed to wire it in).
policy_cli.register(app, _open_local)
report_cli.register(app, _open_local)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; domain errors become one line on stderr and exit code 2 (or 1 for corrupt data)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = app(args=args, standalone_mode=False, prog_name="govledger")
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        report_error("aborted")
        raise SystemExit(130) from None
    except typer.TyperException as exc:  # usage errors: unknown option, bad value, missing argument
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            report_error(str(exc))
        raise SystemExit(EXIT_USAGE) from None
    except GovledgerError as exc:
        report_error(one_line(exc))
        raise SystemExit(exit_code_for(exc)) from None
    except SQLAlchemyError as exc:
        origin = getattr(exc, "orig", None)
        reason = (str(origin) if origin is not None else str(exc)).splitlines()[0]
        report_error(f"database error: {reason}")
        raise SystemExit(EXIT_USAGE if "connect" in reason.lower() else EXIT_FAILED) from None
    raise SystemExit(result if isinstance(result, int) else 0)
