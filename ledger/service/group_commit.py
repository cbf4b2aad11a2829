"""Group commit for single-decision POSTs: concurrent requests share one transaction.

Why: a decision posted alone pays a whole write transaction (lock, fsync, checkpoint bookkeeping),
which bounds single POSTs to a few hundred per second. Requests that arrive while a batch is
being written wait in a queue and are written together, as one `append_many`, when it ends.

Nothing changes for the caller: each request still gets its own receipt (or duplicate answer)
only after its entry is committed. If the shared batch is refused (one bad decision, a decision
id posted twice at once), every request in it is retried alone, so a bad request gets its own
error and cannot fail the others. Batches never mix actors: each entry records who sent it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool

from ledger.api import Ledger
from ledger.lineage.decisions import record_decisions
from ledger.log.entry import Actor

__all__ = ["DecisionBatcher"]

log = logging.getLogger(__name__)

Outcome = tuple[dict[str, Any] | None, BaseException | None]
Record = Callable[[Ledger, Sequence[Any], Actor], dict[str, Any]]


def _record(ledger: Ledger, decisions: Sequence[Any], actor: Actor) -> dict[str, Any]:
    return record_decisions(ledger, decisions, actor=actor)


class DecisionBatcher:
    def __init__(self, ledger: Ledger, *, max_batch: int = 500, record: Record = _record) -> None:
        self._ledger = ledger
        self._max_batch = max_batch
        self._record = record
        self._pending: list[tuple[Any, Actor, asyncio.Future[dict[str, Any]]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def submit(self, decision: Any, actor: Actor) -> dict[str, Any]:
        """Record one decision (with whatever else is waiting); its own `record_decisions` result."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending.append((decision, actor, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            by_actor: dict[Actor, list[tuple[Any, asyncio.Future[dict[str, Any]]]]] = {}
            for decision, actor, future in batch:
                by_actor.setdefault(actor, []).append((decision, future))
            for actor, items in by_actor.items():
                outcomes = await run_in_threadpool(self._write, [d for d, _ in items], actor)
                for (_, future), (result, error) in zip(items, outcomes, strict=True):
                    if future.done():  # the request was cancelled (client went away)
                        continue
                    if error is not None:
                        future.set_exception(error)
                    else:
                        assert result is not None
                        future.set_result(result)

    def _write(self, decisions: list[Any], actor: Actor) -> list[Outcome]:
        """One transaction for all; if refused, one each (so each gets its own answer)."""
        if len(decisions) > 1:
            try:
                together = self._record(self._ledger, decisions, actor)
            except Exception as exc:  # any refusal: retry alone below, each with its own answer
                log.debug("shared batch of %d refused (%s); writing each alone", len(decisions), exc)
            else:
                return [(self._own(together, d), None) for d in decisions]
        outcomes: list[Outcome] = []
        for decision in decisions:
            try:
                outcomes.append((self._record(self._ledger, [decision], actor), None))
            except Exception as exc:  # handed to the request's own error handler
                outcomes.append((None, exc))
        return outcomes

    @staticmethod
    def _own(together: dict[str, Any], decision: Any) -> dict[str, Any]:
        decision_id = decision["decision_id"]
        recorded = [r for r in together["recorded"] if r["decision_id"] == decision_id]
        duplicates = [r for r in together["duplicates"] if r["decision_id"] == decision_id]
        return {"recorded": recorded, "duplicates": duplicates}
