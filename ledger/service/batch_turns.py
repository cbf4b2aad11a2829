"""Batched decision POSTs are written one at a time per server process.

Why: each batch is CPU-bound Python (validation, sealing, encoding) in a thread, so two batches
in one process only share the GIL: they finish no sooner, and the one holding the sequencer lock
is slowed by the other (measured with 4 connections, one process: 10,500-11,200 decisions/s when
batches overlap, 11,900-12,200 one at a time; two processes, 8 connections: 15,600-17,500
against 18,500-19,900). Waiting requests queue on the event loop in arrival order (asyncio's
locks are fair), not in threads. Single-decision POSTs keep their own queue
(`ledger.service.group_commit`), so a long batch does not stop them from being grouped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

__all__ = ["BatchTurns"]

P = ParamSpec("P")
R = TypeVar("R")


class BatchTurns:
    """Run blocking batch writes in a worker thread, one at a time, in arrival order."""

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _current_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:  # an app reused under another loop (tests)
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock

    async def run(self, write: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        async with self._current_lock():
            return await run_in_threadpool(write, *args, **kwargs)
