"""Nothing unsigned that is not the ledger's own (issue 15, item 4).

A row written straight into the database at the tail (valid chain, subtree hashes and head row)
by an actor key the log never created must be named by `verify --deep`, and the sequencer must
refuse to sign it, loudly, on every path that signs: the explicit checkpoint, an append whose
checkpoint is due, and the background checkpointer. A tail written by another writer of the same
ledger, with keys the log created, is checked and signed."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from govledger.registry import open_ledger
from ledger.access.api_keys import create_key_actor
from ledger.api import Ledger, local_actor
from ledger.config import Settings
from ledger.log.entry import Actor
from ledger.storage.sequencer import CheckpointPolicy
from ledger.storage.tail_check import TailRefusedError
from tests.ledger.tampering import append_forged_tail

NEVER_CREATED = Actor("key:0000000000000000", "mallory")
NO_TIMER = CheckpointPolicy(after_batch=False, every_entries=None, max_delay_s=None)


def checkpoint_count(ledger: Ledger) -> int:
    with ledger.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM checkpoints")).scalar_one())


def test_verify_names_an_entry_by_a_key_the_log_never_created(ledger: Ledger) -> None:
    seq = append_forged_tail(ledger.engine, NEVER_CREATED)
    report = ledger.verify(deep=True)
    assert not report.ok
    (problem,) = [p for p in report.problems if p.code == "unknown_actor_key"]
    assert problem.seq == seq and "key:0000000000000000" in problem.message


def governance_ledger(db_url: str, home: Path, policy: CheckpointPolicy) -> Ledger:
    """A ledger with every kind (API keys are `access.*` entries, not the core log's)."""
    return open_ledger(Settings(database_url=db_url, home=home), policy=policy)


def test_verify_accepts_entries_by_keys_the_log_created(db_url: str, home: Path) -> None:
    with governance_ledger(db_url, home, NO_TIMER) as ledger:
        ledger.init(origin="test.example/log")
        producer = create_key_actor(ledger, name="producer", role="producer", actor=local_actor())
        ledger.append("note.recorded", {"text": "by a real key"}, actor=producer)
        assert ledger.verify(deep=True).ok


def test_a_forged_tail_is_not_signed_by_checkpoint_or_by_the_next_append(
    ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    seq = append_forged_tail(ledger.engine, NEVER_CREATED)
    signed = checkpoint_count(ledger)
    with caplog.at_level(logging.ERROR), pytest.raises(TailRefusedError, match=f"entry {seq}: written by key:0{{16}}"):
        ledger.checkpoint()
    assert any("refusing to sign" in r.message and r.levelno == logging.ERROR for r in caplog.records)
    size = ledger.size
    with pytest.raises(TailRefusedError):  # the fixture's ledger signs after every batch
        ledger.append("note.recorded", {"text": "honest"}, actor=local_actor())
    assert ledger.size == size and checkpoint_count(ledger) == signed
    assert ledger.signing_refused is not None and "key:0000000000000000" in ledger.signing_refused


def test_the_background_checkpointer_refuses_a_forged_tail(db_url: str, home: Path) -> None:
    policy = CheckpointPolicy(after_batch=False, every_entries=None, max_delay_s=0.1)
    with Ledger.open(db_url, home=home, policy=policy) as ledger:
        ledger.init(origin="test.example/log")
        ledger.append("note.recorded", {"text": "starts the checkpointer"}, actor=local_actor())
        time.sleep(0.3)
        signed = checkpoint_count(ledger)
        append_forged_tail(ledger.engine, NEVER_CREATED)
        deadline = time.monotonic() + 5
        while ledger.signing_refused is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ledger.signing_refused is not None
        assert checkpoint_count(ledger) == signed


def test_a_tail_another_writer_appended_with_a_created_key_is_checked_and_signed(db_url: str, home: Path) -> None:
    with governance_ledger(db_url, home, NO_TIMER) as first:
        first.init(origin="test.example/log")
        producer = create_key_actor(first, name="producer", role="producer", actor=local_actor())
        first.checkpoint()
        with governance_ledger(db_url, home, NO_TIMER) as second:
            for i in range(5):
                second.append("note.recorded", {"text": f"from the other writer {i}"}, actor=producer)
        first.append("note.recorded", {"text": "and one from here"}, actor=producer)
        signed = first.checkpoint()
        assert signed.size == first.size
        assert first.signing_refused is None
        assert first.verify(deep=True).ok
