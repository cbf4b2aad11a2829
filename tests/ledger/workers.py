"""Code that runs in child OS processes for the concurrency and crash tests."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Connection

from ledger.api import Ledger
from ledger.log.entry import Actor, SealedEntry
from ledger.storage.sequencer import CheckpointPolicy


def append_many_times(url: str, home: str, worker: int, count: int, batch: int) -> None:
    actor = Actor(f"local:worker{worker}", f"worker{worker}")
    with Ledger.open(url, home=Path(home), policy=CheckpointPolicy(every_entries=500, max_delay_s=None)) as ledger:
        for start in range(0, count, batch):
            items = [
                {"kind": "note.recorded", "data": {"text": f"w{worker}-{i}"}, "subject": f"worker{worker}"}
                for i in range(start, min(count, start + batch))
            ]
            ledger.append_many(items, actor=actor)


def append_batch_and_signal(url: str, home: str, marker: str, size: int, pause: float) -> None:
    """Append one large batch; the hook writes `marker` inside the transaction, then pauses."""

    def hook(_conn: Connection, _batch: Sequence[SealedEntry]) -> None:
        Path(marker).write_text("in transaction")
        time.sleep(pause)

    actor = Actor("local:crasher", "crasher")
    with Ledger.open(
        url, home=Path(home), hooks=[hook], policy=CheckpointPolicy(after_batch=True, max_delay_s=None)
    ) as ledger:
        ledger.append_many([{"kind": "note.recorded", "data": {"text": f"c{i}"}} for i in range(size)], actor=actor)
    Path(marker).write_text("committed")
