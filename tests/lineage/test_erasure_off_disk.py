"""Erasure off the disk: once `erase_subject` (DELETE /v1/subjects/X) has returned, the destroyed
key's bytes are in none of the database's files (SQLite: the database, its -wal and -shm) or pages
(PostgreSQL: every heap page of `subject_keys`, read raw with pageinspect), and when a reader of an
older snapshot keeps a copy alive past the wait, the acknowledgement says so instead of claiming it.

Each test first shows the key is where the test looks (so it can fail), then erases and looks again.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from ledger.api import Ledger
from ledger.errors import ConflictError
from ledger.privacy.sealing import erase_subject, get_or_create_subject_key, read_decision_input
from ledger.storage.residue import purge_dead_copies
from tests.conftest import PG_URL
from tests.lineage.factories import RISK_OFFICER, build_chain
from tests.lineage.test_privacy import APPLICANT, record, stored_key

SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
POSTGRES = pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)


def _keys(gov: Ledger, *subjects: str) -> list[bytes]:
    with gov.engine.connect() as conn:
        keys = [stored_key(conn, subject)[0] for subject in subjects]
    assert all(key is not None for key in keys)
    return [key for key in keys if key is not None]


def _sqlite_paths(gov: Ledger) -> list[Path]:
    database = make_url(str(gov.engine.url)).database
    assert database
    return [Path(database + suffix) for suffix in ("", "-wal", "-shm")]


def _sqlite_bytes(gov: Ledger) -> bytes:
    return b"".join(path.read_bytes() for path in _sqlite_paths(gov) if path.exists())


@SQLITE
def test_sqlite_key_is_in_no_file_once_the_erasure_returns(gov: Ledger) -> None:
    facts = build_chain(gov)
    record(gov, facts, "d-1", "applicant-1", APPLICANT)
    record(gov, facts, "d-2", "applicant-2", APPLICANT)
    key, kept = _keys(gov, "applicant-1", "applicant-2")
    assert key in _sqlite_bytes(gov), "the test must see the key in the files before the erasure"

    erasure = erase_subject(gov, "applicant-1", reason="request", actor=RISK_OFFICER)

    assert erasure.purged, erasure.purge_detail
    for path in _sqlite_paths(gov):  # read straight after the answer: no checkpoint of the test's own
        assert not path.exists() or key not in path.read_bytes(), path
    assert kept in _sqlite_bytes(gov)
    assert gov.verify(deep=True).ok


@SQLITE
def test_sqlite_erasure_waits_for_a_reader_then_purges(gov: Ledger) -> None:
    facts = build_chain(gov)
    record(gov, facts, "d-1", "applicant-1", APPLICANT)
    (key,) = _keys(gov, "applicant-1")
    reader = sqlite3.connect(str(_sqlite_paths(gov)[0]), isolation_level=None, check_same_thread=False)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM subject_keys").fetchone()  # holds a snapshot from before the erasure
    ending = threading.Timer(0.3, reader.execute, ("COMMIT",))
    ending.start()
    try:
        started = time.monotonic()
        erasure = erase_subject(gov, "applicant-1", reason="request", actor=RISK_OFFICER, purge_seconds=10)
        waited = time.monotonic() - started
    finally:
        ending.join()
        reader.close()
    assert erasure.purged, erasure.purge_detail
    assert waited >= 0.25, "the checkpoint could not have completed while the reader held its snapshot"
    assert key not in _sqlite_bytes(gov)


@SQLITE
def test_sqlite_erasure_says_so_when_a_reader_outlasts_the_wait(gov: Ledger) -> None:
    facts = build_chain(gov)
    seq, sealed = record(gov, facts, "d-1", "applicant-1", APPLICANT)
    (key,) = _keys(gov, "applicant-1")
    reader = sqlite3.connect(str(_sqlite_paths(gov)[0]), isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM subject_keys").fetchone()
    try:
        erasure = erase_subject(gov, "applicant-1", reason="request", actor=RISK_OFFICER, purge_seconds=0.3)
        assert not erasure.purged
        assert "reader" in erasure.purge_detail
        with gov.engine.connect() as conn:  # committed all the same: the key is unusable
            assert read_decision_input(conn, "applicant-1", "d-1", sealed).erased_at == erasure.ts  # type: ignore[union-attr]
        assert gov.get(erasure.seq).kind == "subject.erased" and erasure.seq > seq
    finally:
        reader.execute("COMMIT")
        reader.close()
    assert purge_dead_copies(gov.engine, "subject_keys").complete
    assert key not in _sqlite_bytes(gov)


def _pageinspect() -> None:
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect SCHEMA public"))
    admin.dispose()


def _raw_page_hits(gov: Ledger, key: bytes) -> tuple[int, int]:
    """(heap pages of subject_keys whose raw 8 KiB hold `key`, tuples whose data holds it), read with
    pageinspect: every page, free space and dead tuples included."""
    _pageinspect()
    with gov.engine.connect() as conn:
        pages = conn.execute(
            text("SELECT pg_relation_size('subject_keys') / current_setting('block_size')::int")
        ).scalar_one()
        raw = items = 0
        for block in range(pages):
            page = conn.execute(text("SELECT public.get_raw_page('subject_keys', :b)"), {"b": block}).scalar_one()
            raw += key in bytes(page)
            items += conn.execute(
                text(
                    "SELECT COUNT(*) FROM public.heap_page_items(public.get_raw_page('subject_keys', :b)) "
                    "WHERE position(:k IN t_data) > 0"
                ),
                {"b": block, "k": key},
            ).scalar_one()
    return raw, items


@POSTGRES
def test_postgres_heap_pages_hold_no_copy_once_the_erasure_returns(gov: Ledger) -> None:
    facts = build_chain(gov)
    record(gov, facts, "d-1", "applicant-1", APPLICANT)
    record(gov, facts, "d-2", "applicant-2", APPLICANT)
    key, kept = _keys(gov, "applicant-1", "applicant-2")
    assert _raw_page_hits(gov, key) == (1, 1), "the test must see the key in the pages before the erasure"

    erasure = erase_subject(gov, "applicant-1", reason="request", actor=RISK_OFFICER)

    assert erasure.purged, erasure.purge_detail
    assert _raw_page_hits(gov, key) == (0, 0)
    assert _raw_page_hits(gov, kept) == (1, 1)
    assert gov.verify(deep=True).ok


@POSTGRES
def test_postgres_erasure_says_so_when_an_older_transaction_outlasts_the_wait(gov: Ledger) -> None:
    facts = build_chain(gov)
    record(gov, facts, "d-1", "applicant-1", APPLICANT)
    (key,) = _keys(gov, "applicant-1")
    with gov.engine.connect() as reader:
        reader = reader.execution_options(isolation_level="REPEATABLE READ")
        with reader.begin():
            reader.execute(text("SELECT COUNT(*) FROM subject_keys")).scalar_one()  # a snapshot from before
            erasure = erase_subject(gov, "applicant-1", reason="request", actor=RISK_OFFICER, purge_seconds=0.3)
            assert not erasure.purged
            assert "dead row version" in erasure.purge_detail
            assert _raw_page_hits(gov, key)[1] == 1, "the old version is still there: the answer is honest"
    assert purge_dead_copies(gov.engine, "subject_keys").complete
    assert _raw_page_hits(gov, key) == (0, 0)


@POSTGRES
def test_postgres_no_copy_when_the_key_row_was_the_last_on_a_full_page(gov: Ledger) -> None:
    """The erased row is the lowest tuple of a full page, so its new version goes to another page and
    pruning moves nothing over the dead one: VACUUM alone left the key in the page's free space."""
    _pageinspect()
    subjects = [f"applicant-{i:04d}" for i in range(400)]
    with gov.engine.begin() as conn:
        for subject in subjects:
            get_or_create_subject_key(conn, subject, "2026-11-23T10:00:00.000000Z")
    with gov.engine.connect() as conn:
        last = conn.execute(
            text(
                "SELECT subject_ref FROM subject_keys WHERE (ctid::text::point)[0] = 0 "
                "ORDER BY (ctid::text::point)[1] DESC LIMIT 1"
            )
        ).scalar_one()
        free = conn.execute(
            text("SELECT upper - lower FROM public.page_header(public.get_raw_page('subject_keys', 0))")
        ).scalar_one()
    assert free < 100, "page 0 must be full for the new version to go elsewhere"
    (key,) = _keys(gov, last)
    assert _raw_page_hits(gov, key) == (1, 1)

    erasure = erase_subject(gov, last, reason="request", actor=RISK_OFFICER)

    assert erasure.purged, erasure.purge_detail
    assert _raw_page_hits(gov, key) == (0, 0)
    others = _keys(gov, *(s for s in subjects[:5] if s != last))
    assert all(_raw_page_hits(gov, other)[1] == 1 for other in others)


@SQLITE
def test_a_retried_erasure_purges_what_a_crash_before_the_purge_left(gov: Ledger) -> None:
    """The erasure committed but the process died before its purge (here: the entry appended the raw
    way, which purges nothing); the client retries DELETE, is told 409, and the copy is gone."""
    facts = build_chain(gov)
    record(gov, facts, "d-1", "applicant-1", APPLICANT)
    (key,) = _keys(gov, "applicant-1")
    gov.append("subject.erased", {"subject_ref": "applicant-1", "reason": "request"}, actor=RISK_OFFICER)
    assert key in _sqlite_bytes(gov), "without a purge the old page is still in the WAL"
    with pytest.raises(ConflictError, match="already erased"):
        erase_subject(gov, "applicant-1", reason="retry", actor=RISK_OFFICER)
    assert key not in _sqlite_bytes(gov)


@SQLITE
def test_govledger_append_of_an_erasure_purges_too(
    gov: Ledger, home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from govledger.cli import main

    facts = build_chain(gov)
    record(gov, facts, "d-1", "applicant-1", APPLICANT)
    (key,) = _keys(gov, "applicant-1")
    with gov.engine.connect() as conn:  # the service's pool keeps a connection open, as a live service does
        conn.exec_driver_sql("SELECT 1").all()
        erased = '{"subject_ref": "applicant-1", "reason": "request"}'
        args = ["--database-url", str(gov.engine.url), "--home", str(home)]
        with pytest.raises(SystemExit) as exited:
            main([*args, "append", "--kind", "subject.erased", "--data", erased, "--subject", "subject:applicant-1"])
        assert exited.value.code == 0, capsys.readouterr().err
        assert key not in _sqlite_bytes(gov)
