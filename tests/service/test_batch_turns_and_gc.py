"""Batched writes take turns (one at a time per process, in arrival order), and a serving
process freezes its start-up heap and raises the young GC threshold."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time

from ledger.service.batch_turns import BatchTurns


def test_batches_run_one_at_a_time_in_arrival_order() -> None:
    turns = BatchTurns()
    inside, most, order = 0, 0, []
    guard = threading.Lock()

    def write(name: int) -> int:
        nonlocal inside, most
        with guard:
            inside += 1
            most = max(most, inside)
        time.sleep(0.01)
        with guard:
            inside -= 1
            order.append(name)
        return name * 10

    async def main() -> list[int]:
        tasks = []
        for name in range(8):
            tasks.append(asyncio.create_task(turns.run(write, name)))
            await asyncio.sleep(0)  # each request arrives after the previous one
        return await asyncio.gather(*tasks)

    assert asyncio.run(main()) == [n * 10 for n in range(8)]
    assert most == 1
    assert order == list(range(8))
    assert asyncio.run(turns.run(write, 9)) == 90, "usable again under a new event loop"


def test_a_serving_process_freezes_its_heap_and_raises_the_gc_threshold() -> None:
    probe = (
        "import gc; from ledger.service.gc_tuning import GEN0_THRESHOLD, tune_for_serving;"
        "assert gc.get_freeze_count() == 0; tune_for_serving();"
        "assert gc.get_freeze_count() > 1000, gc.get_freeze_count();"
        "assert gc.get_threshold()[0] == GEN0_THRESHOLD >= 5000, gc.get_threshold()"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=60)
