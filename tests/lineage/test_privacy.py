"""Crypto-shredding: decision inputs are sealed under per-subject keys kept beside the log, and
erasing a subject destroys its key in the same transaction as the `subject.erased` entry, on
SQLite and PostgreSQL. The log itself (hashes, proofs, checkpoints, projections) must not notice.

Destroyed key bytes: on SQLite (secure_delete=ON, WAL checkpointed) they must be gone from the
database files. On PostgreSQL the old row version stays in the table's pages until VACUUM (and in
the server's WAL, archives and backups until they expire), so that test only runs VACUUM and
checks the row afterwards; it does not read the server's files.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, delete, make_url, select, text, update

from ledger.access.tables import subject_keys
from ledger.api import Ledger
from ledger.errors import ConflictError, InvalidInputError, PrivacyError
from ledger.lineage import rebuild_projections
from ledger.lineage import tables as t
from ledger.lineage.decisions import prepare_decisions, record_decisions
from ledger.log.canonical import canonical_json
from ledger.privacy.sealing import (
    ErasedInput,
    SubjectKeyRaceError,
    destroy_subject_key,
    erase_subject,
    get_or_create_subject_key,
    open_input,
    read_decision_input,
    seal_input,
    seal_subject_input,
)
from ledger.storage.tables import entries
from tests.lineage.factories import RISK_OFFICER, SCORING_SERVICE, build_chain, decision

KEY = bytes(range(32))
NOW = "2026-11-23T10:00:00.000000Z"
APPLICANT = {
    "name": "Zsófia Quillfeather-Nakamura",
    "ssn": "987-65-4329",
    "income": 61_250,
    "address": {"street": "17 Marrowbone Lane", "city": "Dublin"},
    "ratio": 0.3125,
}
DISTINCTIVE = ["Quillfeather", "987-65-4329", "Marrowbone", "Zs\\u00f3fia", "Zsófia"]
# The income as it would appear in clear JSON; bounded so that the digits inside a hex hash or
# base64 ciphertext (which may contain "61250" by chance) do not count as a leak.
INCOME_IN_CLEAR = re.compile(rb"(?<![0-9A-Za-z+/])61250(?![0-9A-Za-z+/])")


def assert_no_clear_input(raw: bytes) -> None:
    for needle in DISTINCTIVE:
        assert needle.encode() not in raw, needle
    assert INCOME_IN_CLEAR.search(raw) is None, "income in clear"


def flipped(raw: bytes, bit: int) -> bytes:
    changed = bytearray(raw)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def stored_key(conn: Connection, subject: str) -> tuple[bytes | None, str | None]:
    row = conn.execute(
        select(subject_keys.c.key, subject_keys.c.erased_at).where(subject_keys.c.subject_ref == subject)
    ).one()
    return (None if row.key is None else bytes(row.key)), row.erased_at


def record(
    gov: Ledger, facts: dict[str, Any], decision_id: str, subject: str, value: Any
) -> tuple[int, dict[str, str]]:
    sealed = seal_subject_input(gov, subject, decision_id, value, schema_version="applicant/v3")
    receipt = gov.append(
        "decision.recorded", {**decision(decision_id, facts, subject=subject), "input": sealed}, actor=SCORING_SERVICE
    )
    return receipt.seq, sealed


def sqlite_files(gov: Ledger) -> list[Path]:
    database = make_url(str(gov.engine.url)).database
    assert database
    return [path for path in (Path(database), Path(database + "-wal")) if path.exists()]


def sqlite_bytes_after_checkpoint(gov: Ledger) -> bytes:
    with gov.engine.connect() as conn:
        busy, _, _ = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    assert busy == 0, "the WAL checkpoint was blocked by a reader"
    return b"".join(path.read_bytes() for path in sqlite_files(gov))


# -- sealing and opening (no database) ---------------------------------------------------------


def test_seal_open_round_trip() -> None:
    sealed = seal_input(KEY, "d-1", APPLICANT, schema_version="applicant/v3")
    assert set(sealed) == {"commitment", "ciphertext", "nonce", "schema_version"}
    assert sealed["schema_version"] == "applicant/v3"
    assert len(base64.b64decode(sealed["nonce"])) == 12
    assert open_input(KEY, "d-1", sealed) == APPLICANT
    reordered = dict(reversed(list(APPLICANT.items())))
    again = seal_input(KEY, "d-1", reordered, schema_version="applicant/v3")
    assert again["commitment"] == sealed["commitment"], "the commitment is over canonical JSON"
    assert again["nonce"] != sealed["nonce"] and again["ciphertext"] != sealed["ciphertext"]
    other_key = seal_input(bytes(32), "d-1", APPLICANT, schema_version="applicant/v3")
    assert other_key["commitment"] != sealed["commitment"], "the commitment is keyed"
    for value in (None, 0, "x", [1, "ü", {"a": 1.5}], {"\U0001f600": [True, False]}):
        assert open_input(KEY, "d-2", seal_input(KEY, "d-2", value, schema_version="1")) == value


# Sealed by the release before the derivation was optimised (51e4012), with this key.
SEALED_BY_51E4012 = {
    "commitment": "73e05115e863febbb451012f101a17f42ae2872a1a5c4a1f1c3c7484a7a93595",
    "ciphertext": "HOp2MkeTaGe92xt+ZyAJAUQ0e12NInPLaHj6OZBvXrBP5BfLAGQhdKwFQI9t2PNnF13dA3Z7ptQPhv+6jPI=",
    "nonce": "AJCspbwuy+xKhCcQ",
    "schema_version": "applicant/v3",
}


def test_inputs_sealed_by_an_earlier_release_still_open() -> None:
    value = {"age": 42, "name": "Jane", "postcode": "EC1A 1BB"}
    assert open_input(bytes(range(32)), "d-known", SEALED_BY_51E4012) == value


def test_sealing_follows_the_documented_construction() -> None:
    """Recomputed here from the primitives: HKDF-SHA256 (no salt) per info string, HMAC-SHA256
    commitment over the canonical JSON, AES-256-GCM with the decision id as associated data."""

    def derive(key: bytes, info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)

    for key in (KEY, bytes(32), bytes(range(32)), b"\xff" * 32):
        sealed = seal_input(key, "d-9", APPLICANT, schema_version="1")
        plaintext = AESGCM(derive(key, b"govledger encryption")).decrypt(
            base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["ciphertext"]), b"d-9"
        )
        assert plaintext == canonical_json(APPLICANT)
        expected = hmac.new(derive(key, b"govledger commitment"), plaintext, hashlib.sha256).hexdigest()
        assert sealed["commitment"] == expected


@pytest.mark.parametrize("field", ["ciphertext", "nonce", "commitment"])
def test_every_single_bit_flip_is_refused(field: str) -> None:
    sealed = seal_input(KEY, "d-1", {"n": "Jane", "age": 42}, schema_version="1")
    encode: Callable[[bytes], str] = bytes.hex if field == "commitment" else b64
    raw = bytes.fromhex(sealed[field]) if field == "commitment" else base64.b64decode(sealed[field])
    for bit in range(len(raw) * 8):
        with pytest.raises(PrivacyError):
            open_input(KEY, "d-1", {**sealed, field: encode(flipped(raw, bit))})
    assert open_input(KEY, "d-1", sealed) == {"n": "Jane", "age": 42}


def test_wrong_decision_key_or_shape_is_refused() -> None:
    sealed = seal_input(KEY, "d-1", APPLICANT, schema_version="1")
    with pytest.raises(PrivacyError, match="d-2"):
        open_input(KEY, "d-2", sealed)  # the decision id is the associated data
    with pytest.raises(PrivacyError):
        open_input(flipped(KEY, 0), "d-1", sealed)
    other = seal_input(KEY, "d-1", {"n": 1}, schema_version="1")
    with pytest.raises(PrivacyError, match="commitment"):
        open_input(KEY, "d-1", {**sealed, "commitment": other["commitment"]})
    with pytest.raises(PrivacyError, match="commitment"):
        open_input(KEY, "d-1", {**sealed, "commitment": sealed["commitment"].upper()})
    for broken in (
        {k: v for k, v in sealed.items() if k != "nonce"},
        {**sealed, "nonce": "!" * 16},
        {**sealed, "nonce": b64(b"\0" * 16)},
        {**sealed, "ciphertext": sealed["ciphertext"] + "\n"},
        {**sealed, "ciphertext": 42},
    ):
        with pytest.raises(PrivacyError):
            open_input(KEY, "d-1", broken)
    with pytest.raises(PrivacyError):
        seal_input(b"short", "d-1", 1, schema_version="1")
    for not_json in (float("nan"), 2**60, "\ud800", {1, 2}):
        with pytest.raises(InvalidInputError, match="canonical JSON"):
            seal_input(KEY, "d-1", {"x": not_json}, schema_version="1")


# -- on the ledger (SQLite and PostgreSQL) -----------------------------------------------------


def test_subject_keys_are_created_once_and_shared_by_concurrent_callers(gov: Ledger) -> None:
    results: list[bytes] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        try:
            barrier.wait()
            with gov.engine.connect() as conn:
                conn = conn.execution_options(sqlite_immediate=True)
                with conn.begin():
                    results.append(get_or_create_subject_key(conn, "applicant-race", NOW))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 8 and len(set(results)) == 1 and len(results[0]) == 32
    with gov.engine.begin() as conn:
        assert get_or_create_subject_key(conn, "applicant-race", NOW) == results[0]
        other = get_or_create_subject_key(conn, "applicant-other", NOW)
        assert other != results[0]
        assert conn.execute(select(subject_keys.c.created_at)).scalars().all() == [NOW, NOW]


def test_a_decision_never_holds_its_input_in_clear(gov: Ledger) -> None:
    facts = build_chain(gov)
    seq, sealed = record(gov, facts, "d-1", "applicant-1", APPLICANT)
    with gov.engine.connect() as conn:
        body = bytes(conn.execute(select(entries.c.body).where(entries.c.seq == seq)).scalar_one())
        assert read_decision_input(conn, "applicant-1", "d-1", gov.get(seq).data["input"]) == APPLICANT
    assert sealed["ciphertext"].encode() in body
    assert_no_clear_input(body)
    if gov.engine.dialect.name == "sqlite":  # nowhere in the database either
        assert_no_clear_input(sqlite_bytes_after_checkpoint(gov))


def test_erasure_destroys_the_key_and_the_log_still_verifies(gov: Ledger) -> None:
    facts = build_chain(gov)
    seq_1, _ = record(gov, facts, "d-1", "applicant-1", APPLICANT)
    seq_2, _ = record(gov, facts, "d-2", "applicant-1", {"income": 1})
    seq_3, _ = record(gov, facts, "d-3", "applicant-2", {"income": 2})
    gov.append(
        "decision.reviewed",
        {"decision_id": "d-1", "outcome": "accepted", "reviewed_at": "2026-11-23T11:00:00Z"},
        actor=RISK_OFFICER,
    )
    root_before = gov.root(seq_3 + 1)

    receipt = erase_subject(
        gov, "applicant-1", reason="GDPR Art. 17 request #4411", actor=RISK_OFFICER, legal_basis="GDPR 17(1)(a)"
    )

    entry = gov.get(receipt.seq)
    assert (entry.kind, entry.subject) == ("subject.erased", "subject:applicant-1")
    assert entry.data == {
        "subject_ref": "applicant-1",
        "reason": "GDPR Art. 17 request #4411",
        "legal_basis": "GDPR 17(1)(a)",
    }
    with gov.engine.connect() as conn:
        assert stored_key(conn, "applicant-1") == (None, receipt.ts)
        for seq, decision_id in ((seq_1, "d-1"), (seq_2, "d-2")):
            erased = read_decision_input(conn, "applicant-1", decision_id, gov.get(seq).data["input"])
            assert erased == ErasedInput(erased_at=receipt.ts)
        assert read_decision_input(conn, "applicant-2", "d-3", gov.get(seq_3).data["input"]) == {"income": 2}
        assert conn.execute(select(t.erasures.c.seq)).scalars().all() == [receipt.seq]

    report = gov.verify(deep=True)
    assert report.ok, report.problems
    assert gov.root(seq_3 + 1) == root_before
    checkpoint = gov.latest_checkpoint()
    assert checkpoint is not None and checkpoint.size == gov.size
    for seq in (seq_1, seq_2, seq_3, receipt.seq):
        proof = gov.inclusion_proof(seq, checkpoint.size)
        assert proof.root == checkpoint.root
        proof.verify()
    assert rebuild_projections(gov, check=True).matches

    with gov.engine.begin() as conn, pytest.raises(ConflictError, match=f"erased on {receipt.ts}"):
        get_or_create_subject_key(conn, "applicant-1", NOW)
    with pytest.raises(ConflictError, match="was erased"):
        seal_subject_input(gov, "applicant-1", "d-9", {"x": 1}, schema_version="1")
    size = gov.size
    with pytest.raises(ConflictError, match="already erased"):
        erase_subject(gov, "applicant-1", reason="again", actor=RISK_OFFICER)
    assert gov.size == size, "a refused erasure must write nothing"
    with gov.engine.connect() as conn:
        assert stored_key(conn, "applicant-1") == (None, receipt.ts)


def test_rebuild_replays_erasures_without_resurrecting_or_moving_them(gov: Ledger) -> None:
    facts = build_chain(gov)
    record(gov, facts, "d-1", "applicant-1", APPLICANT)
    first = erase_subject(gov, "applicant-1", reason="request", actor=RISK_OFFICER)
    second = erase_subject(gov, "never-seen", reason="data held off-ledger only", actor=RISK_OFFICER)
    with gov.engine.connect() as conn:
        assert stored_key(conn, "never-seen") == (None, second.ts)

    rebuild_projections(gov, check=False)  # the hook runs again: destroying a destroyed key is a no-op
    assert rebuild_projections(gov, check=True).matches
    with gov.engine.connect() as conn:
        assert stored_key(conn, "applicant-1") == (None, first.ts)
        assert stored_key(conn, "never-seen") == (None, second.ts)

    # A key table restored from an old backup: the replay destroys the key again, or recreates the row.
    with gov.engine.begin() as conn:
        conn.execute(
            update(subject_keys).where(subject_keys.c.subject_ref == "applicant-1").values(key=KEY, erased_at=None)
        )
        conn.execute(delete(subject_keys).where(subject_keys.c.subject_ref == "never-seen"))
    rebuild_projections(gov, check=False)
    with gov.engine.connect() as conn:
        assert stored_key(conn, "applicant-1") == (None, first.ts)
        assert stored_key(conn, "never-seen") == (None, second.ts)
    assert gov.verify(deep=True).ok


def test_destroy_subject_key_is_idempotent(gov: Ledger) -> None:
    with gov.engine.begin() as conn:
        key = get_or_create_subject_key(conn, "applicant-1", NOW)
        destroy_subject_key(conn, "applicant-1", "2026-11-24T00:00:00.000000Z")
        destroy_subject_key(conn, "applicant-1", "2026-11-25T00:00:00.000000Z")
        assert stored_key(conn, "applicant-1") == (None, "2026-11-24T00:00:00.000000Z")
        sealed = seal_input(key, "d-1", APPLICANT, schema_version="1")
        assert read_decision_input(conn, "applicant-1", "d-1", sealed) == ErasedInput("2026-11-24T00:00:00.000000Z")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_erased_key_bytes_leave_the_database_files(gov: Ledger) -> None:
    facts = build_chain(gov)
    record(gov, facts, "d-1", "applicant-1", APPLICANT)
    record(gov, facts, "d-2", "applicant-2", APPLICANT)
    with gov.engine.connect() as conn:
        key, _ = stored_key(conn, "applicant-1")
        kept, _ = stored_key(conn, "applicant-2")
    assert key is not None and kept is not None
    before = sqlite_bytes_after_checkpoint(gov)
    assert key in before and kept in before, "the test must be able to see a key in the file"

    erase_subject(gov, "applicant-1", reason="request", actor=RISK_OFFICER)
    after = sqlite_bytes_after_checkpoint(gov)
    assert key not in after, "the destroyed key survives in the SQLite files"
    assert kept in after
    for path in sqlite_files(gov):
        assert key not in path.read_bytes(), path

    # Many keys of varied sizes on shared pages, a third of them erased in one batch: without
    # secure_delete some old records survive in freed page space (this part fails with it OFF).
    subjects = [f"s-{i}" * (1 + i % 5) for i in range(200)]
    with gov.engine.begin() as conn:
        keys = {subject: get_or_create_subject_key(conn, subject, NOW) for subject in subjects}
    sqlite_bytes_after_checkpoint(gov)
    erased = subjects[::3]
    gov.append_many(
        [{"kind": "subject.erased", "data": {"subject_ref": s, "reason": "request"}} for s in erased],
        actor=RISK_OFFICER,
    )
    after = sqlite_bytes_after_checkpoint(gov)
    assert [s for s in erased if keys[s] in after] == []
    assert all(keys[s] in after for s in subjects if s not in erased)


@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_postgres_vacuum_after_erasure(gov: Ledger) -> None:
    """Old row versions (with the key) stay in the pages until VACUUM; run it outside a transaction."""
    facts = build_chain(gov)
    record(gov, facts, "d-1", "applicant-1", APPLICANT)
    receipt = erase_subject(gov, "applicant-1", reason="request", actor=RISK_OFFICER)
    with gov.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("VACUUM subject_keys"))
    with gov.engine.connect() as conn:
        assert stored_key(conn, "applicant-1") == (None, receipt.ts)
        assert conn.execute(text("SELECT COUNT(*) FROM subject_keys")).scalar_one() == 1
    with gov.engine.begin() as conn, pytest.raises(ConflictError):
        get_or_create_subject_key(conn, "applicant-1", NOW)
    assert gov.verify(deep=True).ok


def _decision_request(decision_id: str, subject: str) -> dict[str, Any]:
    value = decision(decision_id, {"model": {"name": "credit", "version": "1"}}, subject=subject)
    value["not_applicable"].pop("input")
    return {**value, "input": APPLICANT, "input_schema_version": "applicant/v1"}


def test_a_new_subjects_key_is_stored_with_its_batch_and_a_racing_key_is_refused(gov: Ledger) -> None:
    build_chain(gov)
    prepared = prepare_decisions(gov, [_decision_request("d-race", "applicant-new")])
    assert set(prepared.new_keys.new) == {"applicant-new"}
    with gov.engine.connect() as conn:
        assert conn.execute(select(subject_keys.c.subject_ref)).all() == []  # preparing writes nothing
    with gov.engine.begin() as conn:  # another writer creates the subject's key first
        theirs = get_or_create_subject_key(conn, "applicant-new", NOW)
    size = gov.size
    with pytest.raises(SubjectKeyRaceError):
        gov.append_many(prepared.items, actor=SCORING_SERVICE, in_transaction=prepared.store_keys)
    assert gov.size == size
    result = record_decisions(gov, [_decision_request("d-race", "applicant-new")], actor=SCORING_SERVICE)
    assert [r["decision_id"] for r in result["recorded"]] == ["d-race"]
    with gov.engine.connect() as conn:
        assert stored_key(conn, "applicant-new")[0] == theirs  # sealed again, under the stored key
        sealed = gov.get(result["recorded"][0]["seq"]).data["input"]
        assert read_decision_input(conn, "applicant-new", "d-race", sealed) == APPLICANT
