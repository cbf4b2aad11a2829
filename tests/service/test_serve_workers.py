"""`govledger serve --workers 2`: two server processes over one ledger, on SQLite and PostgreSQL.

Decisions posted concurrently to both processes must all be recorded once, at contiguous
sequence numbers, and the log must verify; the CLI process itself migrates the database before
the workers start. Each worker listens on its own socket, so the kernel spreads connections
over both (with one shared socket, one worker took every keep-alive connection); a port that
is already taken is refused with exit code 2 and one line."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from govledger.registry import open_ledger
from ledger.access.api_keys import Role, create_api_key
from ledger.api import local_actor
from ledger.config import Settings
from ledger.storage.sequencer import CheckpointPolicy
from tests.client.conftest import free_port
from tests.lineage.factories import build_chain, decision

BATCHES, PER_BATCH = 24, 50
CONNECTIONS = 16  # all on one of two workers by chance: p = 2 / 2**16


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = str(fd.readlink())
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def _tcp_sockets(port: int, state: str) -> dict[str, str]:
    """{inode: remote address} of the IPv4 TCP sockets on local `port` in `state` (hex, /proc/net/tcp)."""
    found = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            found[fields[9]] = fields[2]
    return found


def _listening_children(pid: int, port: int) -> dict[int, set[str]]:
    """{child of `pid`: the inodes of its sockets listening on `port`}, for children that have any."""
    listening = set(_tcp_sockets(port, "0A"))
    children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    held = {child: _socket_inodes(child) & listening for child in children}
    return {child: inodes for child, inodes in held.items() if inodes}


def _kill_one_and_see_it_restarted(
    pid: int, port: int, base: str, headers: dict[str, str], workers: dict[int, set[str]]
) -> None:
    victim, survivor = workers
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:
        now = _listening_children(pid, port)
        if len(now) == 2 and victim not in now:
            break
        assert time.monotonic() < deadline, f"the killed worker was not started again: {now}"
        time.sleep(0.2)
    assert survivor in now
    assert now[next(p for p in now if p != survivor)] == workers[victim], "restarted on the same socket"
    for _ in range(8):
        with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
            assert client.get("/v1/checkpoints/latest").status_code == 200


def _established(pid: int, port: int) -> set[str]:
    return _socket_inodes(pid) & set(_tcp_sockets(port, "01"))


def _decision_batch(batch: int) -> list[dict[str, Any]]:
    model = {"model": {"name": "credit", "version": "1"}}
    return [decision(f"w-{batch}-{i}", model, subject=f"applicant-{batch}-{i}") for i in range(PER_BATCH)]


def test_two_worker_processes_record_every_decision_once(db_url: str, home: Path) -> None:
    settings = Settings(database_url=db_url, home=home)
    with open_ledger(settings, policy=CheckpointPolicy(after_batch=True, max_delay_s=None)) as ledger:
        ledger.init(origin="workers.example/log")
        token, _ = create_api_key(ledger, name="scorer", role=Role.PRODUCER, actor=local_actor())
        build_chain(ledger)
        size = ledger.size
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVLEDGER_")}
    command = [sys.executable, "-m", "govledger", "--database-url", db_url, "--home", str(home)]
    command += ["serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else "server exited"
            try:
                if httpx.get(f"{base}/v1/checkpoints/latest", headers=headers, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.2)

        def post(batch: int) -> int:
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                response = client.post("/v1/decisions", json=_decision_batch(batch))
                assert response.status_code == 201, response.text
                return len(response.json()["recorded"])

        with ThreadPoolExecutor(max_workers=6) as pool:
            recorded = sum(pool.map(post, range(BATCHES)))
        workers = _listening_children(server.pid, port)
        assert len(workers) == 2, workers  # two processes...
        first, second = workers.values()
        assert len(first) == len(second) == 1 and first != second, workers  # ...each with its own socket
        clients = [httpx.Client(base_url=base, headers=headers, timeout=10) for _ in range(CONNECTIONS)]
        try:
            for client in clients:  # each keeps its connection open afterwards
                assert client.get("/v1/checkpoints/latest").status_code == 200
            held = {pid: len(_established(pid, port)) for pid in workers}
        finally:
            for client in clients:
                client.close()
        assert sum(held.values()) == CONNECTIONS
        assert all(held.values()), f"the kernel gave every connection to one worker: {held}"
        _kill_one_and_see_it_restarted(server.pid, port, base, headers, workers)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    assert recorded == BATCHES * PER_BATCH
    with open_ledger(settings) as ledger:
        assert ledger.size == size + BATCHES * PER_BATCH
        seqs = [ledger.get(seq).seq for seq in range(size, ledger.size)]
        assert seqs == list(range(size, size + BATCHES * PER_BATCH))
        assert ledger.verify().ok


def test_serve_refuses_a_port_that_is_already_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for workers in ("1", "2"):
            command = [sys.executable, "-m", "govledger", "--database-url", f"sqlite:///{tmp_path}/l.db"]
            command += ["--home", str(tmp_path), "serve", "--port", str(port), "--workers", workers]
            result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
            assert result.returncode == 2, result.stderr
            assert result.stderr.strip().splitlines() == [
                f"govledger: error: cannot listen on 127.0.0.1:{port}: Address already in use"
            ]
