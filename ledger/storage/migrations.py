"""Bring a database to the newest schema with Alembic (the service and CLI call this themselves).

Alembic is imported by the functions that use it, not with this module: importing it costs about
0.1 s, which `import govledger.cli` (and so `govledger --help`) should not pay.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from ledger.errors import InvalidInputError

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["alembic_config", "check_models_match", "current_revision", "head_revision", "upgrade_to_head"]

_PG_INSUFFICIENT_PRIVILEGE = "42501"


def _script_location() -> Path:
    package_dir = Path(__file__).resolve().parent
    for candidate in (package_dir.parents[1] / "alembic", package_dir.parent / "_migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise RuntimeError("govledger's migrations are missing from the installation")


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config(stdout=sys.stdout)  # not Config()'s default: the stdout of when alembic was imported
    config.set_main_option("script_location", str(_script_location()))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade_to_head(engine: Engine) -> None:
    """Apply every pending migration in one transaction (a no-op when already at head)."""
    if current_revision(engine) == head_revision(engine):
        return
    from alembic import command

    config = alembic_config(engine)
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != _PG_INSUFFICIENT_PRIVILEGE:
            raise
        raise InvalidInputError(
            f"the database is at revision {current_revision(engine)}, this govledger needs {head_revision(engine)}, "
            f"and role {engine.url.username!r} may not migrate it: run `govledger init --owner-url OWNER_URL` "
            "(or set GOVLEDGER_MIGRATION_DATABASE_URL) with the tables' owner"
        ) from None


def check_models_match(engine: Engine) -> None:
    """`alembic check`: raise if `ledger.storage.tables` and the migrations disagree."""
    from alembic import command

    config = alembic_config(engine)
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.check(config)
