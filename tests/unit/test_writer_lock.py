"""The SQLite writer queue: one holder at a time across threads and processes, and a fallback
to the thread lock where no lock file can be opened."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest

from ledger.storage.writer_queue import WriterQueue, lock_file_for


def test_lock_file_sits_beside_the_database_file(tmp_path: Path) -> None:
    assert lock_file_for(str(tmp_path / "govledger.db")) == tmp_path / "govledger.db-writers.lock"


@pytest.mark.parametrize("database", [None, "", ":memory:", "file:memdb1?mode=memory&cache=shared"])
def test_databases_without_a_file_need_no_lock_file(database: str | None) -> None:
    assert lock_file_for(database) is None


def _hold(lock_path: str, events: str, hold_s: float, ready: multiprocessing.synchronize.Event) -> None:
    queue = WriterQueue(Path(lock_path))
    with queue.acquire():
        ready.set()
        with Path(events).open("a") as out:
            out.write(f"child-in {time.monotonic_ns()}\n")
        time.sleep(hold_s)
        with Path(events).open("a") as out:
            out.write(f"child-out {time.monotonic_ns()}\n")


def test_a_second_process_waits_until_the_holder_releases(tmp_path: Path) -> None:
    lock_path, events = tmp_path / "db-writers.lock", tmp_path / "events"
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    child = context.Process(target=_hold, args=(str(lock_path), str(events), 0.3, ready))
    child.start()
    try:
        assert ready.wait(30), "the child never took the lock"
        with WriterQueue(lock_path).acquire():
            entered = time.monotonic_ns()
    finally:
        child.join(30)
    marks = dict(line.split() for line in events.read_text().splitlines())
    assert child.exitcode == 0
    assert int(marks["child-in"]) < int(marks["child-out"]) <= entered


def test_threads_of_one_process_take_turns(tmp_path: Path) -> None:
    queue = WriterQueue(tmp_path / "db-writers.lock")
    inside = 0
    most = 0
    guard = threading.Lock()

    def work() -> None:
        nonlocal inside, most
        for _ in range(50):
            with queue.acquire():
                with guard:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.0005)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1


def test_a_forked_child_queues_behind_its_parent(tmp_path: Path) -> None:
    """The child must open its own descriptor: one inherited from the parent shares its flock."""
    queue, events = WriterQueue(tmp_path / "db-writers.lock"), tmp_path / "events"
    with queue.acquire():
        pid = os.fork()
        if pid == 0:  # the child: queue behind the parent, then report when it got in
            try:
                with queue.acquire():
                    events.write_text(f"{time.monotonic_ns()}")
            finally:
                os._exit(0)
        time.sleep(0.3)
        released = time.monotonic_ns()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert int(events.read_text()) >= released


def test_a_missing_directory_falls_back_to_the_thread_lock(tmp_path: Path) -> None:
    queue = WriterQueue(tmp_path / "absent" / "db-writers.lock")
    with queue.acquire():
        pass
    with queue.acquire():  # the failure is remembered: no retry on every write
        pass
    queue.close()
