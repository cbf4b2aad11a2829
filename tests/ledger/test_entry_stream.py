"""`store.iter_entry_rows`, the rows deep verification reads: every row in sequence order, a range of
them, and a reader that stops early leaves its connection usable (on PostgreSQL the rows come
through a server-side cursor, which must be closed with the generator)."""

from __future__ import annotations

from sqlalchemy import text

from ledger.api import Ledger, local_actor
from ledger.storage import store


def test_entry_rows_stream_in_order_by_range_and_stop_early(ledger: Ledger) -> None:
    ledger.append_many([{"kind": "note.recorded", "data": {"text": str(i)}} for i in range(12)], actor=local_actor())
    with ledger.read_snapshot() as conn:
        expected = [
            (seq, bytes(body), bytes(leaf), bytes(closes), kind, subject, ts)
            for seq, body, leaf, closes, kind, subject, ts in conn.execute(
                text("SELECT seq, body, leaf_hash, closes, kind, subject, ts FROM entries ORDER BY seq")
            )
        ]
        assert len(expected) == 13
        assert list(store.iter_entry_rows(conn, chunk=5)) == expected
        assert list(store.iter_entry_rows(conn, start=3, stop=9, chunk=4)) == expected[3:9]
        assert list(store.iter_entry_rows(conn, start=13)) == []
        rows = store.iter_entry_rows(conn, chunk=2)
        assert [next(rows)[0], next(rows)[0]] == [0, 1]
        rows.close()  # a verifier that stops at the first problem
        assert conn.execute(text("SELECT COUNT(*) FROM entries")).scalar_one() == 13
        assert [row[0] for row in store.iter_entry_rows(conn, chunk=100)] == list(range(13))
