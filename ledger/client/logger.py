"""`DecisionLogger`: record every decision of a scoring service without waiting on the network.

Why: a scoring service must answer in milliseconds, but its decisions must all reach the audit
log. `log(decision)` only encodes the decision and puts it on a bounded in-memory queue; a
background thread sends batches with `GovledgerClient.record_encoded_decisions`.

What it guarantees, and how:

- No duplicates. A batch that failed with a connection error, a timeout or a 5xx is sent again
  (exponential backoff with jitter, up to `max_retries` times). That is safe because decision ids
  are idempotent on the server: ids a lost answer had already recorded come back as duplicates.
- No silent loss. A decision that cannot be delivered is *dropped*, counted, and put on the record:
  the logger appends a `decisions.dropped` entry (client id, count, first and last drop time,
  reason, some of the decision ids) through ``POST /v1/decisions/dropped``. Reasons:
  - backpressure: when the queue is full, `log` blocks up to `block_timeout` seconds, then drops
    (``block_timeout=None`` blocks until there is room; 0 never blocks);
  - refusal: a batch answered with a 4xx is split in halves, recursively, to isolate the bad
    decisions; the good ones are recorded, each bad one is dropped with the service's reason (a
    refused key, 401/403, drops the whole batch at once: splitting cannot help). Isolating k bad
    decisions in a batch of n costs about 2k*log2(n) extra requests (2n when all are bad);
  - retries exhausted, or `close(timeout)` ran out of time while the service was down.
  Drop reports are sent at most every `report_interval` seconds (one entry per reason), and
  always by `flush()` and `close()`; a report that cannot be delivered is kept and tried again.
  Drops that could never be reported remain visible in `dropped - dropped_reported` and are
  logged as errors at close.
- `flush()` returns once everything logged before it was recorded or dropped (and drops were
  reported); `close()` drains the queue, then stops the thread. An `atexit` hook closes a logger
  the program forgot to close, so a normal exit does not lose the tail of the queue.

Counters (`queued`, `sent`, `duplicates`, `dropped`, ...; `stats()` for one snapshot): every
decision passed to `log` ends up exactly once in `sent`, `duplicates` or `dropped`, or is
`pending` (``queued`` counts the ones accepted onto the queue; drops at the queue are not queued).

The logger is built in layers, one module each: the shared state and retry policy
(`ledger.client.logger_core`), counting and reporting drops (`ledger.client.logger_drops`), the
sender thread (`ledger.client.logger_sender`), and here the caller's side: settings, `log`,
`flush`, `close` and the counters.
"""

from __future__ import annotations

import atexit
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from ledger.client.api import GovledgerClient, encode_decision
from ledger.client.logger_core import log
from ledger.client.logger_sender import Sender

__all__ = ["DecisionLogger", "LoggerStats"]

MAX_BATCH = 10_000  # the service's largest batch


@dataclass(frozen=True)
class LoggerStats:
    queued: int  # accepted onto the queue
    sent: int  # recorded by the service
    duplicates: int  # already in the log (a retry whose first attempt had gone through)
    dropped: int  # given up on: queue full, refused by the service, or undeliverable
    dropped_reported: int  # of the dropped, those a `decisions.dropped` entry accounts for
    pending: int  # accepted, not yet recorded or dropped


class DecisionLogger(Sender):
    """Sends decisions to the ledger in batches from a background thread (see the module docstring).

    `client_id` names this logger in `decisions.dropped` entries (e.g. ``scoring-eu-1``).
    """

    def __init__(
        self,
        client: GovledgerClient,
        *,
        client_id: str,
        batch_size: int = 500,
        flush_interval: float = 0.2,
        max_queue: int = 50_000,
        max_retries: int = 10,
        block_timeout: float | None = 1.0,
        backoff: float = 0.1,
        max_backoff: float = 5.0,
        max_batch_bytes: int = 4 * 1024 * 1024,
        report_interval: float = 5.0,
    ) -> None:
        if not client_id or len(client_id) > 200:
            raise ValueError("client_id must be 1 to 200 characters")
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH}")
        if max_queue < 1 or max_retries < 0 or flush_interval <= 0 or backoff <= 0 or max_batch_bytes < 1:
            raise ValueError("max_queue >= 1, max_retries >= 0, flush_interval > 0, backoff > 0, max_batch_bytes >= 1")
        if block_timeout is not None and block_timeout < 0:
            raise ValueError("block_timeout must be >= 0 (or None to wait for room)")
        self.client = client
        self.client_id = client_id
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.max_queue = max_queue
        self.max_retries = max_retries
        self.block_timeout = block_timeout
        self.backoff = backoff
        self.max_backoff = max(max_backoff, backoff)
        self.max_batch_bytes = max_batch_bytes
        self.report_interval = report_interval

        self._queue = queue.Queue(maxsize=max_queue)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._accepted = 0  # counted before the put, so a flush never misses an item in flight
        self._queued = 0
        self._settled = 0  # accepted items now sent, duplicate or dropped
        self._sent = 0
        self._duplicates = 0
        self._dropped = 0
        self._dropped_reported = 0
        self._reports_started = 0  # report rounds begun / finished: a flush waits for a round that
        self._reports_done = 0  # began after it, when drops are waiting to be reported
        self._unreported = {}
        self._flushers = 0
        self._closing = False
        self._closed = False
        self._abort = threading.Event()  # close() ran out of time: stop retrying, drop what is left
        self._last_report = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=f"govledger-logger-{client_id}", daemon=True)
        self._thread.start()
        atexit.register(self._close_at_exit)

    # -- counters ---------------------------------------------------------------------------

    @property
    def queued(self) -> int:
        return self._queued

    @property
    def sent(self) -> int:
        return self._sent

    @property
    def duplicates(self) -> int:
        return self._duplicates

    @property
    def dropped(self) -> int:
        return self._dropped

    @property
    def dropped_reported(self) -> int:
        return self._dropped_reported

    def stats(self) -> LoggerStats:
        with self._lock:
            return LoggerStats(
                queued=self._queued,
                sent=self._sent,
                duplicates=self._duplicates,
                dropped=self._dropped,
                dropped_reported=self._dropped_reported,
                pending=self._accepted - self._settled,
            )

    # -- the caller's side ------------------------------------------------------------------

    def log(self, decision: Mapping[str, Any]) -> bool:
        """Queue one decision (a decision request as `record_decision` takes it, with its
        `decision_id`). Returns True when queued, False when it had to be dropped because the
        queue stayed full for `block_timeout` seconds (the drop is counted and reported).

        Raises TypeError/ValueError for a decision that is not a JSON object with a decision_id
        or cannot be encoded as JSON, and RuntimeError once the logger is closed."""
        if not isinstance(decision, Mapping):
            raise TypeError(f"a decision is a mapping, got {type(decision).__name__}")
        decision_id = decision.get("decision_id")
        if not isinstance(decision_id, str) or not decision_id:
            raise ValueError("a decision needs a non-empty string decision_id (it makes retries idempotent)")
        encoded = encode_decision(decision)  # the decision as it is now; TypeError/ValueError if not JSON
        with self._lock:
            if self._closing:
                raise RuntimeError("this DecisionLogger is closed")
            self._accepted += 1
        try:
            if self.block_timeout == 0:
                self._queue.put_nowait((decision_id, encoded))
            else:
                self._queue.put((decision_id, encoded), timeout=self.block_timeout)
        except queue.Full:
            with self._changed:
                self._accepted -= 1
                self._changed.notify_all()
            waited = "without waiting" if not self.block_timeout else f"after waiting {self.block_timeout:g}s"
            self._record_drop(
                "queue full",
                f"the logger's queue of {self.max_queue} decisions was full {waited}",
                [decision_id],
                settled=False,
            )
            return False
        with self._lock:
            self._queued += 1
        return True

    def flush(self, timeout: float | None = None) -> bool:
        """Send now and wait until every decision logged before this call is recorded or dropped,
        and drops are reported (or a report was attempted). True when all of that is done and no
        drop is left unreported; False otherwise (`timeout` ran out, or a report failed)."""
        with self._changed:
            target = self._accepted
            next_round = self._reports_started + 1
            self._flushers += 1

        def done() -> bool:
            if not self._thread.is_alive():
                return True
            if self._settled < target:
                return False
            idle = not self._unreported and self._reports_started == self._reports_done
            return idle or self._reports_done >= next_round

        try:
            with self._changed:
                self._changed.wait_for(done, timeout)
                return self._settled >= target and self._dropped_reported == self._dropped
        finally:
            with self._changed:
                self._flushers -= 1

    def close(self, timeout: float | None = None) -> None:
        """Stop accepting decisions, send everything queued and report drops, then stop the thread.
        With a `timeout`, what could not be delivered by then is dropped (counted, and reported if
        the service answers). Idempotent."""
        with self._changed:
            if self._closed:
                return
            self._closing = True
            self._changed.notify_all()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("DecisionLogger %s: closing before everything was sent; dropping the rest", self.client_id)
            self._abort.set()
            self._thread.join(3 * self.client.timeout + 1.0)  # at most one request in flight, then reports
            if self._thread.is_alive():
                log.error("DecisionLogger %s: the sender thread did not stop", self.client_id)
        with self._changed:
            self._closed = True
        atexit.unregister(self._close_at_exit)
        unreported = self._dropped - self._dropped_reported
        if unreported:
            log.error(
                "DecisionLogger %s: %d dropped decisions could not be reported to the ledger",
                self.client_id,
                unreported,
            )

    def _close_at_exit(self) -> None:
        self.close(timeout=10.0)

    def __enter__(self) -> DecisionLogger:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
