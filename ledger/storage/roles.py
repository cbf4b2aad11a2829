"""Least privilege on PostgreSQL: an owner role that migrates, an app role that the service runs as.

Why: the append-only triggers on `entries` and `checkpoints` only bind a role that cannot drop or
disable them, and PostgreSQL lets a table's owner do both (issue 15, item 5: `init` migrated with
the service's own URL, so the service owned its tables). Here the owner role (the one in the
migration URL) creates and owns the schema; the app role (the one in the service's URL) gets:

* SELECT on every table (the service reads them all) and INSERT on every table but
  `alembic_version` (it appends entries and checkpoints and writes the projections);
* UPDATE on exactly the rows it changes in place (`APP_UPDATES`): the head row the sequencer
  moves, a model's stage, an API key's revocation;
* ownership of `subject_keys` alone: erasure NULLs a key and must then VACUUM the table
  (`ledger.storage.residue`), which PostgreSQL 15 allows only to the owner (PostgreSQL 17 has
  ``GRANT MAINTAIN`` for it). Owning that table lets the app drop or empty it, which destroys keys
  it may already destroy one by one; it gives nothing over the log. A cost: a table owner can add
  triggers to it, which would run as whoever later writes to it, so migrations that write rows of
  `subject_keys` must check its triggers first (none does today);
* DELETE on exactly the tables whose rows end (`APP_DELETES`): the web console's sessions, which
  sign-out and expiry remove (they are not evidence; what a session does is appended as entries);
* membership of ``pg_checkpoint`` (the CHECKPOINT after an erasure's VACUUM).

It cannot UPDATE, DELETE or TRUNCATE entries or checkpoints, DROP or DISABLE a trigger, or change
the schema. Statements here are generated text; the role and schema names are checked identifiers.
"""

from __future__ import annotations

import re

from sqlalchemy import Engine

from ledger.errors import InvalidInputError

__all__ = [
    "APP_DELETES",
    "APP_UPDATES",
    "apply_grants",
    "check_identifier",
    "create_roles_sql",
    "grant_sql",
    "prepare_app_role",
]

# Tables the service UPDATEs (and where): ledger/storage/store.py (log_head), ledger/lineage/projector.py
# (lineage_models: a model's stage), ledger/access/api_keys.py (api_keys: revocation).
APP_UPDATES = ("log_head", "lineage_models", "api_keys")
APP_DELETES = ("console_sessions",)
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def check_identifier(name: str, what: str) -> str:
    """`name` if it is a plain lower-case SQL identifier (spliced unquoted into GRANTs), else refuse."""
    if not _IDENTIFIER.fullmatch(name):
        raise InvalidInputError(f"{what} {name!r} must be a lower-case SQL name: a-z, 0-9 and _, at most 63")
    return name


def create_roles_sql(owner: str, app: str, *, schema: str = "public", app_exists: bool = False) -> list[str]:
    """What a superuser runs once, before the first migration: both roles (passwords are set apart,
    e.g. with psql's \\password), the schema owned by the owner, the app's membership of
    pg_checkpoint, and the owner's membership of the app role (so the owner can hand it
    `subject_keys`)."""
    owner, app = check_identifier(owner, "owner role"), check_identifier(app, "app role")
    schema = check_identifier(schema, "schema")
    create_app = [] if app_exists else [f"CREATE ROLE {app} LOGIN"]
    return [
        f"CREATE ROLE {owner} LOGIN",
        *create_app,
        f"GRANT {app} TO {owner}",
        f"GRANT pg_checkpoint TO {app}",
        f"CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {owner}",
        f"ALTER SCHEMA {schema} OWNER TO {owner}",
    ]


def grant_sql(app: str, *, schema: str = "public") -> list[str]:
    """What the owner runs after each migration (idempotent, grants only): the app role's privileges
    above. Taking ownership needs CREATE on the schema at that moment, so it is lent and taken back."""
    app, schema = check_identifier(app, "app role"), check_identifier(schema, "schema")
    return [
        f"GRANT USAGE ON SCHEMA {schema} TO {app}",
        f"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA {schema} TO {app}",
        f"REVOKE INSERT ON {schema}.alembic_version FROM {app}",
        f"GRANT UPDATE ON {', '.join(f'{schema}.{table}' for table in APP_UPDATES)} TO {app}",
        f"GRANT DELETE ON {', '.join(f'{schema}.{table}' for table in APP_DELETES)} TO {app}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {app}",
        f"GRANT CREATE ON SCHEMA {schema} TO {app}",
        f"ALTER TABLE {schema}.subject_keys OWNER TO {app}",
        f"REVOKE CREATE ON SCHEMA {schema} FROM {app}",
    ]


def _quote_literal(text: str) -> str:
    """A SQL string literal (standard_conforming_strings is on by default): CREATE ROLE takes no
    bind parameters, so the password is spliced as a literal."""
    if "\x00" in text:
        raise InvalidInputError("a role password cannot hold a NUL character")
    return "'" + text.replace("'", "''") + "'"


def prepare_app_role(owner_engine: Engine, app: str, *, create: bool, password: str | None) -> str:
    """Before migrating, as the owner: create the app role if asked (the owner needs CREATEROLE),
    make the owner a member of it and the app a member of pg_checkpoint. Returns the schema."""
    app = check_identifier(app, "app role")
    with owner_engine.begin() as conn:
        schema = check_identifier(str(conn.exec_driver_sql("SELECT current_schema()").scalar_one()), "schema")
        owner = conn.exec_driver_sql("SELECT current_user").scalar_one()
        exists = conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %s", (app,)).first() is not None
        if not exists:
            if not create:
                raise InvalidInputError(f"role {app!r} does not exist: pass --create-roles, or see --print-role-sql")
            secret = "" if password is None else f" PASSWORD {_quote_literal(password)}"
            conn.exec_driver_sql(f"CREATE ROLE {app} LOGIN{secret}")
        conn.exec_driver_sql(f"GRANT {app} TO {check_identifier(str(owner), 'owner role')}")
        conn.exec_driver_sql(f"GRANT pg_checkpoint TO {app}")
    return schema


def apply_grants(owner_engine: Engine, app: str, *, schema: str) -> None:
    """After migrating, as the owner: `grant_sql` in one transaction."""
    with owner_engine.begin() as conn:
        for statement in grant_sql(app, schema=schema):
            conn.exec_driver_sql(statement)
