"""The as-of cutoff: the last entry recorded at or before a time.

Why: "as of a time" answers read the projections up to one sequence number. Entry times never
decrease along the log, so that number is found by a k-ary search of point lookups on
`entries.ts` (which is not indexed) in O(log n) queries, rather than by a scan or an index that
every append would pay for.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from ledger.errors import CorruptLedgerError, InvalidInputError
from ledger.lineage.graph_inputs import input_problem, parse_as_of
from ledger.storage import store
from ledger.storage.tables import entries

__all__ = ["last_seq_at"]

_FANOUT = 16  # probes per query when searching for the cutoff


def _probes(below: int, above: int) -> list[int]:
    """Up to _FANOUT distinct sequence numbers strictly between `below` and `above`, evenly spread."""
    count = min(_FANOUT, above - below - 1)
    return [below + (above - below) * i // (count + 1) for i in range(1, count + 1)]


def last_seq_at(conn: Connection, as_of: str) -> int:
    """The last sequence number whose entry has ts <= `as_of` (RFC 3339 UTC), or -1 if none."""
    moment = parse_as_of(as_of)
    if moment is None:
        raise InvalidInputError("as_of is required", [input_problem("as_of", "is required", "missing")])
    return seq_cutoff(conn, moment)


def seq_cutoff(conn: Connection, as_of: str) -> int:
    """`last_seq_at` for an `as_of` already in the fixed-width form of entry times.

    A k-ary search over point lookups of `entries.ts` (valid because entry times never decrease
    along the log): about log_17(n) queries, after a shortcut for times at or after the last entry.
    """
    head = store.read_head(conn)
    if head.last_ts <= as_of:  # last_ts is never before the last entry's ts
        return head.size - 1
    below, above = -1, head.size  # invariant: ts(seq) <= as_of for seq <= below, > as_of for seq >= above
    while above - below > 1:
        probes = _probes(below, above)
        rows = conn.execute(select(entries.c.seq, entries.c.ts).where(entries.c.seq.in_(probes))).all()
        times = {seq: ts for seq, ts in rows}
        for seq in probes:
            if seq not in times:
                raise CorruptLedgerError(f"entry {seq} is missing from the log: run `govledger verify`")
            if times[seq] > as_of:
                above = seq
                break
            below = seq
    return below
