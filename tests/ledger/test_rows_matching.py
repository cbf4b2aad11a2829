"""`ledger.storage.db.rows_matching`: one query for a list of keys of any length, on both databases,
with the same answer as the per-value IN list it replaced."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, MetaData, String, Table, select

from ledger.storage.db import bulk_insert, create_engine, rows_matching

metadata = MetaData()
things = Table(
    "rows_matching_things", metadata, Column("ref", String(200), primary_key=True), Column("note", String(50))
)
REFS = [f"ref-{i:05d}" for i in range(3_000)] + ["it's", 'say "hi"', "ü-日本", "a,b", "%s", "?", "[1]"]


def test_rows_matching_finds_exactly_the_listed_keys(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            bulk_insert(conn, things, [(ref, f"n{i}") for i, ref in enumerate(REFS)])
        wanted = [*REFS[::3], "absent", "ref-99999", ""]
        with engine.connect() as conn:
            found = rows_matching(conn, things, ["ref", "note"], "ref", wanted)
            reference = conn.execute(select(things.c.ref, things.c.note).where(things.c.ref.in_(wanted))).all()
            assert sorted(found) == sorted(tuple(row) for row in reference)
            assert {ref for ref, _ in found} == set(REFS[::3])
            assert rows_matching(conn, things, ["note"], "ref", ["it's"]) == [("n3000",)]
            assert rows_matching(conn, things, ["ref"], "ref", []) == []
    finally:
        metadata.drop_all(engine)
        engine.dispose()


def test_only_the_tables_own_columns_may_be_named() -> None:
    engine = create_engine("sqlite://")
    try:
        with engine.connect() as conn, pytest.raises(ValueError, match="no columns"):
            rows_matching(conn, things, ["ref", "1; DROP TABLE x"], "ref", ["a"])
        with engine.connect() as conn, pytest.raises(ValueError, match="no columns"):
            rows_matching(conn, things, ["ref"], "ref) OR (1=1", ["a"])
    finally:
        engine.dispose()
