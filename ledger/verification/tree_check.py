"""The fast layer: the tree rebuilt from the stored subtree hashes, without reading the entries.

Why: a fast verification (and a check against a saved checkpoint) needs roots and consistency
proofs at checkpoint sizes in O(log n) node reads; in place of the deep scan's row-by-row checks
it asks the database which sequence numbers are stored (gaps, rows beyond the head, truncation).
"""

from __future__ import annotations

from sqlalchemy import Connection

from ledger.log import merkle
from ledger.log.subtrees import consistency_ranges, nodes_for, perfect_subtrees, range_hash
from ledger.storage import store
from ledger.verification.issued_report import VerifyReport

__all__ = ["check_stored_seqs", "consistency_from_nodes", "root_from_nodes"]


def check_stored_seqs(conn: Connection, head: store.Head, report: VerifyReport) -> None:
    """Fast mode's stand-in for the scan: no entry missing below the head, none stored beyond it."""
    last = store.max_seq(conn)
    missing = store.first_missing_seq(conn, head.size)
    if last is not None and last >= head.size:
        report.add(head.size, "beyond_head", f"entries up to {last} are stored beyond the head (size {head.size})")
    if missing is not None:
        report.add(missing, "missing_entry", f"entry {missing} is missing")
    elif (last if last is not None else -1) + 1 < head.size:
        held = 0 if last is None else last + 1
        report.add(
            held,
            "truncated",
            f"the head says {head.size} entries but the log holds {held}: entries from {held} on are missing",
        )


def root_from_nodes(conn: Connection, size: int) -> bytes:
    return range_hash(0, size, store.fetch_nodes(conn, perfect_subtrees(0, size))) if size else merkle.EMPTY_ROOT


def consistency_from_nodes(conn: Connection, old: int, new: int) -> list[bytes]:
    ranges = consistency_ranges(old, new)
    found = store.fetch_nodes(conn, nodes_for(ranges))
    return [range_hash(start, end, found) for start, end in ranges]
