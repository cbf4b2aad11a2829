"""Several writer processes at once, and a writer killed in the middle of a batch."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from ledger.api import Ledger
from ledger.log.entry import decode_body
from tests.ledger import workers

CTX = multiprocessing.get_context("spawn")


@pytest.mark.slow
def test_four_processes_append_10000_entries_contiguously(ledger: Ledger, db_url: str, home: Path) -> None:
    processes = [
        CTX.Process(target=workers.append_many_times, args=(db_url, str(home), worker, 2500, 1 if worker < 2 else 25))
        for worker in range(4)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=600)
        assert process.exitcode == 0
    assert ledger.size == 1 + 10_000
    report = ledger.verify()
    assert report.ok, report.problems
    per_worker: dict[str, list[int]] = {}
    for entry in ledger.entries(start=1, limit=20_000):
        per_worker.setdefault(entry.actor.name, []).append(int(entry.data["text"].split("-")[1]))
    assert sorted(per_worker) == ["worker0", "worker1", "worker2", "worker3"]
    for numbers in per_worker.values():
        assert numbers == list(range(2500))  # each writer's entries in its own order, none lost or doubled
    assert ledger.verify(deep=False).ok


@pytest.mark.slow
@pytest.mark.parametrize("pause", [0.0, 5.0], ids=["during-insert", "before-insert"])
def test_writer_killed_mid_batch_leaves_whole_batch_or_none(
    ledger: Ledger, db_url: str, home: Path, tmp_path: Path, pause: float
) -> None:
    before = ledger.size
    marker = tmp_path / "marker"
    process = CTX.Process(target=workers.append_batch_and_signal, args=(db_url, str(home), str(marker), 60_000, pause))
    process.start()
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert time.monotonic() < deadline, "the writer never reached its transaction"
        time.sleep(0.005)
    time.sleep(0.05 if pause == 0 else 0.5)
    assert process.pid is not None
    os.kill(process.pid, signal.SIGKILL)
    process.join()
    assert process.exitcode == -signal.SIGKILL
    after = ledger.size
    assert after in (before, before + 60_000)
    assert marker.read_text() == "in transaction"  # it was killed before it could report a commit
    report = ledger.verify()
    assert report.ok, report.problems
    if after > before:
        assert decode_body(ledger.get(after - 1).body)["data"] == {"text": "c59999"}
    # and the log still takes appends afterwards (no lock left behind)
    ledger.append("note.recorded", {"text": "after the crash"}, actor=ledger.get(0).actor)
    assert ledger.verify().ok
