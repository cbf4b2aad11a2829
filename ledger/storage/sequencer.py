"""The one sequencer: assigns sequence numbers, chains and hashes entries, stores subtree hashes,
and signs checkpoints on the configured cadence, one transaction per batch.

Serialisation: on SQLite the transaction starts with ``BEGIN IMMEDIATE`` (one writer at a time),
after the writer has queued in `ledger.storage.writer_queue` (so a waiting process wakes as soon as the
lock is free instead of sleeping in SQLite's busy handler); on PostgreSQL it locks the single
`log_head` row with ``SELECT … FOR UPDATE``. Either way the
head read under the lock is the true end of the log, so sequence numbers are contiguous and
`prev` links are right even with many writer processes. A batch commits whole or not at all;
a crash mid-batch leaves the log as it was before the batch.

Work done under the lock is kept small: drafts arrive validated and encoded; here only seq,
ts and prev are spliced in, the leaf hashed, the frontier advanced and the rows inserted with
one executemany. The frontier is cached between batches of this process and reused when the
head is the one it left.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import Connection, Engine

from ledger.errors import ConflictError, SigningKeyError, StaleSigningKeyError
from ledger.log import checkpoint as cp
from ledger.log.entry import Draft, SealedEntry, format_ts, seal
from ledger.log.note import Signer
from ledger.log.subtrees import Frontier
from ledger.storage import store
from ledger.storage.db import is_sqlite
from ledger.storage.tail_check import TailChecker, TailRefusedError
from ledger.storage.wal_maintenance import WalCheckpointer
from ledger.storage.writer_queue import WriterQueue, lock_file_for

__all__ = ["AppendHook", "CheckpointPolicy", "Receipt", "Sequencer"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckpointPolicy:
    """When to sign a checkpoint. Any condition that holds triggers one.

    after_batch: at the end of every append call (what one-shot CLI commands use).
    every_entries: once this many entries are not yet covered (checked on append).
    max_delay_s: once the newest checkpoint is this old: checked on append, and by the
    `Ledger`'s background checkpointer every max_delay_s / 2, so that an appended entry is
    covered within about max_delay_s even when no further append comes.
    The default signs at most ~2 checkpoints a second however fast entries arrive.
    """

    after_batch: bool = False
    every_entries: int | None = 100_000
    max_delay_s: float | None = 0.5

    def due(self, *, size: int, checkpoint_size: int, now: datetime, checkpoint_ts: str) -> bool:
        if self.after_batch and size > checkpoint_size:
            return True
        return self.timer_due(size=size, checkpoint_size=checkpoint_size, now=now, checkpoint_ts=checkpoint_ts)

    def timer_due(self, *, size: int, checkpoint_size: int, now: datetime, checkpoint_ts: str) -> bool:
        """The count and age conditions alone (what a periodic checkpointer asks)."""
        if size <= checkpoint_size:
            return False
        if self.every_entries is not None and size - checkpoint_size >= self.every_entries:
            return True
        if self.max_delay_s is not None:
            age = (now - datetime.strptime(checkpoint_ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)).total_seconds()
            return age >= self.max_delay_s
        return False


class AppendHook(Protocol):
    """Runs inside the append transaction, after sequencing and before insert: may refuse the
    batch (raise a GovledgerError) or write projections in the same transaction."""

    def __call__(self, conn: Connection, batch: Sequence[SealedEntry]) -> None: ...


@dataclass(frozen=True)
class Receipt:
    seq: int
    ts: str
    leaf_hash: bytes


class Sequencer:
    def __init__(
        self, engine: Engine, *, signer: Signer | None, policy: CheckpointPolicy, hooks: Sequence[AppendHook] = ()
    ) -> None:
        self._engine = engine
        self._signer = signer
        self._policy = policy
        self._hooks = tuple(hooks)
        self._cached: tuple[bytes, Frontier] | None = None  # (head hash, frontier at that head)
        self._queue = WriterQueue(lock_file_for(engine.url.database)) if is_sqlite(engine) else None
        self._wal = WalCheckpointer(engine) if is_sqlite(engine) else None
        self.tail = TailChecker()
        self.refusal: str | None = None  # why the last attempt to sign was refused (None: it was not)

    @property
    def signer(self) -> Signer | None:
        return self._signer

    @signer.setter
    def signer(self, signer: Signer | None) -> None:
        self._signer = signer

    def _check_key(self, head: store.Head) -> Signer:
        """Refuse to write with a key that is not the log's current one (e.g. rotated by another process)."""
        signer = self._signer
        if signer is None:
            raise SigningKeyError("no signing key is loaded, so no checkpoint can be signed")
        if signer.verifier.key_id_hex != head.key_id:
            raise StaleSigningKeyError(
                f"the signing key {signer.verifier.key_id_hex} is no longer this log's key ({head.key_id}): "
                "it was rotated; load the current key"
            )
        return signer

    def _queued(self) -> AbstractContextManager[None]:
        """This database's writer queue (SQLite), held until the transaction inside has committed."""
        return self._queue.acquire() if self._queue is not None else nullcontext()

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            if self._queue is not None:
                conn = conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                yield conn

    @contextmanager
    def write_transaction(self) -> Iterator[Connection]:
        """A write transaction that holds the sequencer lock; commits when the block ends cleanly.

        Not re-entrant: a block must not append through this sequencer.
        """
        with self._queued(), self._begin() as conn:
            yield conn

    def close(self) -> None:
        if self._wal is not None:
            self._wal.wait()
        if self._queue is not None:
            self._queue.close()

    @staticmethod
    def _frontier(conn: Connection, head: store.Head, cached: tuple[bytes, Frontier] | None = None) -> Frontier:
        if cached is not None and cached[0] == head.head_hash and cached[1].size == head.size:
            return cached[1]
        nodes = Frontier.nodes(head.size)
        found = store.fetch_nodes(conn, nodes)
        return Frontier(head.size, [found[node] for node in nodes])

    @staticmethod
    def _sign(signer: Signer, origin: str, size: int, root: bytes, ts: str) -> store.StoredCheckpoint:
        signed = cp.sign(cp.Checkpoint(origin, size, root), [signer])
        return store.StoredCheckpoint(size, root, signer.verifier.key_id_hex, ts, signed.note)

    def initialize(self, origin: str, genesis: Draft) -> Receipt:
        """Create the head row and entry 0 in one transaction; refuse if the log exists."""
        ts = format_ts(datetime.now(UTC))
        with self.write_transaction() as conn:
            try:
                store.read_head(conn)
            except ConflictError:
                if self._signer is None:
                    raise SigningKeyError("a new log needs a signing key") from None
                store.create_head(conn, origin, ts, self._signer.verifier.key_id_hex)
            else:
                raise ConflictError("this ledger is already initialised")
            receipts, frontier, vouch = self._append_locked(conn, [genesis], force_checkpoint=True)
        self._cached = (receipts[-1].leaf_hash, frontier)
        if vouch is not None:
            self.tail.vouch(*vouch)
        return receipts[0]

    def append(
        self,
        drafts: Sequence[Draft],
        *,
        rotate_to: Signer | None = None,
        in_transaction: Callable[[Connection], None] | None = None,
    ) -> list[Receipt]:
        """Append a batch in one transaction; all of it is in the log afterwards, or none of it.

        `rotate_to`: the batch is a key rotation; from its commit on, the log's key is this one.
        `in_transaction`: a write that belongs to this batch (e.g. the subject keys its decisions
        were sealed under), run under the lock before the hooks; it commits or rolls back with it.
        """
        if not drafts:
            return []
        with self._queued():
            with self._begin() as conn:
                receipts, frontier, vouch = self._append_locked(
                    conn, drafts, force_checkpoint=False, rotate_to=rotate_to, in_transaction=in_transaction
                )
            self._cached = (receipts[-1].leaf_hash, frontier)  # only once the commit has succeeded
            if vouch is not None:
                self.tail.vouch(*vouch)
            if rotate_to is not None:
                self._signer = rotate_to
        if self._wal is not None:  # in the background: neither the next writer nor this caller waits
            self._wal.committed(sum(len(d.head) + len(d.tail) for d in drafts))
            self._wal.start_if_due()
        return receipts

    def _append_locked(
        self,
        conn: Connection,
        drafts: Sequence[Draft],
        *,
        force_checkpoint: bool,
        rotate_to: Signer | None = None,
        in_transaction: Callable[[Connection], None] | None = None,
    ) -> tuple[list[Receipt], Frontier, tuple[int, bytes] | None]:
        head = store.lock_head(conn)
        signer = self._check_key(head)
        self._cached, cached = None, self._cached
        frontier = self._frontier(conn, head, cached)
        now = datetime.now(UTC)
        ts = max(format_ts(now), head.last_ts)
        prev = head.head_hash
        sealed: list[SealedEntry] = []
        rows: list[tuple[object, ...]] = []
        for offset, draft in enumerate(drafts):
            entry = seal(draft, seq=head.size + offset, ts=ts, prev=prev)
            closes = frontier.append(entry.leaf_hash)
            rows.append((entry.seq, entry.leaf_hash, b"".join(closes), entry.kind, entry.subject, ts, entry.body))
            sealed.append(entry)
            prev = entry.leaf_hash
        if in_transaction is not None:
            in_transaction(conn)
        for hook in self._hooks:
            hook(conn, sealed)
        store.insert_entries(conn, rows)
        checkpoint_size, checkpoint_ts = head.checkpoint_size, head.checkpoint_ts
        if force_checkpoint or self._policy.due(
            size=frontier.size, checkpoint_size=checkpoint_size, now=now, checkpoint_ts=checkpoint_ts
        ):
            self._check_tail(conn, head)  # the stored rows before this batch; the batch is ours
            store.insert_checkpoint(conn, self._sign(signer, head.origin, frontier.size, frontier.root(), ts))
            checkpoint_size, checkpoint_ts = frontier.size, ts
        # what this batch lands on was vouched for (written or checked here), or signed, or checked
        # just now: then the new head is vouched for too, once the commit succeeds
        on_known = self.tail.vouched == (head.size, head.head_hash) or head.checkpoint_size == head.size
        vouch = (frontier.size, prev) if on_known or checkpoint_size == frontier.size else None
        store.update_head(
            conn,
            size=frontier.size,
            head_hash=prev,
            last_ts=ts,
            checkpoint_size=checkpoint_size,
            checkpoint_ts=checkpoint_ts,
            key_id=None if rotate_to is None else rotate_to.verifier.key_id_hex,
        )
        return [Receipt(e.seq, e.ts, e.leaf_hash) for e in sealed], frontier, vouch

    def _check_tail(self, conn: Connection, head: store.Head) -> None:
        """Refuse (TailRefusedError, logged as an error) to sign entries this ledger did not write."""
        try:
            self.tail.check(conn, head)
        except TailRefusedError as refused:
            if self.refusal != str(refused):  # once per distinct refusal: the checkpointer retries often
                log.error("%s", refused)
            self.refusal = str(refused)
            raise
        self.refusal = None

    def checkpoint(self, *, only_if_due: bool = False) -> store.StoredCheckpoint | None:
        """Sign a checkpoint of the current tree unless the newest checkpoint already covers it."""
        with self.write_transaction() as conn:
            head = store.lock_head(conn)
            signer = self._check_key(head)
            now = datetime.now(UTC)
            if head.checkpoint_size >= head.size:
                return None
            if only_if_due and not self._policy.timer_due(
                size=head.size, checkpoint_size=head.checkpoint_size, now=now, checkpoint_ts=head.checkpoint_ts
            ):
                return None
            self._check_tail(conn, head)
            frontier = self._frontier(conn, head)
            ts = max(format_ts(now), head.last_ts)
            stored = self._sign(signer, head.origin, head.size, frontier.root(), ts)
            store.insert_checkpoint(conn, stored)
            store.update_head(  # last_ts stays the newest entry's time; only the checkpoint fields move
                conn,
                size=head.size,
                head_hash=head.head_hash,
                last_ts=head.last_ts,
                checkpoint_size=head.size,
                checkpoint_ts=ts,
            )
            return stored
