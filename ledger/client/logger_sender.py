"""The background thread of `DecisionLogger`: gather batches from the queue, send them, retry
what the service could not take yet, isolate what it refused, and settle every decision.

Why a module of its own: this is the only code that runs on the sender thread. A batch is up to
`batch_size` decisions (and about `max_batch_bytes`), gathered for up to `flush_interval`, or
only what is already queued while a flush or close waits. A connection error, a timeout, a 5xx,
408 or 429 is retried (decision ids are idempotent on the server, so a retry can only come back
as duplicates); a 4xx splits the batch in halves, recursively, until each refused decision is
dropped alone (401/403 drop the whole batch: splitting cannot help). Each decision then counts
once in `sent`, `duplicates` or `dropped`.
"""

from __future__ import annotations

import queue
import time

from ledger.client.api import BatchResult, ClientError
from ledger.client.logger_core import GiveUpError, Item, log
from ledger.client.logger_drops import DropReporting

__all__ = ["Sender"]


class Sender(DropReporting):
    """The sender thread's loop (`_run`, started by `DecisionLogger.__init__`)."""

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch:
                if self._abort.is_set():
                    self._drop(batch, "undelivered at close", "the logger was closed before it could send them")
                else:
                    self._deliver(batch)
            try:
                self._maybe_report()
            except Exception:  # never die: the drops stay counted, and are tried again
                log.exception("DecisionLogger %s: unexpected error while reporting drops", self.client_id)
            with self._changed:
                done = self._closing and self._settled >= self._accepted
            if done:
                self._report(final=True)
                return

    def _next_batch(self) -> list[Item]:
        """Up to batch_size decisions: wait for a first one, then gather more for up to
        flush_interval (or only what is already queued when a flush or close is waiting)."""
        try:
            first = self._queue.get(timeout=self.flush_interval)
        except queue.Empty:
            return []
        batch, size = [first], len(first[1])
        deadline = time.monotonic() + self.flush_interval
        while len(batch) < self.batch_size and size < self.max_batch_bytes:
            try:
                remaining = deadline - time.monotonic()
                if self._urgent() or remaining <= 0:
                    item = self._queue.get_nowait()
                else:
                    item = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            batch.append(item)
            size += len(item[1])
        return batch

    def _deliver(self, batch: list[Item]) -> None:
        """Send a batch; on a 4xx split it to isolate the refused decisions."""
        parts = [batch]
        while parts:
            part = parts.pop()
            try:
                result = self._send(part)
            except GiveUpError as exc:
                self._drop(part, "undeliverable", str(exc))
                continue
            except ClientError as exc:
                if len(part) == 1 or exc.status in (401, 403):
                    self._drop(part, f"refused by the service (HTTP {exc.status} {exc.code})", exc.message)
                else:
                    middle = len(part) // 2
                    parts.append(part[middle:])
                    parts.append(part[:middle])  # the first half is sent first
                continue
            except Exception as exc:  # a bug or a closed client: never die silently
                log.exception("DecisionLogger %s: unexpected error while sending", self.client_id)
                self._drop(part, "client error", f"{type(exc).__name__}: {exc}")
                continue
            self._settle(len(part), sent=len(result.recorded), duplicates=len(result.duplicates))

    def _send(self, part: list[Item]) -> BatchResult:
        encoded = [body for _, body in part]
        return self._with_retries(
            lambda: self.client.record_encoded_decisions(encoded), f"sending {len(part)} decisions"
        )

    def _settle(self, count: int, *, sent: int = 0, duplicates: int = 0) -> None:
        with self._changed:
            self._sent += sent
            self._duplicates += duplicates
            self._settled += count
            if sent + duplicates != count:  # the service should account for each one
                log.error(
                    "DecisionLogger %s: sent %d decisions, %d acknowledged", self.client_id, count, sent + duplicates
                )
            self._changed.notify_all()
