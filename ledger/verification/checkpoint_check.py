"""The signed layers: the key ring read from the log, each stored checkpoint's signature and root,
and the log checked against a checkpoint the auditor saved.

Why: a rewritten and re-hashed log passes the deep scan; only signatures over roots (and, against
an operator holding the signing key, checkpoints kept outside the log) tell it from the original.
Per checkpoint, not per entry, so none of this is on the hot path.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection

from ledger.log import checkpoint as cp
from ledger.log import merkle
from ledger.log.signing_keys import KeyRing, KeyRingError
from ledger.storage import store
from ledger.verification.issued_report import VerifyReport
from ledger.verification.tree_check import consistency_from_nodes, root_from_nodes

__all__ = ["KEY_KINDS", "check_checkpoints", "key_ring_from_log", "verify_against_saved"]

KEY_KINDS = ("log.created", "key.rotated")


def key_ring_from_log(
    conn: Connection, key_entries: list[tuple[int, dict[str, Any]]] | None, report: VerifyReport
) -> KeyRing | None:
    if key_entries is None:
        key_entries = []
        for seq, body, stored_leaf in store.entries_of_kinds(conn, KEY_KINDS):
            if merkle.leaf_hash(body) != stored_leaf:
                report.add(seq, "leaf_mismatch", f"key entry {seq}: its bytes do not hash to its stored leaf hash")
                continue
            key_entries.append((seq, json.loads(body)))
    try:
        return KeyRing.from_entries(key_entries)
    except KeyRingError as exc:
        report.add(exc.seq, "bad_key_entry", str(exc))
        return None


def _check_signature(stored: store.StoredCheckpoint, ring: KeyRing | None, report: VerifyReport) -> bool:
    seq = max(stored.size - 1, 0)
    if ring is None:
        report.add(seq, "bad_signature", f"checkpoint {stored.size}: no key ring to check it against")
        return False
    try:
        opened = cp.open_signed(stored.note, ring.verifiers_at(stored.size), origin=ring.origin)
    except cp.CheckpointError as exc:
        retired = [r for r in ring.records if r.verifier.key_id_hex == stored.key_id and r.retired_at is not None]
        detail = f"signed by key {stored.key_id}, retired at entry {retired[0].retired_at}" if retired else str(exc)
        report.add(seq, "bad_signature", f"checkpoint {stored.size}: {detail}")
        return False
    if opened.size != stored.size or opened.root != stored.root:
        report.add(seq, "checkpoint_mismatch", f"checkpoint {stored.size}: its columns disagree with its signed text")
        return False
    return True


def check_checkpoints(
    conn: Connection,
    checkpoints: list[store.StoredCheckpoint],
    ring: KeyRing | None,
    head: store.Head,
    roots_at: dict[int, bytes],
    report: VerifyReport,
) -> None:
    """Each stored checkpoint: present in the log, signed by a key of the ring, and with the root
    of the tree at its size (deep: as the scan recomputed it; fast: from the stored subtree
    hashes, with a consistency proof from the previous checkpoint)."""
    deep = report.deep
    previous: store.StoredCheckpoint | None = None
    for stored in checkpoints:
        report.checkpoints_checked += 1
        seq = max(stored.size - 1, 0)
        if (stored.size > report.entries_checked and deep) or stored.size > head.size:
            held = report.entries_checked if deep else head.size
            report.add(
                held,
                "truncated",
                f"checkpoint {stored.size} was signed, but the log holds {held} entries: "
                f"entries from {held} on were removed",
                span=(held, stored.size - 1),
            )
            continue
        signed = _check_signature(stored, ring, report)
        if deep:
            root = roots_at.get(stored.size)
        else:
            try:
                root = root_from_nodes(conn, stored.size)
                if previous is not None:
                    merkle.verify_consistency(
                        previous.size,
                        stored.size,
                        previous.root,
                        stored.root,
                        consistency_from_nodes(conn, previous.size, stored.size),
                    )
            except merkle.ProofError as exc:
                report.add(
                    seq,
                    "inconsistent_checkpoints",
                    f"checkpoints {previous.size if previous else 0} -> {stored.size}: {exc}",
                )
            except Exception as exc:
                report.add(seq, "missing_entry", f"checkpoint {stored.size}: {exc}")
                root = None
        if root is not None and root != stored.root:
            good = max(report.matched_sizes, default=0)
            report.add(
                good if good == stored.size - 1 else None,  # one entry between the two roots: pinned
                "root_mismatch",
                f"checkpoint {stored.size}: the log's tree at that size has root "
                f"{root.hex()}, the signed checkpoint says {stored.root.hex()}: an entry in "
                f"{good}..{stored.size - 1} differs from what was signed",
                span=(good, stored.size - 1),
            )
        elif root is not None and signed:
            report.matched_sizes.append(stored.size)
        previous = stored
    if checkpoints:
        report.latest_checkpoint_size = checkpoints[-1].size


def verify_against_saved(
    conn: Connection,
    note: str,
    ring: KeyRing | None,
    head: store.Head,
    roots_at: dict[int, bytes],
    report: VerifyReport,
) -> None:
    """Check the log against a checkpoint saved earlier by the auditor."""
    try:
        claimed = cp.parse_unverified(note)
    except cp.CheckpointError as exc:
        report.add(None, "bad_checkpoint", f"the saved checkpoint is malformed: {exc}")
        return
    size = claimed.size
    report.against = {"size": size, "root": claimed.root.hex(), "origin": claimed.checkpoint.origin}
    seq = max(size - 1, 0)
    try:
        cp.open_signed(note, ring.verifiers_at(size) if ring else [], origin=head.origin)
    except cp.CheckpointError as exc:
        report.add(seq, "bad_signature", f"the saved checkpoint does not verify against this log's keys: {exc}")
        return
    held = min(head.size, report.entries_checked) if report.deep else head.size
    if size > held:
        report.add(
            held,
            "truncated",
            f"the saved checkpoint covers {size} entries but the log now holds {held}: "
            f"the log was truncated; entries {held}..{size - 1} are gone",
            span=(held, size - 1),
        )
        return
    try:
        root = roots_at.get(size) or root_from_nodes(conn, size)
    except Exception as exc:
        report.add(seq, "missing_entry", f"cannot rebuild the tree at size {size}: {exc}")
        return
    if root != claimed.root:
        good = max((s for s in report.matched_sizes if s <= size), default=0)
        report.add(
            good if good == seq else None,
            "forked",
            f"the log's tree at size {size} has root {root.hex()}, but the saved checkpoint "
            f"says {claimed.root.hex()}: an entry in {good}..{seq} was rewritten",
            span=(good, seq),
        )
        return
    if head.size > size:
        try:
            merkle.verify_consistency(
                size,
                head.size,
                claimed.root,
                root_from_nodes(conn, head.size),
                consistency_from_nodes(conn, size, head.size),
            )
        except (merkle.ProofError, Exception) as exc:
            report.add(seq, "forked", f"no valid consistency proof from the saved checkpoint to the head: {exc}")
            return
    report.against["consistent"] = True
