"""The `govledger` command: the composition root of the command line.

Each package keeps its commands in a module-level Typer app (`ledger.cli.*_commands`,
`policies.cli`, `reports.cli`, `govledger.demo.command`), testable on its own with
`CliRunner().invoke(module.app, args, obj=CliState(...))`. This module mounts them all, puts the
settings, the full kind registry and the service into the context (`CliState`), and is the one
place where errors become exit codes (`main`): a domain error is one line on stderr and exit 2
(1 for corrupt stored data), a usage error exit 2, a command whose optional extra is missing one
line naming the extra (`govledger.extras`) and exit 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from govledger.demo import command as demo_command
from govledger.extras import EXTRA_OF_COMMAND, absent_module, command_of, install_hint, missing_extra
from govledger.registry import full_registry
from ledger.cli import backup_commands, lineage_commands, log_commands, pack_commands, serve_command, verify_commands
from ledger.cli.context import CliState
from ledger.cli.errors import EXIT_FAILED, EXIT_USAGE, exit_code_for, one_line, report_error
from ledger.errors import GovledgerError
from policies import cli as policy_commands
from reports import cli as report_commands

if TYPE_CHECKING:
    from fastapi import APIRouter

__all__ = ["app", "main"]

app = typer.Typer(
    name="govledger",
    help="Governance and compliance audit ledger for ML systems: an append-only, Merkle-proven, signed log.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _service_routers() -> Sequence[APIRouter]:
    from govledger.service import service_routers  # FastAPI loads only when a command serves

    return service_routers()


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
    ctx.obj = CliState(
        database_url=database_url,
        home=home,
        kinds=full_registry,
        service_routers=_service_routers,
        service_factory="govledger.service:service_from_env",
    )


for commands in (
    log_commands,
    verify_commands,
    backup_commands,
    pack_commands,
    lineage_commands,
    serve_command,
    demo_command,
    policy_commands,
    report_commands,
):
    app.add_typer(commands.app)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; domain errors become one line on stderr and exit code 2 (or 1 for corrupt data)."""
    args = list(sys.argv[1:] if argv is None else argv)
    needed = EXTRA_OF_COMMAND.get(command_of(args) or "")
    absent = None if needed is None or {"--help", "-h"} & set(args) else absent_module(needed)
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
