"""Repository for the log tables (entries, log head, checkpoints): the writes, and the reads the
log itself needs (head, entries, subtree hashes, checkpoints).

SQL lives in repositories: this one for the log; for the projections, `ledger.lineage.projector`
(writes) and `ledger.lineage.queries` and the `ledger.lineage.*_reads` modules (reads, which
join a projection row to the entry that proves it); `ledger.access.api_keys` and
`ledger.privacy.sealing` for the keys. `policies` and `reports` call those functions and import
no SQLAlchemy (an import-linter contract checks it).

Functions take an open Connection and never commit: the caller (the sequencer, the Ledger
facade) owns the transaction, so a batch is one transaction.
"""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, exists, func, insert, select

from ledger.errors import CorruptLedgerError, NotInitializedError
from ledger.log.merkle import HASH_SIZE
from ledger.log.subtrees import Node, closing_seq
from ledger.storage.db import bulk_insert
from ledger.storage.tables import checkpoints, entries, log_head

__all__ = [
    "Head",
    "StoredCheckpoint",
    "checkpoint_at",
    "create_head",
    "entries_of_kinds",
    "entry_rows_from",
    "fetch_entry_data",
    "fetch_entry_row",
    "fetch_nodes",
    "first_missing_seq",
    "insert_checkpoint",
    "insert_entries",
    "iter_entry_rows",
    "latest_checkpoint",
    "list_checkpoints",
    "lock_head",
    "max_seq",
    "read_head",
    "update_head",
]


@dataclass(frozen=True)
class Head:
    origin: str
    size: int
    head_hash: bytes
    last_ts: str
    checkpoint_size: int
    checkpoint_ts: str
    key_id: str


@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    root: bytes
    key_id: str
    ts: str
    note: str


_HEAD_COLUMNS = (
    log_head.c.origin,
    log_head.c.size,
    log_head.c.head_hash,
    log_head.c.last_ts,
    log_head.c.checkpoint_size,
    log_head.c.checkpoint_ts,
    log_head.c.key_id,
)


def read_head(conn: Connection) -> Head:
    row = conn.execute(select(*_HEAD_COLUMNS).where(log_head.c.id == 1)).first()
    if row is None:
        raise NotInitializedError("this ledger is not initialised: run `govledger init`")
    return Head(*row)


# The sequencer's per-append statements, at driver level: building them with SQLAlchemy's
# expression language on every append cost more than running them (bench/profile_hotspots.py).
_HEAD_SQL = "SELECT " + ", ".join(c.name for c in _HEAD_COLUMNS) + " FROM log_head WHERE id = 1"  # noqa: S608
_UPDATE_HEAD_SQL = (
    "UPDATE log_head SET size = {m}, head_hash = {m}, last_ts = {m}, checkpoint_size = {m}, checkpoint_ts = {m}, "
    "key_id = COALESCE({m}, key_id) WHERE id = 1"
)


def _placeholder(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def lock_head(conn: Connection) -> Head:
    """Read the head under the sequencer lock (row lock on PostgreSQL; SQLite holds BEGIN IMMEDIATE)."""
    statement = _HEAD_SQL + (" FOR UPDATE" if conn.dialect.name == "postgresql" else "")
    row = conn.exec_driver_sql(statement).first()
    if row is None:
        raise NotInitializedError("this ledger is not initialised: run `govledger init`")
    origin, size, head_hash, last_ts, checkpoint_size, checkpoint_ts, key_id = row
    return Head(origin, size, bytes(head_hash), last_ts, checkpoint_size, checkpoint_ts, key_id)


def create_head(conn: Connection, origin: str, ts: str, key_id: str) -> None:
    conn.execute(
        insert(log_head).values(
            id=1,
            origin=origin,
            size=0,
            head_hash=bytes(HASH_SIZE),
            last_ts=ts,
            checkpoint_size=0,
            checkpoint_ts=ts,
            key_id=key_id,
        )
    )


def update_head(
    conn: Connection,
    *,
    size: int,
    head_hash: bytes,
    last_ts: str,
    checkpoint_size: int,
    checkpoint_ts: str,
    key_id: str | None = None,
) -> None:
    conn.exec_driver_sql(
        _UPDATE_HEAD_SQL.format(m=_placeholder(conn)),
        (size, head_hash, last_ts, checkpoint_size, checkpoint_ts, key_id),
    )


_INSERT_COLUMNS = ("seq", "leaf_hash", "closes", "kind", "subject", "ts", "body")


def insert_entries(conn: Connection, rows: Sequence[tuple[object, ...]]) -> None:
    """The whole batch at driver level (`ledger.storage.db.bulk_insert`; rows in `_INSERT_COLUMNS` order).

    This bypasses SQLAlchemy's per-row parameter processing, which cost more than the insert
    itself on large batches (the columns need none).
    """
    bulk_insert(conn, entries, rows, columns=_INSERT_COLUMNS)


def fetch_nodes(conn: Connection, nodes: Iterable[Node]) -> dict[Node, bytes]:
    """The stored hashes of perfect subtrees, in one query over the entries that close them."""
    by_seq: dict[int, list[Node]] = defaultdict(list)
    for node in nodes:
        by_seq[closing_seq(node)].append(node)
    if not by_seq:
        return {}
    rows = conn.execute(
        select(entries.c.seq, entries.c.leaf_hash, entries.c.closes).where(entries.c.seq.in_(list(by_seq)))
    ).all()
    found: dict[Node, bytes] = {}
    for seq, leaf, closes in rows:
        for level, index in by_seq[seq]:
            if level == 0:
                found[(level, index)] = bytes(leaf)
            else:
                value = bytes(closes[(level - 1) * HASH_SIZE : level * HASH_SIZE])
                if len(value) != HASH_SIZE:
                    raise CorruptLedgerError(f"entry {seq} does not hold the level-{level} subtree hash it must")
                found[(level, index)] = value
    missing = set(n for ns in by_seq.values() for n in ns) - set(found)
    if missing:
        seqs = sorted(closing_seq(n) for n in missing)
        raise CorruptLedgerError(f"entries {seqs[:5]} are missing from the log")
    return found


def fetch_entry_row(conn: Connection, seq: int) -> tuple[bytes, bytes] | None:
    row = conn.execute(select(entries.c.body, entries.c.leaf_hash).where(entries.c.seq == seq)).first()
    return None if row is None else (bytes(row[0]), bytes(row[1]))


def fetch_entry_data(conn: Connection, seq: int) -> dict[str, Any]:
    """The payload of an entry a projection row points at (so it must exist)."""
    row = fetch_entry_row(conn, seq)
    if row is None:
        raise CorruptLedgerError(f"entry {seq} is missing although a projection refers to it")
    data: dict[str, Any] = json.loads(row[0])["data"]
    return data


def iter_entry_rows(
    conn: Connection, start: int = 0, stop: int | None = None, chunk: int = 5000
) -> Iterator[tuple[int, bytes, bytes, bytes, str, str | None, str]]:
    """Stream (seq, body, leaf_hash, closes, kind, subject, ts) in sequence order.

    Driver-level: deep verification reads every row, and SQLAlchemy's Row objects would cost
    more than the hashing. SQLite reads keyset pages; PostgreSQL one server-side cursor.
    """
    end = 2**63 - 1 if stop is None else stop
    if conn.dialect.name == "postgresql":
        yield from _stream_postgres(conn, start, end, chunk)
        return
    statement = (  # only an int is interpolated
        "SELECT seq, body, leaf_hash, closes, kind, subject, ts FROM entries "  # noqa: S608
        f"WHERE seq >= ? AND seq < ? ORDER BY seq LIMIT {int(chunk)}"
    )
    position = start
    while True:
        rows = conn.exec_driver_sql(statement, (position, end)).fetchall()
        if not rows:
            return
        yield from rows
        position = rows[-1][0] + 1


def _stream_postgres(
    conn: Connection, start: int, end: int, chunk: int
) -> Iterator[tuple[int, bytes, bytes, bytes, str, str | None, str]]:
    """One query through a server-side (named) cursor, fetched `chunk` rows at a time, bytea in binary.

    Why: keyset pages (``WHERE seq >= $1 ORDER BY seq LIMIT n``, as on SQLite) were planned from the
    table's statistics, and before ANALYZE had run on a freshly filled table PostgreSQL chose a bitmap
    scan of every row from $1 on and a sort of them, per page: reading the log cost O(n²) (~11,000
    rows/s over 200,000 entries). A cursor's plan is chosen for a fast start (cursor_tuple_fraction),
    the index order, once; binary results skip the hex text form of bytea.
    """
    driver = conn.connection.driver_connection  # psycopg.Connection, in `conn`'s transaction
    if driver is None:  # pragma: no cover - a live connection always has one
        raise RuntimeError("the connection has no driver connection")
    with driver.cursor(name=f"govledger_scan_{secrets.token_hex(4)}", binary=True) as cursor:
        cursor.itersize = chunk
        cursor.execute(
            "SELECT seq, body, leaf_hash, closes, kind, subject, ts FROM entries "
            "WHERE seq >= %s AND seq < %s ORDER BY seq",
            (start, end),
        )
        while rows := cursor.fetchmany(chunk):
            if isinstance(rows[0][1], bytes):  # psycopg's default bytea loader: the rows as they are
                yield from rows
            else:  # a bytea loader registered elsewhere may give memoryview
                for seq, body, leaf, closes, kind, subject, ts in rows:
                    yield seq, bytes(body), bytes(leaf), bytes(closes), kind, subject, ts


def entries_of_kinds(conn: Connection, kinds: Sequence[str]) -> list[tuple[int, bytes, bytes]]:
    rows = conn.execute(
        select(entries.c.seq, entries.c.body, entries.c.leaf_hash)
        .where(entries.c.kind.in_(kinds))
        .order_by(entries.c.seq)
    ).all()
    return [(seq, bytes(body), bytes(leaf)) for seq, body, leaf in rows]


def entry_rows_from(
    conn: Connection, *, start: int, limit: int, kind: str | None = None, subject: str | None = None
) -> list[tuple[int, bytes, bytes]]:
    """(seq, body, leaf hash) of up to `limit` entries from `start` on, in sequence order,
    optionally of one kind and/or about one subject."""
    query = select(entries.c.seq, entries.c.body, entries.c.leaf_hash).where(entries.c.seq >= start)
    if kind is not None:
        query = query.where(entries.c.kind == kind)
    if subject is not None:
        query = query.where(entries.c.subject == subject)
    rows = conn.execute(query.order_by(entries.c.seq).limit(limit)).all()
    return [(seq, bytes(body), bytes(leaf)) for seq, body, leaf in rows]


def max_seq(conn: Connection) -> int | None:
    value = conn.execute(select(func.max(entries.c.seq))).scalar()
    return None if value is None else int(value)


def first_missing_seq(conn: Connection, size: int) -> int | None:
    """The smallest sequence number below `size` with no row (an index scan, no payloads read)."""
    if size == 0:
        return None
    if conn.execute(select(entries.c.seq).where(entries.c.seq == 0)).first() is None:
        return 0
    following = entries.alias("following")
    gap = conn.execute(
        select(func.min(entries.c.seq) + 1).where(
            entries.c.seq + 1 < size,
            ~exists().where(following.c.seq == entries.c.seq + 1),
        )
    ).scalar()
    return None if gap is None else int(gap)


def insert_checkpoint(conn: Connection, checkpoint: StoredCheckpoint) -> None:
    conn.execute(
        insert(checkpoints).values(
            size=checkpoint.size,
            root=checkpoint.root,
            key_id=checkpoint.key_id,
            ts=checkpoint.ts,
            note=checkpoint.note,
        )
    )


_CP_COLUMNS = (checkpoints.c.size, checkpoints.c.root, checkpoints.c.key_id, checkpoints.c.ts, checkpoints.c.note)


def _to_checkpoint(row: Sequence[object]) -> StoredCheckpoint:
    size, root, key_id, ts, note = row
    return StoredCheckpoint(int(size), bytes(root), str(key_id), str(ts), str(note))  # type: ignore[call-overload]


def latest_checkpoint(conn: Connection) -> StoredCheckpoint | None:
    row = conn.execute(select(*_CP_COLUMNS).order_by(checkpoints.c.size.desc()).limit(1)).first()
    return None if row is None else _to_checkpoint(row)


def checkpoint_at(conn: Connection, size: int) -> StoredCheckpoint | None:
    row = conn.execute(select(*_CP_COLUMNS).where(checkpoints.c.size == size)).first()
    return None if row is None else _to_checkpoint(row)


def list_checkpoints(conn: Connection) -> list[StoredCheckpoint]:
    return [_to_checkpoint(row) for row in conn.execute(select(*_CP_COLUMNS).order_by(checkpoints.c.size)).all()]
