"""`govledger init --owner-url/--create-roles/--print-role-sql`: migrate as the owner role, run as the app role.

Why: the service's own role must not own the tables, or it could drop or disable the append-only
triggers (issue 15, item 5). The two URLs say who is who: the migration URL's user owns the schema
and runs Alembic; the service's URL's user is the app role, granted only what the service does
(`ledger.storage.roles`). The SQL itself lives there; this module turns options into calls.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from ledger.cli.context import out
from ledger.errors import InvalidInputError
from ledger.storage.db import create_engine, normalise_url
from ledger.storage.migrations import upgrade_to_head
from ledger.storage.roles import apply_grants, check_identifier, create_roles_sql, grant_sql, prepare_app_role

__all__ = ["print_role_sql", "set_up_roles"]


def _postgres(url: str, what: str) -> URL:
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "postgresql":
        raise InvalidInputError(f"{what} must be a postgresql:// URL: roles are a PostgreSQL feature")
    if not parsed.username:
        raise InvalidInputError(f"{what} must name its role (postgresql://ROLE@host/db)")
    return parsed


def _roles(runtime_url: str, owner_url: str) -> tuple[URL, URL]:
    runtime, owner = _postgres(runtime_url, "the database URL"), _postgres(owner_url, "--owner-url")
    if runtime.username == owner.username:
        raise InvalidInputError(
            f"the database URL and --owner-url both connect as {owner.username!r}: the service must not own the tables"
        )
    return runtime, owner


def print_role_sql(runtime_url: str, owner_url: str) -> None:
    """Print the SQL for a DBA: both roles (as a superuser), then the grants the owner applies."""
    runtime, owner = _roles(runtime_url, owner_url)
    app = check_identifier(str(runtime.username), "app role")
    out.print("-- 1. once, as a superuser, in the ledger's database:")
    for statement in create_roles_sql(str(owner.username), app):
        out.print(f"{statement};")
    out.print("-- 2. as the owner, after each migration (`govledger init --owner-url URL` runs both):")
    for statement in grant_sql(app):
        out.print(f"{statement};")


def set_up_roles(runtime_url: str, owner_url: str, *, create: bool) -> None:
    """Migrate as the owner and grant the app role; with `create`, create the app role first."""
    runtime, owner = _roles(runtime_url, owner_url)
    engine = create_engine(owner.render_as_string(hide_password=False))
    try:
        schema = prepare_app_role(engine, str(runtime.username), create=create, password=runtime.password)
        upgrade_to_head(engine)
        apply_grants(engine, str(runtime.username), schema=schema)
    except DBAPIError as exc:
        first = str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc)
        raise InvalidInputError(f"setting up the roles as {owner.username!r} failed: {first}") from None
    finally:
        engine.dispose()
