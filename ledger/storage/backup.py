"""A consistent copy of a live ledger: SQLite's online backup API, and the pg_dump line for PostgreSQL.

Why: copying a SQLite ledger's ``.db`` file alone loses what is still in its ``-wal`` (committed
entries, the newest checkpoints), and copying the two files while a writer runs can pair a database
file with a WAL from another moment. SQLite's backup API (``sqlite3.Connection.backup``) copies the
pages through a read transaction instead: with ``pages=-1`` in one step, so the copy is one
snapshot of the database, WAL included, while writers carry on (WAL mode: readers never block
them, nor they the reader). On PostgreSQL, ``pg_dump`` reads the whole database in one
repeatable-read snapshot; `pg_dump_command` gives the line.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from ledger.errors import InvalidInputError

__all__ = ["backup_sqlite", "pg_dump_command", "pg_restore_commands"]


def backup_sqlite(engine: Engine, dest: Path) -> int:
    """Copy the SQLite ledger behind `engine` to `dest` (which must not exist); the pages copied.

    The copy is written to ``DEST.partial``, flushed to disk, then renamed, so `dest` is either
    absent or a whole copy.
    """
    if dest.exists():
        raise InvalidInputError(f"{dest} already exists: give a new file for the backup")
    if not dest.parent.is_dir():
        raise InvalidInputError(f"{dest.parent} is not a directory")
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    raw = engine.raw_connection()
    try:
        source = raw.driver_connection
        if not isinstance(source, sqlite3.Connection):  # pragma: no cover - only SQLite engines come here
            raise InvalidInputError("the online backup is for SQLite ledgers")
        target = sqlite3.connect(partial)
        try:
            source.backup(target, pages=-1)  # one step: one read transaction, one snapshot
            pages = int(target.execute("PRAGMA page_count").fetchone()[0])
        finally:
            target.close()
    finally:
        raw.close()
    with partial.open("rb") as written:
        os.fsync(written.fileno())
    partial.replace(dest)
    return pages


def _libpq_url(url: str) -> str:
    """The URL as libpq (pg_dump, psql) reads it: no SQLAlchemy driver suffix."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def pg_dump_command(url: str, dest: Path) -> list[str]:
    """pg_dump in its custom format (compressed, restorable table by table), one snapshot."""
    return ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={dest}", _libpq_url(url)]


def pg_restore_commands(dest: Path, restored_url: str) -> list[list[str]]:
    """Restoring `dest` into an empty database (created first, e.g. with createdb)."""
    target = f"--dbname={_libpq_url(restored_url)}"
    return [["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", target, str(dest)]]
