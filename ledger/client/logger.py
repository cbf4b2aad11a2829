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
"""

from __future__ import annotations

import atexit
import logging
import queue
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from ledger.client.api import BatchResult, ClientError, GovledgerClient, ServiceUnavailable, encode_decision

__all__ = ["DecisionLogger", "LoggerStats"]

log = logging.getLogger("ledger.client.logger")

MAX_BATCH = 10_000  # the service's largest batch
_RETRYABLE_STATUS = frozenset({408, 429})
_MAX_REASON = 5000  # DecisionsDropped.reason
_IDS_IN_REASON = 20

_Item = tuple[str, bytes]  # (decision id, the decision encoded as JSON)


@dataclass(frozen=True)
class LoggerStats:
    queued: int  # accepted onto the queue
    sent: int  # recorded by the service
    duplicates: int  # already in the log (a retry whose first attempt had gone through)
    dropped: int  # given up on: queue full, refused by the service, or undeliverable
    dropped_reported: int  # of the dropped, those a `decisions.dropped` entry accounts for
    pending: int  # accepted, not yet recorded or dropped


@dataclass
class _Tally:
    """Drops of one reason not yet reported."""

    count: int
    first: datetime
    last: datetime
    message: str
    ids: list[str] = field(default_factory=list)

    def add(self, ids: Sequence[str], when: datetime) -> None:
        self.count += len(ids)
        self.first = min(self.first, when)
        self.last = max(self.last, when)
        room = _IDS_IN_REASON - len(self.ids)
        if room > 0:
            self.ids.extend(ids[:room])

    def merge(self, other: _Tally) -> None:
        self.count += other.count
        self.first = min(self.first, other.first)
        self.last = max(self.last, other.last)
        self.ids = (other.ids + self.ids)[:_IDS_IN_REASON]

    def reason(self, category: str) -> str:
        shown = ", ".join(self.ids)
        more = f" (+{self.count - len(self.ids)} more)" if self.count > len(self.ids) else ""
        text = f"{category}: {self.message}; decision ids: {shown}{more}"
        return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 3] + "..."


class _GiveUpError(Exception):
    """Retries exhausted (or the logger is aborting): drop the batch with this reason."""


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class DecisionLogger:
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

        self._queue: queue.Queue[_Item] = queue.Queue(maxsize=max_queue)
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
        self._unreported: dict[str, _Tally] = {}
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

    # -- the sender thread ------------------------------------------------------------------

    def _urgent(self) -> bool:
        return self._flushers > 0 or self._closing

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

    def _next_batch(self) -> list[_Item]:
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

    def _deliver(self, batch: list[_Item]) -> None:
        """Send a batch; on a 4xx split it to isolate the refused decisions."""
        parts = [batch]
        while parts:
            part = parts.pop()
            try:
                result = self._send(part)
            except _GiveUpError as exc:
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

    def _retry_wait(self, attempt: int, error: ClientError, what: str) -> None:
        """Sleep before retry number `attempt`, or give up."""
        if attempt > self.max_retries:
            raise _GiveUpError(f"{what} failed {attempt} times, the last with: {error}")
        if self._abort.is_set():
            raise _GiveUpError(f"the logger was closed while the service was unavailable ({error})")
        delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        delay *= 0.5 + random.random() / 2  # noqa: S311 - jitter, not a secret
        log.info("DecisionLogger %s: %s failed (%s); retry %d in %.2fs", self.client_id, what, error, attempt, delay)
        if self._abort.wait(delay):
            raise _GiveUpError(f"the logger was closed while the service was unavailable ({error})")

    def _send(self, part: list[_Item]) -> BatchResult:
        attempt = 0
        while True:
            try:
                return self.client.record_encoded_decisions([encoded for _, encoded in part])
            except ClientError as exc:
                if not isinstance(exc, ServiceUnavailable) and exc.status not in _RETRYABLE_STATUS:
                    raise
                attempt += 1
                self._retry_wait(attempt, exc, f"sending {len(part)} decisions")

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

    def _drop(self, part: Sequence[_Item], category: str, message: str) -> None:
        log.warning("DecisionLogger %s: dropping %d decisions: %s: %s", self.client_id, len(part), category, message)
        self._record_drop(category, message, [decision_id for decision_id, _ in part], settled=True)

    def _record_drop(self, category: str, message: str, ids: Sequence[str], *, settled: bool) -> None:
        now = datetime.now(UTC)
        with self._changed:
            self._dropped += len(ids)
            if settled:
                self._settled += len(ids)
            tally = self._unreported.get(category)
            if tally is None:
                self._unreported[category] = tally = _Tally(0, now, now, message)
            tally.add(ids, now)
            self._changed.notify_all()

    # -- reporting drops --------------------------------------------------------------------

    def _maybe_report(self) -> None:
        if not self._unreported:
            return
        if self._urgent() or time.monotonic() - self._last_report >= self.report_interval:
            self._report(final=False)

    def _report(self, *, final: bool) -> None:
        """One `decisions.dropped` entry per reason; what cannot be delivered is kept for later."""
        with self._changed:
            pending, self._unreported = self._unreported, {}
            self._reports_started += 1
        self._last_report = time.monotonic()
        for category, tally in pending.items():
            try:
                self._report_one(category, tally, retries=not final or not self._abort.is_set())
            except Exception as exc:
                # Kept for the next round unless the service refused it (a 4xx: it would refuse again).
                keep = not isinstance(exc, ClientError) or isinstance(exc, ServiceUnavailable)
                log.error(
                    "DecisionLogger %s: could not report %d dropped decisions (%s)%s",
                    self.client_id,
                    tally.count,
                    exc,
                    "; will try again" if keep and not final else "",
                )
                if keep:
                    with self._changed:
                        earlier = self._unreported.setdefault(category, tally)
                        if earlier is not tally:
                            earlier.merge(tally)
            else:
                with self._changed:
                    self._dropped_reported += tally.count
        with self._changed:
            self._reports_done += 1
            self._changed.notify_all()

    def _report_one(self, category: str, tally: _Tally, *, retries: bool) -> None:
        attempt = 0
        while True:
            try:
                self.client.record_dropped(
                    client_id=self.client_id,
                    count=tally.count,
                    first_dropped_at=_utc(tally.first),
                    last_dropped_at=_utc(tally.last),
                    reason=tally.reason(category),
                )
                return
            except ClientError as exc:
                if not retries or (not isinstance(exc, ServiceUnavailable) and exc.status not in _RETRYABLE_STATUS):
                    raise
                attempt += 1
                self._retry_wait(attempt, exc, f"reporting {tally.count} dropped decisions")
