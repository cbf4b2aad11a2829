"""Migrations on both databases, signing-key handling, and the checkpoint cadence."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest
from sqlalchemy import inspect

from ledger.api import Ledger
from ledger.errors import SigningKeyError
from ledger.log.entry import Actor
from ledger.log.note import generate_signer
from ledger.log.signing_keys import SIGNING_KEY_ENV, key_path
from ledger.storage.db import create_engine
from ledger.storage.migrations import check_models_match, current_revision, head_revision, upgrade_to_head
from ledger.storage.sequencer import CheckpointPolicy


def test_upgrade_from_empty_reaches_head_and_models_match(db_url: str) -> None:
    engine = create_engine(db_url)
    assert current_revision(engine) is None
    upgrade_to_head(engine)
    assert current_revision(engine) == head_revision(engine)
    check_models_match(engine)  # `alembic check`: raises if schema.py and the migrations differ
    assert {"entries", "log_head", "checkpoints"} <= set(inspect(engine).get_table_names())
    upgrade_to_head(engine)  # idempotent
    engine.dispose()


def test_key_from_environment_signs_and_no_key_file_is_written(
    db_url: str, home: Path, monkeypatch: pytest.MonkeyPatch, actor: Actor
) -> None:
    signer = generate_signer("env.example/log")
    monkeypatch.setenv(SIGNING_KEY_ENV, signer.skey)
    with Ledger.open(db_url, home=home, policy=CheckpointPolicy(after_batch=True, max_delay_s=None)) as ledger:
        ledger.init()
        ledger.append("note.recorded", {"text": "x"}, actor=actor)
        assert ledger.key_ring().current == signer.verifier
        assert ledger.latest_checkpoint().key_ids == (signer.key_id,)  # type: ignore[union-attr]
        with pytest.raises(SigningKeyError, match="rotate with a key file"):
            ledger.rotate_key(actor=actor)
    assert not key_path(home, "env.example/log").exists()


def test_wrong_or_missing_key_is_refused_before_writing(
    ledger: Ledger, home: Path, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    size = ledger.size
    monkeypatch.setenv(SIGNING_KEY_ENV, generate_signer("test.example/log").skey)
    reopened = Ledger(ledger.engine, home=home)
    with pytest.raises(SigningKeyError, match="not in this log's key ring"):
        reopened.append("note.recorded", {"text": "x"}, actor=actor)
    monkeypatch.delenv(SIGNING_KEY_ENV)
    key_path(home, "test.example/log").unlink()
    with pytest.raises(SigningKeyError, match="no signing key"):
        Ledger(ledger.engine, home=home).append("note.recorded", {"text": "x"}, actor=actor)
    assert ledger.size == size


def test_key_file_is_private(ledger: Ledger, home: Path) -> None:
    path = key_path(home, "test.example/log")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("PRIVATE+KEY+test.example/log+")


def test_retired_key_cannot_sign_new_checkpoints(
    ledger: Ledger, home: Path, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_key = key_path(home, "test.example/log").read_text().strip()
    ledger.rotate_key(actor=actor)
    monkeypatch.setenv(SIGNING_KEY_ENV, old_key)
    with pytest.raises(SigningKeyError, match="retired"):
        Ledger(ledger.engine, home=home).append("note.recorded", {"text": "x"}, actor=actor)


def test_background_checkpointer_covers_an_idle_tail(db_url: str, home: Path, actor: Actor) -> None:
    policy = CheckpointPolicy(after_batch=False, every_entries=None, max_delay_s=0.2)
    with Ledger.open(db_url, home=home, policy=policy) as ledger:
        ledger.init(origin="cadence.example/log")
        time.sleep(0.3)  # let the newest checkpoint age past max_delay_s
        ledger.append("note.recorded", {"text": "first"}, actor=actor)  # due at once: signed inline
        assert ledger.latest_checkpoint().size == 2  # type: ignore[union-attr]
        ledger.append("note.recorded", {"text": "second"}, actor=actor)  # not due: left to the background thread
        deadline = time.monotonic() + 30
        while ledger.latest_checkpoint().size < 3:  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the background checkpointer never covered entry 2"
            time.sleep(0.02)


def test_close_signs_a_final_checkpoint(db_url: str, home: Path, actor: Actor) -> None:
    policy = CheckpointPolicy(after_batch=False, every_entries=None, max_delay_s=3600)
    with Ledger.open(db_url, home=home, policy=policy) as ledger:
        ledger.init(origin="close.example/log")
        ledger.append("note.recorded", {"text": "x"}, actor=actor)
    with Ledger.open(db_url, home=home) as reopened:
        assert reopened.latest_checkpoint().size == 2  # type: ignore[union-attr]
        assert reopened.verify().warnings == []


def test_writer_whose_key_was_rotated_elsewhere_switches_to_the_new_key(
    ledger: Ledger, db_url: str, home: Path, actor: Actor
) -> None:
    policy = CheckpointPolicy(after_batch=True, max_delay_s=None)
    with Ledger.open(db_url, home=home, policy=policy) as other:
        other.append("note.recorded", {"text": "other writer, old key"}, actor=actor)
        ledger.rotate_key(actor=actor)
        other.append("note.recorded", {"text": "other writer, after the rotation"}, actor=actor)
        other.checkpoint()
    ring = ledger.key_ring()
    assert ledger.latest_checkpoint().key_ids == (ring.current.key_id,)  # type: ignore[union-attr]
    report = ledger.verify()
    assert report.ok, report.problems
