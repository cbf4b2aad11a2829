"""The sequencer's own WAL checkpoints (`ledger.storage.wal_maintenance`): SQLite's autocheckpoint is
raised out of the way, and the pages reach the database file, in a background thread, once
enough was committed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from ledger.api import Ledger, local_actor
from ledger.storage.db import create_engine
from ledger.storage.sequencer import CheckpointPolicy
from ledger.storage.wal_maintenance import AUTOCHECKPOINT_PAGES, WalCheckpointer


def test_connections_leave_checkpoints_to_the_sequencer(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/l.db")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == AUTOCHECKPOINT_PAGES
    finally:
        engine.dispose()


def test_a_due_checkpoint_copies_the_wal_into_the_database_file(tmp_path: Path) -> None:
    database = tmp_path / "l.db"
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x BLOB)"))
        wal = WalCheckpointer(engine)
        for _ in range(99):
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (randomblob(8000))"))
            wal.committed(8000)
        before = database.stat().st_size
        assert not wal.start_if_due(), "99 small commits are not yet due"
        assert database.stat().st_size == before, "nothing was copied: the pages are still in the WAL"
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (randomblob(8000))"))
        wal.committed(8000)
        assert wal.start_if_due()
        wal.wait()
        assert database.stat().st_size > before + 99 * 8000
        with engine.connect() as conn:
            busy, pages, copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        assert (busy, copied) == (0, pages)
    finally:
        engine.dispose()


def test_appending_batches_keeps_the_database_file_current(tmp_path: Path) -> None:
    database = tmp_path / "l.db"
    ledger = Ledger.open(f"sqlite:///{database}", home=tmp_path, policy=CheckpointPolicy(max_delay_s=None))
    try:
        ledger.init(origin="wal.example/log")
        before = database.stat().st_size
        payload = {"text": "x" * 900}
        for _ in range(3):
            ledger.append_many([{"kind": "note.recorded", "data": payload}] * 1_000, actor=local_actor())
        ledger._sequencer._wal.wait()  # type: ignore[union-attr]  # the background copy
        assert database.stat().st_size > before + 2_000_000  # copied by the sequencer, not at close
    finally:
        ledger.close()
