"""What every command needs: the settings (env + global options) and a way to open the ledger.

The kind registry the ledger is opened with comes from the composition root (`govledger.cli`
passes `govledger.registry.full_registry`), so a command appends exactly the declared kinds."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from ledger.api import Ledger
from ledger.config import Settings
from ledger.errors import NotFoundError
from ledger.kinds.registry import KindRegistry
from ledger.lineage import open_governance_ledger
from ledger.storage.db import sqlite_file
from ledger.storage.sequencer import CheckpointPolicy

if TYPE_CHECKING:
    from fastapi import APIRouter

__all__ = ["CliState", "err", "out", "print_json", "state"]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)


@dataclass
class CliState:
    """What the composition root (`govledger.cli`) hands every command through the Typer context:
    the global options, how to build the kind registry, and the service the `serve` command runs
    (`service_routers`: the endpoints mounted beside the ledger's; `service_factory`: the import path
    of a function building the whole service from the environment, what each worker runs). A test
    can invoke a command module's `app` directly with `obj=CliState(...)`."""

    database_url: str | None
    home: Path | None
    kinds: Callable[[], KindRegistry]  # builds the registry (called only by commands that need it)
    service_routers: Callable[[], Sequence[APIRouter]] = tuple
    service_factory: str | None = None

    def settings(self) -> Settings:
        return Settings.from_env().with_overrides(database_url=self.database_url, home=self.home)

    def open(self) -> Ledger:
        """Open the ledger for a one-shot command: migrate, and sign a checkpoint after each batch."""
        return open_governance_ledger(
            self.settings(), registry=self.kinds(), policy=CheckpointPolicy(after_batch=True, max_delay_s=None)
        )

    def open_existing(self) -> Ledger:
        """`open`, for commands that read an existing ledger (reports): an SQLite file that does not
        exist is refused (NotFoundError, exit 2) instead of being created empty and left behind."""
        settings = self.settings()
        path = sqlite_file(settings.database_url)
        if path is not None and not path.exists():
            raise NotFoundError(
                f"no ledger at {path}: the database file does not exist "
                "(set GOVLEDGER_DATABASE_URL or --database-url to an existing ledger)"
            )
        return self.open()


def state(ctx: typer.Context) -> CliState:
    """The CliState the composition root put in the context (tests pass `obj=CliState(...)`)."""
    value = ctx.find_object(CliState)
    if value is None:
        raise RuntimeError("a command ran without its CliState: run it through `govledger` or pass obj=CliState(...)")
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
