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
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

from sqlalchemy import Connection

from ledger import checkpoint as cp
from ledger import merkle, store
from ledger.canonical import canonical_json
from ledger.entry import GENESIS_PREV
from ledger.keys import KeyRing, KeyRingError
from ledger.note import Verifier
from ledger.subtrees import Frontier, consistency_ranges, nodes_for, perfect_subtrees, range_hash

__all__ = ["MAX_PROBLEMS", "Problem", "VerifyReport", "verify_log"]

MAX_PROBLEMS = 50
KEY_KINDS = ("log.created", "key.rotated")
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Problem:
    """One finding. `seq` is the first sequence number affected (None when not tied to one)."""

    seq: int | None
    code: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "code": self.code, "message": self.message}


@dataclass
class VerifyReport:
    deep: bool
    size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    entries_checked: int = 0
    checkpoints_checked: int = 0
    latest_checkpoint_size: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    against: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None

    def add(self, seq: int | None, code: str, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(seq, code, message))

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "deep": self.deep,
            "size": self.size,
            "root": self.root.hex(),
            "entries_checked": self.entries_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "latest_checkpoint_size": self.latest_checkpoint_size,
            "first_bad_seq": self.first_bad_seq,
            "problems": [p.as_json() for p in self.problems],
            "warnings": self.warnings,
            "against": self.against,
        }


# The envelope after `data`, in RFC 8785 key order. The envelope's own `,"kind":"` is the last raw
# occurrence in the body: no later field (kind, prev, seq, subject, ts, v) can hold an unescaped quote.
_TAIL = re.compile(
    rb',"kind":"([a-z0-9_.]{1,64})","prev":"([0-9a-f]{64})","seq":(0|[1-9][0-9]*),'
    rb'"subject":(null|"(?:[^"\\]|\\.)*"),"ts":"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{15}Z)","v":1}\Z'
)


def _tail_fields(body: bytes) -> tuple[str, str, int, str | None] | None:
    """(kind, prev hex, seq, subject) read from the end of the body without decoding the payload,
    or None if the body is not a well-formed entry envelope."""
    position = body.rfind(b',"kind":"')
    if position < 0 or not body.startswith(b'{"actor":'):
        return None
    match = _TAIL.match(body, position)
    if match is None:
        return None
    kind, prev, seq, subject_json, _ts = match.groups()
    if subject_json == b"null":
        subject = None
    elif b"\\" in subject_json:
        subject = json.loads(subject_json)
    else:
        subject = subject_json[1:-1].decode("utf-8", "replace")
    return kind.decode(), prev.decode(), int(seq), subject


_TAIL_END = b'","v":1}'
_TS_AND_END = 27 + len(_TAIL_END)  # RFC 3339 with microseconds, then the closing bytes


def _tail_is(body: bytes, kind: str, prev: bytes, seq: int, subject: str | None) -> bool:
    """Fast path: does the body end with exactly the envelope fields the row claims?

    Builds the expected bytes from the row (kind, subject columns), the previous leaf hash and the
    sequence number, and compares one slice: no parsing on the common, intact path.
    """
    if subject is None:
        subject_json = b"null"
    elif '"' in subject or "\\" in subject:
        subject_json = canonical_json(subject)
    else:
        subject_json = b'"' + subject.encode() + b'"'
    expected = b"".join(
        (
            b',"kind":"',
            kind.encode(),
            b'","prev":"',
            prev.hex().encode(),
            b'","seq":',
            str(seq).encode(),
            b',"subject":',
            subject_json,
            b',"ts":"',
        )
    )
    end = len(body) - _TS_AND_END
    return body.endswith(_TAIL_END) and body[end - len(expected) : end] == expected


def _diagnose_tail(body: bytes, kind: str, prev: bytes, seq: int, subject: str | None, report: VerifyReport) -> None:
    """Slow path: say which envelope field disagrees with the row or the chain."""
    tail = _tail_fields(body)
    if tail is None:
        report.add(seq, "malformed", f"entry {seq}: stored bytes are not an entry envelope")
        return
    body_kind, body_prev, body_seq, body_subject = tail
    if body_seq != seq:
        report.add(
            seq, "seq_mismatch", f"entry {seq}: its body says it is entry {body_seq} (rows were swapped or renumbered)"
        )
    if body_prev != prev.hex():
        report.add(
            seq,
            "chain_broken",
            f"entry {seq}: its prev link does not match the leaf hash of "
            f"entry {seq - 1} (entry {seq - 1} or {seq} was altered)",
        )
    if body_kind != kind or body_subject != subject:
        report.add(seq, "column_mismatch", f"entry {seq}: kind/subject columns disagree with its body")


def _scan_entries(
    conn: Connection, head: store.Head, checkpoints: dict[int, bytes], report: VerifyReport, progress: Progress | None
) -> tuple[list[tuple[int, dict[str, Any]]], dict[int, bytes]]:
    """Deep pass over every row. Returns the key entries and the recomputed root at each checkpoint size."""
    frontier = Frontier()
    expected = 0
    prev = GENESIS_PREV
    key_entries: list[tuple[int, dict[str, Any]]] = []
    roots_at: dict[int, bytes] = {}
    last_ts = ""
    for seq, body, stored_leaf, closes, kind, subject, ts in store.iter_entry_rows(conn):
        if seq != expected:
            report.add(expected, "missing_entry", f"entry {expected} is missing (the next stored entry is {seq})")
            break
        if seq >= head.size:
            report.add(
                seq,
                "beyond_head",
                f"entry {seq} is stored beyond the sequencer's head (size {head.size}): "
                "it was not appended by the sequencer",
            )
            break
        if sha256(b"\x00" + body).digest() != stored_leaf:
            report.add(
                seq,
                "leaf_mismatch",
                f"entry {seq}: its bytes do not hash to its stored leaf hash (the payload was changed)",
            )
        if not _tail_is(body, kind, prev, seq, subject):
            _diagnose_tail(body, kind, prev, seq, subject, report)
        body_ts = body[-_TS_AND_END : -len(_TAIL_END)].decode("ascii", "replace")
        if body_ts != ts:
            report.add(seq, "column_mismatch", f"entry {seq}: its ts column {ts} disagrees with its body ({body_ts})")
        elif ts < last_ts:
            report.add(seq, "time_order", f"entry {seq}: its time {ts} is before entry {seq - 1}'s ({last_ts})")
        last_ts = ts
        if kind in KEY_KINDS:
            key_entries.append((seq, json.loads(body)))
        if b"".join(frontier.append(stored_leaf)) != closes:
            report.add(seq, "node_mismatch", f"entry {seq}: stored subtree hashes are not the ones its leaves give")
        prev = stored_leaf
        expected = seq + 1
        if expected in checkpoints:
            roots_at[expected] = frontier.root()
        if progress is not None and expected % 10_000 == 0:
            progress(expected, head.size)
        if len(report.problems) >= MAX_PROBLEMS:
            break
    report.entries_checked = expected
    if expected < head.size and not any(p.code == "missing_entry" for p in report.problems):
        report.add(
            expected,
            "truncated",
            f"the head says {head.size} entries but the log holds {expected}: entries from {expected} on are missing",
        )
    elif expected == head.size and prev != head.head_hash and head.size:
        report.add(head.size - 1, "head_mismatch", "the head row's hash is not the last entry's leaf hash")
    if progress is not None:
        progress(expected, head.size)
    report.root = frontier.root() if expected == head.size else report.root
    return key_entries, roots_at


def _key_ring(
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


def _root_from_nodes(conn: Connection, size: int) -> bytes:
    return range_hash(0, size, store.fetch_nodes(conn, perfect_subtrees(0, size))) if size else merkle.EMPTY_ROOT


def _consistency_from_nodes(conn: Connection, old: int, new: int) -> list[bytes]:
    ranges = consistency_ranges(old, new)
    found = store.fetch_nodes(conn, nodes_for(ranges))
    return [range_hash(start, end, found) for start, end in ranges]


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
        key_entries, roots_at = _scan_entries(conn, head, {c.size: c.root for c in checkpoints}, report, progress)
    else:
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
    ring = _key_ring(conn, key_entries, report)
    if ring is not None and trusted_keys and not any(v in ring.verifiers for v in trusted_keys):
        report.add(0, "untrusted_key_ring", "none of the trusted keys is in this log's key ring")
    if ring is not None and ring.origin != head.origin:
        report.add(0, "origin_mismatch", f"log.created names origin {ring.origin!r}, the head says {head.origin!r}")

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
            )
            continue
        _check_signature(stored, ring, report)
        if deep:
            root = roots_at.get(stored.size)
        else:
            try:
                root = _root_from_nodes(conn, stored.size)
                if previous is not None:
                    merkle.verify_consistency(
                        previous.size,
                        stored.size,
                        previous.root,
                        stored.root,
                        _consistency_from_nodes(conn, previous.size, stored.size),
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
            report.add(
                seq,
                "root_mismatch",
                f"checkpoint {stored.size}: the log's tree at that size has root "
                f"{root.hex()}, the signed checkpoint says {stored.root.hex()}",
            )
        previous = stored
    if checkpoints:
        report.latest_checkpoint_size = checkpoints[-1].size
    if not deep and report.ok and head.size:
        report.root = _root_from_nodes(conn, head.size)
    uncovered = head.size - report.latest_checkpoint_size
    if uncovered > 0:
        report.warnings.append(
            f"{uncovered} newest entries ({report.latest_checkpoint_size}..{head.size - 1}) "
            "are not yet covered by a signed checkpoint"
        )
    if against is not None:
        _verify_against(conn, against, ring, head, roots_at, report)
    return report


def _verify_against(
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
            f"the log was truncated; entries from {held} on are gone",
        )
        return
    try:
        root = roots_at.get(size) or _root_from_nodes(conn, size)
    except Exception as exc:
        report.add(seq, "missing_entry", f"cannot rebuild the tree at size {size}: {exc}")
        return
    if root != claimed.root:
        report.add(
            seq,
            "forked",
            f"the log's tree at size {size} has root {root.hex()}, but the saved checkpoint "
            f"says {claimed.root.hex()}: the log was rewritten at or before entry {seq}",
        )
        return
    if head.size > size:
        try:
            merkle.verify_consistency(
                size,
                head.size,
                claimed.root,
                _root_from_nodes(conn, head.size),
                _consistency_from_nodes(conn, size, head.size),
            )
        except (merkle.ProofError, Exception) as exc:
            report.add(seq, "forked", f"no valid consistency proof from the saved checkpoint to the head: {exc}")
            return
    report.against["consistent"] = True
