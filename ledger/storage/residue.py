"""Removing the dead copies of rows a transaction has just overwritten, before that is acknowledged.

Why: crypto-shredding is only as good as the destruction of the key, and neither database
overwrites a row where it stood. SQLite writes the changed page to the ``-wal`` file and leaves the
old image (with the key) in the WAL until a checkpoint copies the pages back and the WAL is reused;
PostgreSQL's UPDATE writes a new row version and leaves the old one (with the key) in the table's
page as a dead tuple until VACUUM prunes it. Both were found holding an erased key after
``DELETE /v1/subjects/X`` had answered (issue 15, item 3). `purge_dead_copies` is what the erasure
runs after its commit and before it answers:

* SQLite (with ``secure_delete=ON``, set on every connection by `ledger.storage.db`, so freed space
  in the database file is zeroed): ``PRAGMA wal_checkpoint(TRUNCATE)`` copies every WAL page into
  the database file and truncates the WAL to zero bytes. It needs no reader to be using an older
  snapshot of the WAL: it waits for them (SQLite's busy handler, up to the time left), and reports
  ``complete=False`` if one still holds it when the time is up.
* PostgreSQL: ``VACUUM`` of the table prunes the dead tuples; it cannot remove one that a
  transaction older than the erasure may still see, so the count of dead tuples left is read back
  and the VACUUM retried until it is zero or the time is up (``complete=False``). Pruning does not
  clear the bytes it frees, so ``VACUUM FULL`` then copies the live rows into fresh pages, and
  ``CHECKPOINT`` writes them out. What this
  does not reach is said in docs/architecture.md ("Erasure off the disk"): the write-ahead log
  (``pg_wal``), its archive, replicas and backups keep the row's history until they are recycled
  or expire.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

__all__ = ["DEFAULT_PURGE_SECONDS", "Purge", "purge_dead_copies"]

log = logging.getLogger(__name__)

DEFAULT_PURGE_SECONDS = 10.0
_SQLITE_BUSY_MS = 30_000  # the engine's own busy timeout (ledger.storage.db), restored afterwards
_PG_INSUFFICIENT_PRIVILEGE = "42501"
_PG_LOCK_NOT_AVAILABLE = "55P03"


@dataclass(frozen=True)
class Purge:
    """Whether every dead copy was confirmed gone from the database's files, and what was done."""

    complete: bool
    detail: str


def purge_dead_copies(engine: Engine, table: str, *, timeout_s: float = DEFAULT_PURGE_SECONDS) -> Purge:
    """Remove the old versions of `table`'s changed rows from the database's files (see module doc).

    Never raises for a database that refuses or is busy: the change itself is committed, so the
    caller reports `Purge.complete` rather than failing a request that did what it was asked.
    """
    if table not in _PURGEABLE:
        raise ValueError(f"{table!r} is not a table whose dead rows are purged")
    deadline = time.monotonic() + timeout_s
    if engine.dialect.name == "sqlite":
        return _purge_sqlite(engine, deadline)
    return _purge_postgres(engine, table, deadline)


_PURGEABLE = frozenset({"subject_keys"})  # the name is spliced into VACUUM: only these may be


def _purge_sqlite(engine: Engine, deadline: float) -> Purge:
    with engine.connect() as conn:
        try:
            while True:
                wait_ms = max(1, int((deadline - time.monotonic()) * 1000))
                conn.exec_driver_sql(f"PRAGMA busy_timeout={wait_ms}")
                busy, wal_frames, copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
                if busy == 0:
                    return Purge(True, "WAL checkpointed into the database file and truncated (secure_delete on)")
                if time.monotonic() >= deadline:
                    log.warning("WAL checkpoint blocked by a reader: %d of %d frames copied", copied, wal_frames)
                    return Purge(
                        False,
                        f"a reader held an older snapshot for the whole wait: {copied} of {wal_frames} WAL "
                        "frames copied; the old page stays in the -wal file until a later checkpoint",
                    )
                time.sleep(0.01)
        finally:
            conn.exec_driver_sql(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")


def _dead_tuples(conn: Connection, table: str) -> int:
    return int(conn.exec_driver_sql(f"SELECT pg_stat_get_dead_tuples('{table}'::regclass)").scalar_one())


def _purge_postgres(engine: Engine, table: str, deadline: float) -> Purge:
    with engine.connect() as raw:
        conn = raw.execution_options(isolation_level="AUTOCOMMIT")  # VACUUM refuses a transaction block
        try:
            refused = _vacuum_until_no_dead_rows(conn, table, deadline) or _rewrite(conn, table, deadline)
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) != _PG_INSUFFICIENT_PRIVILEGE:
                raise
            return Purge(False, f"this role may not VACUUM {table} (it must own it: see the README)")
        if refused is not None:
            return refused
        try:
            conn.exec_driver_sql("CHECKPOINT")
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) != _PG_INSUFFICIENT_PRIVILEGE:
                raise
            return Purge(
                False,
                f"{table} rewritten without its dead row versions; not allowed to CHECKPOINT (grant "
                "pg_checkpoint): the old pages stay in the data files until the server's next checkpoint",
            )
    return Purge(True, f"{table} vacuumed and rewritten (VACUUM FULL), written out by CHECKPOINT")


def _vacuum_until_no_dead_rows(conn: Connection, table: str, deadline: float) -> Purge | None:
    """VACUUM until no dead row version is left (none is still visible to an older transaction)."""
    delay = 0.05
    while True:
        conn.exec_driver_sql(f"VACUUM {table}")
        left = _dead_tuples(conn, table)
        if left == 0:
            return None
        if time.monotonic() >= deadline:
            log.warning("VACUUM %s left %d dead row versions: an older transaction still sees them", table, left)
            return Purge(False, f"{left} dead row version(s) stay until the transactions that see them end")
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def _rewrite(conn: Connection, table: str, deadline: float) -> Purge | None:
    """VACUUM FULL: the table copied into fresh pages, the old file unlinked.

    Why: VACUUM prunes a dead tuple but does not zero the space it frees. When the new version
    went to another page (the old page was full) and the dead one was the lowest on its page,
    nothing is moved over it, and its bytes (the key) stay in the page's free space, readable with
    ``get_raw_page``; compaction also leaves stale copies of moved live rows, a later erasure's
    key among them. Fresh pages hold only the live rows. It takes an exclusive lock on the table
    for the copy (sealing and opening inputs wait), so it waits for that lock at most until the
    deadline.
    """
    wait_ms = max(1, int((deadline - time.monotonic()) * 1000))
    conn.exec_driver_sql(f"SET lock_timeout = {wait_ms}")
    try:
        conn.exec_driver_sql(f"VACUUM FULL {table}")
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != _PG_LOCK_NOT_AVAILABLE:
            raise
        return Purge(False, f"{table} is in use by another transaction: it was not rewritten in time")
    finally:
        conn.exec_driver_sql("RESET lock_timeout")
    return None
