"""Rebuild the projections from the log alone, or check that they equal what the log implies.

`rebuild` empties the projection tables and replays every entry, in sequence order, through the
projections its kind declares (`KindRegistry.replay_batch`: the same functions the append hook
runs; an entry of a kind the registry lacks stops the rebuild rather than being skipped). `check` does the same inside
a transaction it rolls back, comparing a digest of each table before and after: equal digests
prove the current-state tables hold exactly what the log says, nothing more, nothing less.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import Connection, Table, delete, select

from ledger.kinds.registry import KindRegistry
from ledger.lineage.tables import PROJECTION_TABLES
from ledger.log.entry import Actor, SealedEntry
from ledger.storage import store

__all__ = ["RebuildReport", "rebuild", "replay", "table_digests"]

_BATCH = 5000


@dataclass
class RebuildReport:
    entries_replayed: int = 0
    tables: dict[str, dict[str, object]] = field(default_factory=dict)

    @property
    def matches(self) -> bool:
        return all(t["matches"] for t in self.tables.values())

    def as_json(self) -> dict[str, object]:
        return {"matches": self.matches, "entries_replayed": self.entries_replayed, "tables": self.tables}


def _table_digest(conn: Connection, table: Table) -> tuple[int, str]:
    digest = hashlib.sha256()
    count = 0
    order = [c for c in table.primary_key.columns]
    for row in conn.execute(select(table).order_by(*order)):
        digest.update(json.dumps([str(v) for v in row], ensure_ascii=False).encode() + b"\n")
        count += 1
    return count, digest.hexdigest()


def table_digests(conn: Connection) -> dict[str, tuple[int, str]]:
    return {table.name: _table_digest(conn, table) for table in PROJECTION_TABLES}


def _sealed_entries(conn: Connection) -> Iterator[SealedEntry]:
    for seq, body, leaf, _closes, kind, subject, ts in store.iter_entry_rows(conn):
        envelope = json.loads(body)
        actor = envelope["actor"]
        yield SealedEntry(seq, ts, kind, subject, body, leaf, envelope["data"], Actor(actor["id"], actor["name"]))


def replay(conn: Connection, registry: KindRegistry) -> int:
    """Empty the projections and apply every entry again; returns the number of entries read."""
    for table in reversed(PROJECTION_TABLES):
        conn.execute(delete(table))
    count = 0
    batch: list[SealedEntry] = []
    for entry in _sealed_entries(conn):
        batch.append(entry)
        if len(batch) >= _BATCH:
            registry.replay_batch(conn, batch)
            count += len(batch)
            batch = []
    registry.replay_batch(conn, batch)
    return count + len(batch)


def rebuild(conn: Connection, registry: KindRegistry) -> RebuildReport:
    """Replay the log into the projections on `conn` (the caller commits, or rolls back for a check)."""
    before = table_digests(conn)
    report = RebuildReport(entries_replayed=replay(conn, registry))
    after = table_digests(conn)
    for name, (rows_before, digest_before) in before.items():
        rows_after, digest_after = after[name]
        report.tables[name] = {
            "rows_before": rows_before,
            "rows_rebuilt": rows_after,
            "matches": digest_before == digest_after,
        }
    return report
