"""The state every part of `DecisionLogger` shares, and its one retry policy.

Why a module of its own: the logger is built in layers, each in its own module (this core, drop
reporting in `ledger.client.logger_drops`, the sender thread in `ledger.client.logger_sender`,
the caller's side in `ledger.client.logger`). The sender and the drop reports retry the same
errors the same way (a connection error, a timeout, a 5xx, 408 or 429; exponential backoff with
jitter, up to `max_retries` times, cut short by `close(timeout)`; tenacity does the retrying), and
both account for their work under one lock; both are decided once, here. It talks HTTP only,
through `GovledgerClient`.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
from collections.abc import Callable
from typing import NoReturn, TypeVar

import tenacity

from ledger.client.api import ClientError, GovledgerClient, ServiceUnavailable

__all__ = ["RETRYABLE_STATUS", "GiveUpError", "Item", "LoggerCore", "log", "retryable"]

log = logging.getLogger("ledger.client.logger")

RETRYABLE_STATUS = frozenset({408, 429})

Item = tuple[str, bytes]  # (decision id, the decision encoded as JSON)
T = TypeVar("T")


def retryable(error: BaseException) -> bool:
    """A connection error, a timeout or a 5xx (`ServiceUnavailable`), 408 or 429: worth sending again."""
    return isinstance(error, ServiceUnavailable) or (
        isinstance(error, ClientError) and error.status in RETRYABLE_STATUS
    )


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

    def _with_retries(self, call: Callable[[], T], what: str) -> T:
        """`call()`, called again after a retryable error (exponential backoff with jitter) up to
        `max_retries` times; GiveUpError once they run out or `close()` aborts the wait. Any other
        error is raised at once."""
        exponential = tenacity.wait_exponential(multiplier=self.backoff, max=self.max_backoff)
        failures: list[BaseException] = []

        def wait(state: tenacity.RetryCallState) -> float:
            return exponential(state) * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not a secret

        def before_sleep(state: tenacity.RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            failures.append(error or RuntimeError("unknown error"))
            delay, attempt = state.upcoming_sleep, state.attempt_number
            log.info(
                "DecisionLogger %s: %s failed (%s); retry %d in %.2fs", self.client_id, what, error, attempt, delay
            )

        def sleep(seconds: float) -> None:
            if self._abort.wait(seconds):
                raise GiveUpError(f"the logger was closed while the service was unavailable ({failures[-1]})")

        def give_up(state: tenacity.RetryCallState) -> NoReturn:
            error = state.outcome.exception() if state.outcome else None
            if state.attempt_number > self.max_retries:
                raise GiveUpError(f"{what} failed {state.attempt_number} times, the last with: {error}")
            raise GiveUpError(f"the logger was closed while the service was unavailable ({error})")

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(retryable),
            stop=tenacity.stop_after_attempt(self.max_retries + 1) | tenacity.stop_when_event_set(self._abort),
            wait=wait,
            sleep=sleep,
            before_sleep=before_sleep,
            retry_error_callback=give_up,
        )
        return retrying(call)
