"""`govledger serve --workers 2`: two server processes over one ledger, on SQLite and PostgreSQL.

Decisions posted concurrently to both processes must all be recorded once, at contiguous
sequence numbers, and the log must verify; the CLI process itself migrates the database before
the workers start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from ledger.access import Role, create_api_key
from ledger.api import local_actor
from ledger.config import Settings
from ledger.lineage import open_governance_ledger
from ledger.sequencer import CheckpointPolicy
from tests.client.conftest import free_port
from tests.lineage.factories import build_chain, decision

BATCHES, PER_BATCH = 24, 50


def _decision_batch(batch: int) -> list[dict[str, Any]]:
    model = {"model": {"name": "credit", "version": "1"}}
    return [decision(f"w-{batch}-{i}", model, subject=f"applicant-{batch}-{i}") for i in range(PER_BATCH)]


def test_two_worker_processes_record_every_decision_once(db_url: str, home: Path) -> None:
    settings = Settings(database_url=db_url, home=home)
    with open_governance_ledger(settings, policy=CheckpointPolicy(after_batch=True, max_delay_s=None)) as ledger:
        ledger.init(origin="workers.example/log")
        token, _ = create_api_key(ledger, name="scorer", role=Role.PRODUCER, actor=local_actor())
        build_chain(ledger)
        size = ledger.size
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVLEDGER_")}
    command = [sys.executable, "-m", "ledger.cli", "--database-url", db_url, "--home", str(home)]
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
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        assert len(children) >= 2  # uvicorn's supervisor really runs two worker processes
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    assert recorded == BATCHES * PER_BATCH
    with open_governance_ledger(settings) as ledger:
        assert ledger.size == size + BATCHES * PER_BATCH
        seqs = [ledger.get(seq).seq for seq in range(size, ledger.size)]
        assert seqs == list(range(size, size + BATCHES * PER_BATCH))
        assert ledger.verify().ok
