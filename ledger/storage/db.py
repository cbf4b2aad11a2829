"""Database URLs and engines for the two supported back ends: SQLite (embedded) and PostgreSQL.

SQLite runs in WAL mode with synchronous=FULL (an acknowledged append survives power loss) and
a 30 s busy timeout; the sequencer checkpoints the WAL itself (`ledger.storage.wal_maintenance`). Write
transactions that need the sequencer lock are opened with ``BEGIN IMMEDIATE`` (execution option
``sqlite_immediate``), so two writers never interleave; readers use plain ``BEGIN`` and are not
blocked under WAL. On PostgreSQL the sequencer locks the
head row instead (``SELECT … FOR UPDATE``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, event
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ledger.errors import InvalidInputError
from ledger.storage.wal_maintenance import AUTOCHECKPOINT_PAGES

__all__ = [
    "DEFAULT_DB_FILE",
    "Connection",  # re-exported: policies and reports annotate the handle they pass back to ledger's reads
    "before_log_size",
    "bulk_insert",
    "create_engine",
    "default_url",
    "is_sqlite",
    "normalise_url",
    "rows_matching",
    "sqlite_file",
]

DEFAULT_DB_FILE = "govledger.db"


def default_url(cwd: Path | None = None) -> str:
    return f"sqlite:///{(cwd or Path.cwd()) / DEFAULT_DB_FILE}"


def normalise_url(url: str) -> str:
    """Accept the URLs people write (postgres://, postgresql://) and pick our drivers."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidInputError(f"not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend not in ("sqlite", "postgresql"):
        raise InvalidInputError(f"unsupported database {backend!r}: use sqlite:///FILE or postgresql://…")
    return parsed.render_as_string(hide_password=False)


def sqlite_file(url: str) -> Path | None:
    """The file an SQLite URL names (None for another database or an in-memory one), so a command
    that must not create a ledger can tell first whether there is one."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see _on_begin)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA secure_delete=ON")  # erased subject keys are overwritten, not just unlinked
        cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")  # see ledger.storage.wal_maintenance
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_engine(url: str) -> Engine:
    """An engine for `url` with the settings the ledger relies on."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa_create_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    return sa_create_engine(url, pool_pre_ping=True)


def bulk_insert(
    conn: Connection,
    table: Table,
    rows: Sequence[tuple[Any, ...]],
    *,
    columns: Sequence[str] | None = None,
    skip_existing: bool = False,
) -> int:
    """Insert `rows` (tuples in the order of `columns`, by default the table's; values the driver
    takes as they are: str, int, bool, bytes, None) with one driver-level executemany; the number
    of rows inserted (sqlite3 and psycopg both sum the executemany's row counts).

    Why: SQLAlchemy's per-row parameter processing costs more than the insert itself on batches
    of a thousand rows. (Multi-row ``VALUES (…), (…)`` statements were tried for PostgreSQL and
    were 45% slower than psycopg's pipelined executemany.) `skip_existing` adds
    ``ON CONFLICT DO NOTHING`` (both back ends).
    """
    if not rows:
        return 0
    names = list(columns) if columns is not None else [column.name for column in table.columns]
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    values = ", ".join([marker] * len(names))
    conflict = " ON CONFLICT DO NOTHING" if skip_existing else ""
    statement = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({values}){conflict}"  # noqa: S608
    return int(conn.exec_driver_sql(statement, list(rows)).rowcount)


def before_log_size(seq_column: Any, as_of: int | None) -> list[Any]:
    """The WHERE clause that keeps rows whose entry lies before log size `as_of` (none: every row),
    for reads that must answer as the log stood at one size (reports read one snapshot of it)."""
    return [] if as_of is None else [seq_column < as_of]


def rows_matching(
    conn: Connection, table: Table, columns: Sequence[str], key: str, values: Sequence[str]
) -> list[tuple[Any, ...]]:
    """`columns` of the rows of `table` whose `key` is one of `values` (strings), in one query
    whatever the number of values.

    Why: ``column.in_([...])`` makes SQLAlchemy compile a statement with one parameter per value
    (and chunks of 500 to stay under SQLite's parameter limit); on 1,000-decision batches that
    compilation cost more than the lookups. Here the list is one parameter: a JSON array read with
    ``json_each`` on SQLite, an array with ``= ANY`` on PostgreSQL.
    """
    unknown = {*columns, key} - set(table.c.keys())
    if unknown:  # the names are spliced into the SQL: only the table's own columns may be
        raise ValueError(f"{table.name} has no columns {sorted(unknown)}")
    if not values:
        return []
    names = ", ".join(columns)
    parameter: str | list[str]
    if conn.dialect.name == "sqlite":
        where, parameter = f"{key} IN (SELECT value FROM json_each(?))", json.dumps(list(values))  # noqa: S608
    else:
        where, parameter = f"{key} = ANY(%s)", list(values)
    statement = f"SELECT {names} FROM {table.name} WHERE {where}"  # noqa: S608 - names come from Table objects
    return [tuple(row) for row in conn.exec_driver_sql(statement, (parameter,))]
