"""A committed tail left unsigned by a crash is signed when the service starts, or refused loudly
(issue 15, item 7). The app runs its real lifespan (fastapi's TestClient starts it) over a ledger
it opens itself, as `govledger serve` does."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from govledger.registry import open_ledger
from govledger.service import full_app
from ledger.config import Settings
from ledger.log.entry import Actor
from ledger.storage import store
from ledger.storage.db import create_engine
from ledger.storage.sequencer import CheckpointPolicy
from tests.ledger.tampering import append_forged_tail

NO_TIMER = CheckpointPolicy(after_batch=False, every_entries=None, max_delay_s=None)


CRASHING_WRITER = """
import os, signal, sys
from pathlib import Path
from govledger.registry import open_ledger
from ledger.access.api_keys import create_api_key
from ledger.api import local_actor
from ledger.config import Settings
from ledger.storage import store
from ledger.storage.db import create_engine
from ledger.storage.sequencer import CheckpointPolicy

policy = CheckpointPolicy(after_batch=False, every_entries=None, max_delay_s=None)
ledger = open_ledger(Settings(database_url=sys.argv[1], home=Path(sys.argv[2])), policy=policy)
ledger.init(origin="crash.example/log")
token, _ = create_api_key(ledger, name="auditor", role="auditor", actor=local_actor())
for i in range(3):
    ledger.append("note.recorded", {"text": f"committed before the crash {i}"}, actor=local_actor())
print(token, ledger.size - 1, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # after the commits, before any checkpoint or clean close
"""


def leave_an_unsigned_tail(settings: Settings) -> tuple[str, int]:
    """What a crash between commit and checkpoint leaves: a writer killed with SIGKILL after its
    appends committed (a clean close would have signed them)."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    killed = subprocess.run(
        [sys.executable, "-c", CRASHING_WRITER, settings.database_url, str(settings.home)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    token, last = killed.stdout.split()
    engine = create_engine(settings.database_url)  # read, not a Ledger: closing one signs the tail
    try:
        with engine.connect() as conn:
            head = store.read_head(conn)
    finally:
        engine.dispose()
    assert head.size == int(last) + 1 and head.checkpoint_size <= int(last)  # really left unsigned
    return token, int(last)


def test_the_service_signs_a_committed_unsigned_tail_as_it_starts(db_url: str, home: Path) -> None:
    settings = Settings(database_url=db_url, home=home)
    token, last = leave_an_unsigned_tail(settings)
    with TestClient(full_app(settings)) as client:
        response = client.get(f"/v1/entries/{last}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.json()["inclusion_proof"] is not None
    assert response.json()["inclusion_proof"]["size"] == last + 1


def test_the_service_refuses_loudly_to_sign_a_forged_tail_and_still_serves(
    db_url: str, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database_url=db_url, home=home)
    token, _ = leave_an_unsigned_tail(settings)
    with open_ledger(settings, policy=NO_TIMER) as ledger:
        forged = append_forged_tail(ledger.engine, Actor("key:0000000000000000", "mallory"))
    with caplog.at_level(logging.ERROR), TestClient(full_app(settings)) as client:
        response = client.get(f"/v1/entries/{forged}", headers={"Authorization": f"Bearer {token}"})
        assert client.app.state.ledger.signing_refused is not None  # type: ignore[attr-defined]
    assert response.status_code == 200
    assert response.json()["inclusion_proof"] is None
    assert any("was not signed" in r.getMessage() and "key:0000000000000000" in r.getMessage() for r in caplog.records)
