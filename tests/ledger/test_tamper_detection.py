"""Tamper detection on both databases, by an attacker who can drop the append-only triggers.

Each attack must be caught, with the right first bad sequence number and the right finding.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from ledger.api import Ledger
from ledger.errors import CorruptLedgerError
from ledger.log import checkpoint as cp
from ledger.log import merkle
from ledger.log.canonical import canonical_json
from ledger.log.entry import Actor, format_ts
from ledger.log.note import generate_signer
from ledger.storage.sequencer import CheckpointPolicy
from tests.ledger import tampering

N = 30


@pytest.fixture
def filled(ledger: Ledger, actor: Actor) -> Ledger:
    for batch in range(3):
        ledger.append_many(
            [{"kind": "note.recorded", "data": {"text": f"b{batch}-{i}"}, "subject": f"s{i}"} for i in range(10)],
            actor=actor,
        )
    assert ledger.size == N + 1
    assert ledger.verify().ok
    return ledger


def codes(report: object) -> set[str]:
    return {p.code for p in report.problems}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE entries SET subject = 'x' WHERE seq = 1",
        "DELETE FROM entries WHERE seq = 1",
        "UPDATE checkpoints SET note = 'x'",
        "DELETE FROM checkpoints",
    ],
)
def test_triggers_refuse_update_and_delete(filled: Ledger, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        tampering.run(filled.engine, statement)
    assert filled.verify().ok


def test_postgres_trigger_refuses_truncate(filled: Ledger) -> None:
    if filled.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    with pytest.raises(DBAPIError, match="append-only"):
        tampering.run(filled.engine, "TRUNCATE entries")


def test_one_changed_payload_byte_is_found_at_its_entry(filled: Ledger) -> None:
    tampering.drop_append_only_triggers(filled.engine)
    body = tampering.body_of(filled.engine, 17)
    changed = body.replace(b'"b1-6"', b'"b1-7"')
    assert changed != body and len(changed) == len(body)
    tampering.run(filled.engine, "UPDATE entries SET body = :b WHERE seq = 17", b=changed)
    report = filled.verify()
    assert not report.ok
    assert report.first_bad_seq == 17
    assert "leaf_mismatch" in codes(report)


def test_changed_payload_with_recomputed_leaf_hash_breaks_the_chain(filled: Ledger) -> None:
    tampering.drop_append_only_triggers(filled.engine)
    changed = tampering.body_of(filled.engine, 17).replace(b'"b1-6"', b'"b1-X"')
    tampering.run(
        filled.engine,
        "UPDATE entries SET body = :b, leaf_hash = :h WHERE seq = 17",
        b=changed,
        h=merkle.leaf_hash(changed),
    )
    report = filled.verify()
    assert not report.ok
    assert report.first_bad_seq in (17, 18)
    assert codes(report) & {"chain_broken", "node_mismatch"}
    # (--fast trusts stored subtree hashes and re-hashes no entries: only --deep can see this one.)


def test_deleted_row_is_found_as_missing(filled: Ledger) -> None:
    tampering.drop_append_only_triggers(filled.engine)
    tampering.run(filled.engine, "DELETE FROM entries WHERE seq = 12")
    report = filled.verify()
    assert report.first_bad_seq == 12
    assert "missing_entry" in codes(report)
    assert not filled.verify(deep=False).ok


def test_swapped_rows_are_found_at_the_first_of_them(filled: Ledger) -> None:
    tampering.drop_append_only_triggers(filled.engine)
    rows = {r[0]: r for r in tampering.rows(filled.engine)}
    for target, source in ((5, 9), (9, 5)):
        _, body, leaf, _closes, kind, subject, ts = rows[source]
        tampering.run(
            filled.engine,
            "UPDATE entries SET body = :b, leaf_hash = :h, kind = :k, subject = :s, ts = :t WHERE seq = :seq",
            b=body,
            h=leaf,
            k=kind,
            s=subject,
            t=ts,
            seq=target,
        )
    report = filled.verify()
    assert report.first_bad_seq == 5
    assert "seq_mismatch" in codes(report)
    with pytest.raises(CorruptLedgerError, match="row 5 holds the body of entry 9"):
        filled.get(5)  # reading never silently returns another entry


def test_forged_row_appended_behind_the_sequencer_is_found(filled: Ledger) -> None:
    head = filled.head
    body = tampering.forged_body(head.size, head.head_hash, "forged approval")
    frontier_leaf = merkle.leaf_hash(body)
    tampering.run(
        filled.engine,
        "INSERT INTO entries (seq, leaf_hash, closes, kind, subject, ts, body) "
        "VALUES (:seq, :h, :c, 'note.recorded', NULL, '2026-01-01T00:00:00.000000Z', :b)",
        seq=head.size,
        h=frontier_leaf,
        c=b"",
        b=body,
    )
    report = filled.verify()
    assert report.first_bad_seq == head.size
    assert "beyond_head" in codes(report)
    assert "beyond_head" in codes(filled.verify(deep=False))


def test_forged_row_with_forged_head_is_reported_as_not_signed(filled: Ledger) -> None:
    """Without the signing key, a forger cannot get a row covered by a checkpoint. A careful forger
    (current time, head row, hashes and subtrees all rewritten) leaves nothing wrong but that: the
    row is named as not yet covered, which is also what a legitimately pending tail looks like."""
    head = filled.head
    body = tampering.forged_body(head.size, head.head_hash, "forged approval", ts=format_ts(datetime.now(UTC)))
    bodies = [r[1] for r in tampering.rows(filled.engine)] + [body]
    tampering.drop_append_only_triggers(filled.engine)
    tampering.rewrite_from(filled.engine, bodies)
    for deep in (True, False):
        report = filled.verify(deep=deep)
        assert report.ok, report.problems
        assert report.latest_checkpoint_size == head.size
        assert report.warnings == [
            f"1 newest entries ({head.size}..{head.size}) are not yet covered by a signed checkpoint"
        ]


def test_backdated_forged_row_is_found_out_of_time_order_at_its_seq(filled: Ledger) -> None:
    head = filled.head
    body = tampering.forged_body(head.size, head.head_hash, "forged approval", ts="2000-01-01T00:00:00.000000Z")
    tampering.drop_append_only_triggers(filled.engine)
    tampering.rewrite_from(filled.engine, [r[1] for r in tampering.rows(filled.engine)] + [body])
    report = filled.verify()
    assert report.first_bad_seq == head.size
    assert [(p.seq, p.code) for p in report.problems] == [(head.size, "time_order")]
    assert any(f"({head.size}..{head.size})" in w for w in report.warnings)


def test_legitimately_pending_tail_verifies_with_a_warning_naming_it(db_url: str, home: Path, actor: Actor) -> None:
    policy = CheckpointPolicy(after_batch=False, every_entries=None, max_delay_s=None)
    with Ledger.open(db_url, home=home, policy=policy) as ledger:
        ledger.init(origin="pending.example/log")
        ledger.append_many([{"kind": "note.recorded", "data": {"text": "covered"}}], actor=actor)
        ledger.checkpoint()
        ledger.append_many([{"kind": "note.recorded", "data": {"text": f"p{i}"}} for i in range(3)], actor=actor)
        for deep in (True, False):
            report = ledger.verify(deep=deep)
            assert report.ok, report.problems
            assert report.warnings == ["3 newest entries (2..4) are not yet covered by a signed checkpoint"]


ROTATION_TAMPERING = {
    "old key's signature flipped": ("old", tampering.corrupt_signature, "invalid signature by key"),
    "new key's signature flipped": ("new", tampering.corrupt_signature, "invalid signature by key"),
    "new key's signature removed": ("new", tampering.drop_signature, "not signed by both keys"),
}


@pytest.mark.parametrize("recompute", [False, True], ids=["stored-body-edited", "log-rehashed"])
@pytest.mark.parametrize("attack", list(ROTATION_TAMPERING))
def test_key_rotation_with_one_valid_signature_is_found_at_the_rotation_entry(
    filled: Ledger, actor: Actor, attack: str, recompute: bool
) -> None:
    """A `key.rotated` entry must carry valid signatures by both keys. Editing one signature in the
    stored body is caught at that entry, whether or not the attacker re-hashes the whole log."""
    old_key = filled.key_ring().current
    rotation = filled.rotate_key(actor=actor, reason="scheduled").seq
    filled.append_many([{"kind": "note.recorded", "data": {"text": f"after-{i}"}} for i in range(3)], actor=actor)
    new_key = filled.key_ring().current
    assert filled.verify().ok and old_key != new_key

    which, edit, reason = ROTATION_TAMPERING[attack]
    bodies = [r[1] for r in tampering.rows(filled.engine)]
    envelope = json.loads(bodies[rotation])
    assert envelope["kind"] == "key.rotated"
    signer = old_key if which == "old" else new_key
    envelope["data"]["statement"] = edit(envelope["data"]["statement"], signer.key_id)
    bodies[rotation] = canonical_json(envelope)
    tampering.drop_append_only_triggers(filled.engine)
    if recompute:
        tampering.rewrite_from(filled.engine, tampering.relink(bodies))
    else:
        tampering.run(filled.engine, "UPDATE entries SET body = :b WHERE seq = :s", b=bodies[rotation], s=rotation)

    for deep in (True, False):
        report = filled.verify(deep=deep)
        assert not report.ok
        at_rotation = [p for p in report.problems if p.seq == rotation]
        assert at_rotation, report.problems
        if recompute or deep:  # --fast skips a key entry whose bytes no longer hash to its leaf
            assert any(p.code == "bad_key_entry" and reason in p.message for p in at_rotation), at_rotation
        if not recompute:
            assert any(p.code == "leaf_mismatch" for p in at_rotation), at_rotation


def test_truncated_tail_is_detected_against_saved_checkpoint(filled: Ledger) -> None:
    saved = filled.checkpoint().note
    tampering.drop_append_only_triggers(filled.engine)
    bodies = [r[1] for r in tampering.rows(filled.engine)][:-4]
    tampering.rewrite_from(filled.engine, bodies)
    tampering.run(filled.engine, "DELETE FROM checkpoints WHERE size > :n", n=len(bodies))  # hide the evidence
    report = filled.verify(against=saved)
    assert not report.ok
    assert report.first_bad_seq == len(bodies)
    assert "truncated" in codes(report)
    assert report.headline == f"entries {len(bodies)}..{N} were removed from the end of the log"


def test_truncated_tail_is_detected_by_stored_checkpoints_too(filled: Ledger) -> None:
    tampering.drop_append_only_triggers(filled.engine)
    tampering.rewrite_from(filled.engine, [r[1] for r in tampering.rows(filled.engine)][:-4])
    report = filled.verify()
    assert report.first_bad_seq == N + 1 - 4
    assert "truncated" in codes(report)


def test_rewritten_history_is_detected_as_fork_against_saved_checkpoint(filled: Ledger) -> None:
    saved = filled.checkpoint().note
    tampering.drop_append_only_triggers(filled.engine)
    bodies = [r[1] for r in tampering.rows(filled.engine)]
    bodies[20] = bodies[20].replace(b'"b1-9"', b'"b1-0"')
    tampering.rewrite_from(filled.engine, tampering.relink(bodies))
    tampering.run(filled.engine, "DELETE FROM checkpoints WHERE size > 1")
    report = filled.verify(against=saved)
    assert not report.ok
    assert "forked" in codes(report)
    # the change (entry 20) cannot be pinned: it lies after the last checkpoint that still holds (size 1)
    assert report.first_bad_seq is None
    assert report.first_bad_range == (1, N)
    assert report.headline == f"an entry in 1..{N} was changed; the chain was recomputed"


def test_checkpoint_signed_by_unknown_key_is_rejected(filled: Ledger) -> None:
    head = filled.head
    stranger = generate_signer(head.origin)
    forged = cp.sign(cp.Checkpoint(head.origin, head.size, filled.root()), [stranger])
    tampering.drop_append_only_triggers(filled.engine)
    tampering.run(filled.engine, "DELETE FROM checkpoints WHERE size = :n", n=head.size)
    tampering.run(
        filled.engine,
        "INSERT INTO checkpoints (size, root, key_id, ts, note) "
        "VALUES (:n, :r, :k, '2026-01-01T00:00:00.000000Z', :note)",
        n=head.size,
        r=filled.root(),
        k=stranger.verifier.key_id_hex,
        note=forged.note,
    )
    report = filled.verify()
    assert report.first_bad_seq == head.size - 1
    assert "bad_signature" in codes(report)
    assert "bad_signature" in codes(filled.verify(deep=False))


def test_saved_checkpoint_by_unknown_key_is_rejected(filled: Ledger) -> None:
    head = filled.head
    forged = cp.sign(cp.Checkpoint(head.origin, head.size, filled.root()), [generate_signer(head.origin)])
    report = filled.verify(against=forged.note)
    assert "bad_signature" in codes(report)


def test_changed_query_column_is_found(filled: Ledger) -> None:
    tampering.drop_append_only_triggers(filled.engine)
    tampering.run(filled.engine, "UPDATE entries SET subject = 'someone-else' WHERE seq = 8")
    report = filled.verify()
    assert report.first_bad_seq == 8
    assert codes(report) == {"column_mismatch"}


def test_subjects_needing_json_escapes_verify(ledger: Ledger, actor: Actor) -> None:
    ledger.append_many(
        [{"kind": "note.recorded", "data": {"text": "x"}, "subject": s} for s in ('say "hi"', "back\\slash", "ünï")],
        actor=actor,
    )
    assert ledger.verify().ok


def test_log_rebuilt_under_another_key_fails_against_a_pinned_key(filled: Ledger, home: Path, db_url: str) -> None:
    pinned = filled.key_ring().current
    assert filled.verify(trusted_keys=[pinned]).ok
    impostor_home = home.parent / "impostor"
    tampering.drop_append_only_triggers(filled.engine)
    tampering.run(filled.engine, "DELETE FROM checkpoints")
    tampering.run(filled.engine, "DELETE FROM entries")
    tampering.run(filled.engine, "DELETE FROM log_head")
    with Ledger.open(db_url, home=impostor_home) as impostor:
        impostor.init(origin="test.example/log")
    report = filled.verify(trusted_keys=[pinned])
    assert "untrusted_key_ring" in codes(report)


def test_a_change_hidden_by_recomputing_everything_is_bounded_not_pinned(ledger: Ledger, actor: Actor) -> None:
    """One byte of entry 250 changed, the chain, subtree hashes and head recomputed: every row is
    consistent and only the signed root at 300 disagrees. Verification must say the change is in
    1..299 (after the genesis checkpoint, before 300), not name entry 299 as the bad one."""
    ledger.append_many([{"kind": "note.recorded", "data": {"text": f"n{i:03d}"}} for i in range(1, 300)], actor=actor)
    assert ledger.size == 300 and ledger.latest_checkpoint() is not None
    tampering.drop_append_only_triggers(ledger.engine)
    bodies = [r[1] for r in tampering.rows(ledger.engine)]
    changed = bodies[250].replace(b'"n250"', b'"n25X"')
    assert changed != bodies[250]
    bodies[250] = changed
    tampering.rewrite_from(ledger.engine, tampering.relink(bodies))
    report = ledger.verify()
    assert [p.code for p in report.problems] == ["root_mismatch"]
    assert report.first_bad_seq is None
    assert report.first_bad_range == (1, 299)
    assert report.headline == "an entry in 1..299 was changed; the chain was recomputed"
    assert report.as_json()["first_bad_range"] == [1, 299]
    assert report.as_json()["problems"][0]["pinned"] is False
