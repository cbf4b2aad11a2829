"""A queue for SQLite writers that wakes the next one as soon as the lock is free.

Why: SQLite's own write lock (``BEGIN IMMEDIATE``) stays the only thing that guarantees one
writer at a time, but a writer that finds it taken waits in SQLite's busy handler, which sleeps
1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50 and then 100 ms between tries. A batch holds the lock for
10-20 ms, so a second process (``govledger serve --workers 2``) overslept most hand-overs: two
workers ingested 0.83x of what one did. Here each writer first takes

* a ``threading.Lock`` (the threads of one process), then
* an exclusive ``flock`` on ``<database>-writers.lock`` beside the database file (the processes),

and only then begins its transaction. The kernel wakes a waiting ``flock`` the moment it is
released, so hand-overs cost microseconds and SQLite's busy handler is almost never reached.

The queue is an optimisation, never a correctness condition: a writer that does not take it
(another tool, an older release) is still serialised by SQLite, just more slowly. Where the lock
file cannot be opened (a read-only directory) or ``fcntl`` does not exist, only the thread lock is
used. In-memory databases and PostgreSQL (whose row lock wakes waiters itself) need no file.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: the thread lock alone
    fcntl = None  # type: ignore[assignment]

__all__ = ["WriterQueue", "lock_file_for"]

log = logging.getLogger(__name__)


def lock_file_for(database: str | None) -> Path | None:
    """The lock file beside an SQLite database file, or None (in memory, no file name)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).with_name(Path(database).name + "-writers.lock")


class WriterQueue:
    """Hold `acquire()` around a write transaction: one writer of this database at a time."""

    def __init__(self, lock_path: Path | None) -> None:
        self._thread_lock = threading.Lock()
        self._lock_path = lock_path
        self._file: IO[bytes] | None = None
        self._file_failed = False
        self._pid = os.getpid()

    def _lock_file(self) -> IO[bytes] | None:
        if self._file is None and not self._file_failed and self._lock_path is not None and fcntl is not None:
            try:
                self._file = self._lock_path.open("ab")  # held for the process's life
            except OSError as exc:
                self._file_failed = True
                log.info(
                    "writer queue: cannot open %s (%s); SQLite's busy handler orders the processes",
                    self._lock_path,
                    exc,
                )
        return self._file

    def _after_fork(self) -> None:
        """A forked child must not share the parent's descriptor (flock would treat them as one
        holder) nor its thread lock (copied in whatever state the parent's threads left it)."""
        self._thread_lock = threading.Lock()
        self._file, self._file_failed, self._pid = None, False, os.getpid()

    @contextmanager
    def acquire(self) -> Iterator[None]:
        if self._pid != os.getpid():
            self._after_fork()
        with self._thread_lock:
            handle = self._lock_file()
            if handle is None:
                yield
                return
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def close(self) -> None:
        with self._thread_lock:
            if self._file is not None:
                self._file.close()
                self._file = None
