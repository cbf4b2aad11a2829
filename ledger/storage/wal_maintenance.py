"""Copying SQLite's write-ahead log back into the database file outside the writer queue.

Why: with SQLite's default ``wal_autocheckpoint`` (1,000 pages), the commit that crosses the
threshold also runs the checkpoint (copy the WAL's pages into the database file and fsync it)
before COMMIT returns: 13 ms instead of 5 ms for a 1,000-decision batch, every second batch.
SQLite releases its own write lock before that checkpoint, but the writer is still inside
`ledger.storage.writer_queue`'s queue, so the next writer waited for it. Here the sequencer counts what
it committed and, once enough has gone into the WAL, runs a PASSIVE checkpoint in a background
thread: it copies what no reader still needs, never waits for readers or writers, and runs (in
SQLite's C code, without the GIL) while the next batch is prepared and written. The append that
made it due does not wait for it either: its own commit is already durable in the WAL.

SQLite's own autocheckpoint stays on at a higher threshold (`AUTOCHECKPOINT_PAGES`, 64 MiB of
4 KiB pages) as the bound on the WAL's size should these checkpoints fall behind (a reader
holding an old snapshot keeps pages from being copied). Closing the last connection checkpoints
and removes the WAL, as before.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

__all__ = ["AUTOCHECKPOINT_PAGES", "WalCheckpointer"]

log = logging.getLogger(__name__)

AUTOCHECKPOINT_PAGES = 16_384
_DUE_BYTES = 2_000_000  # entry bytes committed since the last checkpoint (~2 pages of WAL per KiB of entries)
_DUE_COMMITS = 100  # small commits still write several pages each


class WalCheckpointer:
    """Count commits; `start_if_due()` checkpoints in the background once enough has been written
    since the last one (one checkpoint at a time)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._bytes = 0
        self._commits = 0
        self._running: threading.Thread | None = None

    def committed(self, entry_bytes: int) -> None:
        with self._lock:
            self._bytes += entry_bytes
            self._commits += 1

    def start_if_due(self) -> bool:
        """Start a background checkpoint if one is due and none is running (True if started)."""
        with self._lock:
            if self._bytes < _DUE_BYTES and self._commits < _DUE_COMMITS:
                return False
            if self._running is not None and self._running.is_alive():
                return False  # it will be due again after the next commit
            self._bytes = self._commits = 0
            self._running = threading.Thread(target=self.run, name="govledger-wal-checkpoint", daemon=True)
            self._running.start()
            return True

    def wait(self) -> None:
        """Wait for a running checkpoint to end (before the engine is disposed, and in tests)."""
        with self._lock:
            running = self._running
        if running is not None:
            running.join()

    def run(self) -> bool:
        """One PASSIVE checkpoint now (True if it ran); never raises: the next one, or SQLite's
        own, catches up."""
        try:
            with self._engine.connect() as conn:
                busy, wal_pages, copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
            if busy or copied < wal_pages:
                log.debug("WAL checkpoint copied %d of %d pages (busy=%d)", copied, wal_pages, busy)
        except Exception:  # a checkpoint is housekeeping: the commit it follows has succeeded
            log.warning("WAL checkpoint failed; SQLite's autocheckpoint bounds the WAL meanwhile", exc_info=True)
            return False
        return True
