"""What the sequencer checks before it signs: the unsigned tail is its own ledger's work.

Why: a checkpoint is the ledger's signed word that the tree it names is the log. Rows written
straight into the database past the sequencer (with a valid chain, the head row moved, and an
actor `key:0000000000000000` that no key entry ever created) used to be signed at the next
checkpoint, turning a forgery into signed history. Before signing, the entries since the last
checkpoint are read back and checked: contiguous sequence numbers, each leaf hash the SHA-256 of
its stored bytes, each `prev` and `seq` in the body the chain's, the stored subtree hashes the
ones the leaves give (from the frontier the last checkpoint signed), the head row's hash the last
leaf, and every `key:` actor of an API key's shape (16 hex digits) created by an
`access.key_created` entry before it. Anything else is
a `TailRefusedError`: nothing is signed (and an append that would sign writes nothing).

Cost: none when the head is exactly what this sequencer last wrote or checked (`vouched`); else
one read of the unsigned rows, measured in `bench/tail_check_bench.py`.
"""

from __future__ import annotations

import json
import re
from hashlib import sha256

from sqlalchemy import Connection

from ledger.errors import CorruptLedgerError
from ledger.log.entry import GENESIS_PREV
from ledger.log.subtrees import Frontier
from ledger.storage import store

__all__ = ["KEY_CREATED", "TailChecker", "TailRefusedError"]

KEY_CREATED = "access.key_created"
_KEY_ACTOR = b'{"actor":{"id":"key:'
_KEY_ACTOR_ID = re.compile(rb'\{"actor":\{"id":"key:([0-9a-f]{16})"')  # an API key id's shape


class TailRefusedError(CorruptLedgerError):
    """The entries since the last checkpoint are not this ledger's own work: they are not signed."""

    code = "unsigned_tail_refused"


class TailChecker:
    """Checks the unsigned tail; remembers the key ids the log created and what it has vouched for."""

    def __init__(self) -> None:
        self._keys: set[bytes] = set()
        self._keys_below = 0  # every key created by an entry before this seq is in _keys
        self.vouched: tuple[int, bytes] | None = None  # (size, head hash) written or checked here
        self.enabled = True  # only benchmarks turn it off, to measure what it costs

    def vouch(self, size: int, head_hash: bytes) -> None:
        """This sequencer has just committed (or checked) the log up to `size` ending in `head_hash`."""
        self.vouched = (size, head_hash)

    def check(self, conn: Connection, head: store.Head) -> None:
        """Raise TailRefusedError unless entries checkpoint_size..size-1 of `head` pass (see module)."""
        start, stop = head.checkpoint_size, head.size
        if not self.enabled or start >= stop or self.vouched == (stop, head.head_hash):
            return
        self._load_keys(conn, start)
        nodes = Frontier.nodes(start)
        found = store.fetch_nodes(conn, nodes)
        frontier = Frontier(start, [found[node] for node in nodes])
        prev = GENESIS_PREV if start == 0 else self._leaf_of(conn, start - 1)
        expected = start
        for seq, body, leaf, closes, kind, _subject, _ts in store.iter_entry_rows(conn, start, stop):
            if seq != expected:
                self._refuse(f"entry {expected} is missing from the unsigned tail")
            if sha256(b"\x00" + body).digest() != leaf:
                self._refuse(f"entry {seq}: its bytes do not hash to its stored leaf hash")
            link = b'","prev":"' + prev.hex().encode() + b'","seq":' + str(seq).encode() + b',"subject":'
            if body.find(link, body.rfind(b',"kind":"')) < 0:
                self._refuse(f"entry {seq}: its prev link or sequence number is not the chain's")
            key = _KEY_ACTOR_ID.match(body) if body.startswith(_KEY_ACTOR) else None
            if key is not None and key[1] not in self._keys:
                self._refuse(f"entry {seq}: written by key:{key[1].decode()}, which no key entry of this log created")
            if b"".join(frontier.append(leaf)) != closes:
                self._refuse(f"entry {seq}: its stored subtree hashes are not the ones its leaves give")
            if kind == KEY_CREATED:
                self._keys.add(json.loads(body)["data"]["key_id"].encode())
            prev, expected = leaf, seq + 1
        if expected != stop:
            self._refuse(f"the head says {stop} entries but the log holds {expected}")
        if prev != head.head_hash:
            self._refuse("the head row's hash is not the last entry's leaf hash")
        self._keys_below = stop
        self.vouch(stop, head.head_hash)

    def _load_keys(self, conn: Connection, below: int) -> None:
        if self._keys_below >= below:
            return
        for seq, body, _leaf in store.entries_of_kinds(conn, [KEY_CREATED]):
            if seq < below:
                self._keys.add(json.loads(body)["data"]["key_id"].encode())
        self._keys_below = below

    @staticmethod
    def _leaf_of(conn: Connection, seq: int) -> bytes:
        row = store.fetch_entry_row(conn, seq)
        if row is None:
            raise TailRefusedError(f"entry {seq}, the last one signed, is missing")
        return row[1]

    @staticmethod
    def _refuse(reason: str) -> None:
        raise TailRefusedError(f"refusing to sign a checkpoint: {reason} (run `govledger verify --deep`)")
