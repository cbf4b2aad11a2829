"""The state every part of `DecisionLogger` shares, and its one retry policy.

Why a module of its own: the logger is built in layers, each in its own module (this core, drop
reporting in `ledger.client.logger_drops`, the sender thread in `ledger.client.logger_sender`,
the caller's side in `ledger.client.logger`). The sender and the drop reports retry the same
errors the same way (a connection error, a timeout, a 5xx, 408 or 429; exponential backoff with
jitter, up to `max_retries` times, cut short by `close(timeout)`), and both account for their
work under one lock; both are decided once, here. It talks HTTP only, through `GovledgerClient`.
"""

from __future__ import annotations

import logging
import queue
import random
import threading

from ledger.client.api import ClientError, GovledgerClient

__all__ = ["RETRYABLE_STATUS", "GiveUpError", "Item", "LoggerCore", "log"]

log = logging.getLogger("ledger.client.logger")

RETRYABLE_STATUS = frozenset({408, 429})

Item = tuple[str, bytes]  # (decision id, the decision encoded as JSON)


class GiveUpError(Exception):
    """Retries exhausted (or the logger is aborting): drop the batch with this reason."""


class LoggerCore:
    """The settings and counters of one logger (set by `DecisionLogger.__init__`), guarded by
    `_lock`; `_changed` is notified whenever a counter moves."""

    client: GovledgerClient
    client_id: str
    batch_size: int
    flush_interval: float
    max_queue: int
    max_retries: int
    block_timeout: float | None
    backoff: float
    max_backoff: float
    max_batch_bytes: int
    report_interval: float

    _queue: queue.Queue[Item]
    _lock: threading.Lock
    _changed: threading.Condition
    _accepted: int  # counted before the put, so a flush never misses an item in flight
    _queued: int
    _settled: int  # accepted items now sent, duplicate or dropped
    _sent: int
    _duplicates: int
    _dropped: int
    _flushers: int
    _closing: bool
    _closed: bool
    _abort: threading.Event  # close() ran out of time: stop retrying, drop what is left
    _thread: threading.Thread

    def _urgent(self) -> bool:
        return self._flushers > 0 or self._closing

    def _retry_wait(self, attempt: int, error: ClientError, what: str) -> None:
        """Sleep before retry number `attempt`, or give up."""
        if attempt > self.max_retries:
            raise GiveUpError(f"{what} failed {attempt} times, the last with: {error}")
        if self._abort.is_set():
            raise GiveUpError(f"the logger was closed while the service was unavailable ({error})")
        delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        delay *= 0.5 + random.random() / 2  # noqa: S311 - jitter, not a secret
        log.info("DecisionLogger %s: %s failed (%s); retry %d in %.2fs", self.client_id, what, error, attempt, delay)
        if self._abort.wait(delay):
            raise GiveUpError(f"the logger was closed while the service was unavailable ({error})")
