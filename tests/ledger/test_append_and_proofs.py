"""Appending, reading and proving against real SQLite files and the real PostgreSQL server."""

from __future__ import annotations

import pytest

from ledger.api import Ledger
from ledger.errors import InvalidInputError, NotFoundError
from ledger.log import merkle
from ledger.log.canonical import canonical_json
from ledger.log.entry import Actor, decode_body


def test_entries_are_canonical_chained_and_hashed(ledger: Ledger, actor: Actor) -> None:
    receipts = ledger.append_many(
        [{"kind": "note.recorded", "data": {"text": f"n{i}", "refs": [i]}, "subject": "s"} for i in range(5)],
        actor=actor,
    )
    assert [r.seq for r in receipts] == [1, 2, 3, 4, 5]
    previous = ledger.get(0)
    for receipt in receipts:
        entry = ledger.get(receipt.seq)
        assert canonical_json(decode_body(entry.body)) == entry.body
        assert merkle.leaf_hash(entry.body) == entry.leaf_hash == receipt.leaf_hash
        assert entry.prev == previous.leaf_hash.hex()
        assert entry.actor == actor
        previous = entry


def test_stored_proofs_equal_reference_proofs_at_every_size(ledger: Ledger, actor: Actor) -> None:
    ledger.append_many([{"kind": "note.recorded", "data": {"text": str(i)}} for i in range(40)], actor=actor)
    leaves = [ledger.get(seq).leaf_hash for seq in range(ledger.size)]
    for size in range(1, len(leaves) + 1):
        assert ledger.root(size) == merkle.root_hash(leaves[:size])
        for seq in (0, size // 2, size - 1):
            proof = ledger.inclusion_proof(seq, size)
            assert proof.path == merkle.inclusion_proof(leaves[:size], seq)
            proof.verify()
        for old in (0, 1, size // 3, size):
            consistency = ledger.consistency_proof(old, size)
            assert consistency.path == merkle.consistency_proof(leaves[:size], old)
            consistency.verify()


def test_checkpoint_signs_current_root_in_c2sp_format(ledger: Ledger, actor: Actor) -> None:
    ledger.append("note.recorded", {"text": "x"}, actor=actor)
    signed = ledger.checkpoint()
    assert signed.size == ledger.size
    assert signed.root == ledger.root()
    lines = signed.note.split("\n")
    assert lines[0] == "test.example/log"
    assert lines[1] == str(ledger.size)
    assert lines[4].startswith("\u2014 test.example/log ")


def test_batch_with_one_bad_item_writes_nothing(ledger: Ledger, actor: Actor) -> None:
    size = ledger.size
    items = [{"kind": "note.recorded", "data": {"text": "ok"}}, {"kind": "note.recorded", "data": {"text": 5}}]
    with pytest.raises(InvalidInputError) as caught:
        ledger.append_many(items, actor=actor)
    assert caught.value.errors[0]["loc"][:3] == [1, "data", "text"]
    assert ledger.size == size


def test_unknown_entry_and_proof_beyond_log_are_refused(ledger: Ledger) -> None:
    with pytest.raises(NotFoundError):
        ledger.get(99)
    with pytest.raises(InvalidInputError, match="outside the log"):
        ledger.inclusion_proof(0, 99)
    with pytest.raises(NotFoundError):
        ledger.inclusion_proof(5, 1)


def test_fresh_ledger_verifies_deep_and_fast(ledger: Ledger, actor: Actor) -> None:
    ledger.append_many([{"kind": "note.recorded", "data": {"text": str(i)}} for i in range(300)], actor=actor)
    for deep in (True, False):
        report = ledger.verify(deep=deep)
        assert report.ok, report.problems
        assert report.size == 301
        assert report.root == ledger.root()


def test_rotated_key_keeps_old_checkpoints_verifying(ledger: Ledger, actor: Actor) -> None:
    ledger.append("note.recorded", {"text": "before"}, actor=actor)
    old_checkpoint = ledger.checkpoint()
    old_key = ledger.key_ring().current
    ledger.rotate_key(actor=actor, reason="scheduled")
    ledger.append("note.recorded", {"text": "after"}, actor=actor)
    ring = ledger.key_ring()
    assert len(ring.records) == 2 and ring.records[0].verifier == old_key
    assert ring.current.key_id != old_key.key_id
    assert ledger.latest_checkpoint().key_ids == (ring.current.key_id,)  # type: ignore[union-attr]
    report = ledger.verify(against=old_checkpoint.note)
    assert report.ok, report.problems
    assert report.checkpoints_checked >= 3
