"""Composition root of the command line: builds the typer app from the command modules and
maps errors to exit codes in one place (`main`). The policy and report commands and HTTP routes
are wired in here: this is the one module allowed to import `ledger`, `policies` and `reports`.

The base install (`pip install govledger`) is the ledger, the service and the client; the gate
and the reports need extras (`govledger[gate]`, `govledger[reports]`), whose modules are listed in
`_EXTRA_MODULES`. Their commands import the ML and PDF libraries only when they run. `main` looks
the extra of the command up before running it (`_EXTRA_OF_COMMAND`; help still works without it)
and maps any other `ModuleNotFoundError` of an extra's module the same way: one line naming the
extra to install, exit code 2. `service_routers` leaves the report endpoints out without it.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from govledger.demo import command as demo
from ledger.cli import lineage_commands, log_commands, pack_commands, serve_command, verify_commands
from ledger.cli.context import CliState, state
from ledger.cli.errors import EXIT_FAILED, EXIT_USAGE, exit_code_for, one_line, report_error
from ledger.config import Settings
from ledger.errors import GovledgerError
from policies import cli as policy_cli
from reports import cli as report_cli

if TYPE_CHECKING:  # the service's stack is imported when a command serves, not with the CLI
    from fastapi import APIRouter, FastAPI

    from ledger.api import Ledger

__all__ = ["app", "install_hint", "main", "missing_extra", "service_routers"]

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
    ctx.obj = CliState(database_url=database_url, home=home)


log_commands.register(app)
verify_commands.register(app)
pack_commands.register(app)
lineage_commands.register(app)


# The top-level modules each extra brings (numpy and pandas come with both), and the extra each
# command needs beyond the base install (the demo runs the gate and writes every report).
_EXTRA_MODULES = {
    "gate": ("numpy", "pandas", "sklearn", "fairlearn", "shap", "skops"),
    "reports": ("numpy", "pandas", "jinja2", "weasyprint", "matplotlib"),
}
_EXTRA_OF_COMMAND = {"gate": "gate", "report": "reports", "demo": "all"}
_GLOBAL_OPTIONS_WITH_VALUE = ("--database-url", "--home")


def _command_of(args: Sequence[str]) -> str | None:
    """The command named in `args` (the first word after the global options)."""
    words = iter(args)
    for arg in words:
        if arg in _GLOBAL_OPTIONS_WITH_VALUE:
            next(words, None)
        elif not arg.startswith("-"):
            return arg
    return None


def missing_extra(error: ModuleNotFoundError, args: Sequence[str] = ()) -> str | None:
    """The extra to install for the module `error` names (None: it is not a module of an extra);
    the command's own extra when that brings the module."""
    missing = (error.name or "").partition(".")[0]
    extras = [extra for extra, modules in _EXTRA_MODULES.items() if missing in modules]
    if not extras:
        return None
    needed = _EXTRA_OF_COMMAND.get(_command_of(args) or "")
    if needed == "all" or needed in extras:
        return needed
    return extras[0] if len(extras) == 1 else "all"


def _absent_module(extra: str) -> str | None:
    """The first module of `extra` that is not installed (looked up, not imported: cheap)."""
    extras = list(_EXTRA_MODULES) if extra == "all" else [extra]
    modules = dict.fromkeys(module for name in extras for module in _EXTRA_MODULES[name])
    return next((module for module in modules if importlib.util.find_spec(module) is None), None)


def install_hint(extra: str, missing: str | None) -> str:
    return f"this needs govledger[{extra}] ({missing} is not installed): pip install 'govledger[{extra}]'"


def service_routers() -> list[APIRouter]:
    """The endpoints of `policies` and `reports` that the service mounts beside the ledger's; the
    report endpoints only where the reports extra is installed (a note on stderr says so)."""
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
    return routers


def service_from_env() -> FastAPI:
    """The whole service over the ledger the environment names: what each `serve --workers` process runs."""
    from ledger.service import create_app

    return create_app(Settings.from_env(), routers=service_routers())


serve_command.register(app, service_routers, "govledger.cli:service_from_env")


def _policy_and_report_demo_steps(ledger: Ledger, workdir: Path, step: Callable[[int, str], None], number: int) -> int:
    """The demo's steps that need the policy engine and the reports (composed only here)."""
    from govledger.demo.policy_steps import run_policy_demo
    from govledger.demo.report_steps import run_report_demo

    facts = run_policy_demo(ledger, workdir, step, number)
    return run_report_demo(ledger, workdir, step, facts["next"], facts)


def _full_service(settings: Settings) -> FastAPI:
    from ledger.service import create_app

    return create_app(settings, routers=service_routers())


demo.register(app, _policy_and_report_demo_steps, _full_service)


def _open_local(ctx: typer.Context) -> Ledger:
    return state(ctx).open()


# The policy engine's commands (this module is the one composition root allowed to wire it in).
policy_cli.register(app, _open_local)
report_cli.register(app, _open_local)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; domain errors become one line on stderr and exit code 2 (or 1 for corrupt data)."""
    args = list(sys.argv[1:] if argv is None else argv)
    needed = _EXTRA_OF_COMMAND.get(_command_of(args) or "")
    absent = None if needed is None or {"--help", "-h"} & set(args) else _absent_module(needed)
    if needed is not None and absent is not None:  # before the command opens or writes anything
        report_error(install_hint(needed, absent))
        raise SystemExit(EXIT_USAGE)
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
    except ModuleNotFoundError as exc:  # a command of an extra that is not installed
        extra = missing_extra(exc, args)
        if extra is None:
            raise
        report_error(install_hint(extra, exc.name))
        raise SystemExit(EXIT_USAGE) from None
    except Exception as exc:
        from sqlalchemy.exc import SQLAlchemyError  # loaded already when one was raised

        if not isinstance(exc, SQLAlchemyError):
            raise
        origin = getattr(exc, "orig", None)
        reason = (str(origin) if origin is not None else str(exc)).splitlines()[0]
        report_error(f"database error: {reason}")
        raise SystemExit(EXIT_USAGE if "connect" in reason.lower() else EXIT_FAILED) from None
    raise SystemExit(result if isinstance(result, int) else 0)
