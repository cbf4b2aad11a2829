"""The database tables (SQLAlchemy Core). Alembic migrations create them; `alembic check` keeps
this module and the migrations equal.

- `entries`: the log. `body` holds the exact canonical bytes that were hashed; `closes` holds the
  hashes of the perfect subtrees this entry completes (level 1 upwards, 32 bytes each), so proofs
  read O(log n) rows (see `ledger.log.subtrees`). `kind` and `subject` are copies of body fields for
  queries; deep verification checks they agree with the body. Only `kind` is indexed (the key
  ring and per-kind listings need it, and its inserts stay local); an index on `subject` spread
  each batch's inserts over the whole B-tree and halved batched appends on SQLite at 1M entries.
  Per-object queries go through the lineage projections, which index what they need. UPDATE and DELETE are refused by
  triggers (see the first migration).
- `log_head`: one row, locked by the sequencer: the size and last leaf hash of the log, the newest
  checkpoint, and the id of the current signing key (so a writer holding a rotated-out key is refused).
- `checkpoints`: every signed checkpoint the log issued, as its exact signed-note text (append-only too).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = ["SEQ", "checkpoints", "entries", "log_head", "metadata"]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BIGINT on PostgreSQL; INTEGER on SQLite so the key is the rowid (much faster appends).
SEQ = BigInteger().with_variant(Integer(), "sqlite")

entries = Table(
    "entries",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("closes", LargeBinary, nullable=False),
    Column("kind", String(64), nullable=False, index=True),
    Column("subject", String(256), nullable=True),  # not indexed: see the module docstring
    Column("ts", String(32), nullable=False),
    Column("body", LargeBinary, nullable=False),
)

log_head = Table(
    "log_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("origin", String(200), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("head_hash", LargeBinary(32), nullable=False),
    Column("last_ts", String(32), nullable=False),
    Column("checkpoint_size", BigInteger, nullable=False),
    Column("checkpoint_ts", String(32), nullable=False),
    Column("key_id", String(8), nullable=False),  # the current signing key: a stale writer is refused
    CheckConstraint("id = 1", name="single_row"),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("size", SEQ, primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("key_id", String(8), nullable=False),
    Column("ts", String(32), nullable=False),
    Column("note", Text, nullable=False),
)
