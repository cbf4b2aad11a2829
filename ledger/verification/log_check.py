"""Verification of a stored log, in layers, with results as data.

- deep: every row re-hashed from its stored bytes, sequence numbers contiguous, every `prev`
  link, the copied columns, every stored subtree hash recomputed, the head row;
- checkpoints: each stored checkpoint's signature against the key ring read from the log, and
  its root against the tree recomputed at its size (deep) or against the stored subtree hashes
  plus a consistency proof from the previous checkpoint (fast);
- against a checkpoint the auditor saved: signature, then truncation (the log is now shorter),
  fork (the tree at that size has another root), and a consistency proof to the current head.

A finding is a `Problem` naming the sequence number where things first go wrong and what is
wrong; verification never raises for tampering. It reads inside one snapshot transaction, so
concurrent appends are neither seen half-way nor reported as forgeries.

Parts: `verify_report` (Problem, VerifyReport), `verify_scan` (the deep pass over every row),
`verify_tree` (fast mode: the tree from stored subtree hashes), `verify_checkpoints` (key ring,
stored checkpoints, a saved checkpoint). This module runs them in order; callers import from here.
"""

from __future__ import annotations

from sqlalchemy import Connection

from ledger.log.note import Verifier
from ledger.storage import store
from ledger.verification.chain_scan import scan_entries
from ledger.verification.checkpoint_check import KEY_KINDS as KEY_KINDS
from ledger.verification.checkpoint_check import check_checkpoints, key_ring_from_log, verify_against_saved
from ledger.verification.issued_report import MAX_PROBLEMS, Problem, VerifyReport
from ledger.verification.issued_report import Progress as Progress
from ledger.verification.tree_check import check_stored_seqs, root_from_nodes

__all__ = ["MAX_PROBLEMS", "Problem", "VerifyReport", "verify_log"]


def verify_log(
    conn: Connection,
    *,
    deep: bool = True,
    against: str | None = None,
    trusted_keys: list[Verifier] | None = None,
    progress: Progress | None = None,
) -> VerifyReport:
    """Verify the log visible on `conn` (which should be a snapshot transaction)."""
    report = VerifyReport(deep=deep)
    head = store.read_head(conn)
    report.size = head.size
    checkpoints = store.list_checkpoints(conn)
    roots_at: dict[int, bytes] = {}
    key_entries = None
    if deep:
        key_entries, roots_at = scan_entries(conn, head, {c.size: c.root for c in checkpoints}, report, progress)
    else:
        check_stored_seqs(conn, head, report)
    ring = key_ring_from_log(conn, key_entries, report)
    if ring is not None and trusted_keys and not any(v in ring.verifiers for v in trusted_keys):
        report.add(0, "untrusted_key_ring", "none of the trusted keys is in this log's key ring")
    if ring is not None and ring.origin != head.origin:
        report.add(0, "origin_mismatch", f"log.created names origin {ring.origin!r}, the head says {head.origin!r}")
    check_checkpoints(conn, checkpoints, ring, head, roots_at, report)
    if not deep and report.ok and head.size:
        report.root = root_from_nodes(conn, head.size)
    uncovered = head.size - report.latest_checkpoint_size
    if uncovered > 0:
        report.warnings.append(
            f"{uncovered} newest entries ({report.latest_checkpoint_size}..{head.size - 1}) "
            "are not yet covered by a signed checkpoint"
        )
    if against is not None:
        verify_against_saved(conn, against, ring, head, roots_at, report)
    return report
