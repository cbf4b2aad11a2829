"""The deep pass: every stored row re-hashed, its envelope checked against the row and the chain.

Why: this is the only layer that reads every entry, so it is the hot path (over 200,000
entries/s on SQLite). One loop per row checks the sequence number, the leaf hash of the stored
bytes, the envelope tail against the columns and the previous leaf (one slice comparison on the
intact path, `_tail_is`; `_diagnose_tail` names the field only when that fails), time order, the
stored subtree hashes, and collects the key entries and the roots at checkpoint sizes on the way.
Keep per-row work inline: no extra calls or indirection in `scan_entries`.
"""

from __future__ import annotations

import json
import re
from hashlib import sha256
from typing import Any

from sqlalchemy import Connection

from ledger.log.canonical import canonical_json
from ledger.log.entry import GENESIS_PREV
from ledger.log.subtrees import Frontier
from ledger.storage import store
from ledger.verification.checkpoint_check import KEY_KINDS
from ledger.verification.issued_report import MAX_PROBLEMS, Progress, VerifyReport

__all__ = ["scan_entries"]

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


# An entry written with an API key begins with its key id (RFC 8785 puts "actor" first, then "id").
# Only ids of an API key's shape (16 hex digits) are checked: `key:ds1` can name no API key, and
# like a `local:` actor it is a claim the log cannot check (see docs/ledger-format.md, section 12).
_KEY_ACTOR = b'{"actor":{"id":"key:'
_KEY_ACTOR_ID = re.compile(rb'\{"actor":\{"id":"key:([0-9a-f]{16})"')
_KEY_ID_AND_QUOTE = slice(len(_KEY_ACTOR), len(_KEY_ACTOR) + 17)  # the fast path: a set lookup, no regex
_KEY_CREATED = "access.key_created"


def scan_entries(
    conn: Connection, head: store.Head, checkpoints: dict[int, bytes], report: VerifyReport, progress: Progress | None
) -> tuple[list[tuple[int, dict[str, Any]]], dict[int, bytes]]:
    """Deep pass over every row. Returns the key entries and the recomputed root at each checkpoint size."""
    frontier = Frontier()
    expected = 0
    prev = GENESIS_PREV
    key_entries: list[tuple[int, dict[str, Any]]] = []
    roots_at: dict[int, bytes] = {}
    last_ts = ""
    last_key = b"\x00"  # the start of the last body by a created key (most runs are one key's)
    created_keys: set[bytes] = set()  # b'<16 hex>"' of every key an access.key_created entry made so far
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
        if not body.startswith(last_key) and body.startswith(_KEY_ACTOR):  # not the last entry's key
            key = None
            if body[_KEY_ID_AND_QUOTE] in created_keys:
                last_key = body[: _KEY_ID_AND_QUOTE.stop]
            else:
                key = _KEY_ACTOR_ID.match(body)  # only an API key's shape is checked (key:ds1 names none)
            if key is not None:
                report.add(
                    seq,
                    "unknown_actor_key",
                    f"entry {seq}: written by key:{key[1].decode()}, which no access.key_created entry "
                    "before it created (the row was not written by this ledger's service)",
                )
        if kind == _KEY_CREATED:
            created_keys.add(json.loads(body)["data"]["key_id"].encode() + b'"')
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
