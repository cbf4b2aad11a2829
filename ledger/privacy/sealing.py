"""Personal data never enters a leaf in clear: per-subject keys and crypto-shredding.

Why: the log can never be rewritten (every leaf is hashed into the chain, the Merkle tree and
signed checkpoints), yet a decision's input is often personal data that the GDPR (Art. 17) may
require us to erase. So a leaf holds only

* a *commitment*: HMAC-SHA256 of the canonical JSON input under a key derived from the subject's
  key. It is keyed so that a low-entropy input (an age, a postcode) cannot be recovered by
  hashing guesses, and it lets the holder of the key show later which input was used;
* the input *encrypted* with AES-256-GCM under another key derived from the subject's key, with
  the decision id as associated data (a ciphertext cannot be moved to another decision).

The two keys are derived with HKDF-SHA256 from one 32-byte random key per subject, distinct
`info` strings keeping them independent. The subject keys live in the `subject_keys` table,
beside the log and never in it. Erasure appends `subject.erased` and, in the same transaction
(the lineage append hook calls `destroy_subject_key`), sets the key to NULL: from then on the
ciphertext and the commitment are random-looking bytes, while every hash, proof and checkpoint
still verifies. The row stays, so the subject stays erased: no new key is ever created for it.

Erasure is acknowledged only after the destroyed key's old copies were removed from the
database's files (`ledger.storage.residue.purge_dead_copies`, run by `erase_subject` after the
commit): on SQLite (``secure_delete=ON``) a ``wal_checkpoint(TRUNCATE)``, on PostgreSQL a VACUUM of
`subject_keys`, a VACUUM FULL (fresh pages) and a CHECKPOINT. `Erasure.purged` says whether that
completed; when it did not (a reader held an old snapshot for the whole wait) the erasure is still
committed and the copy goes at a later purge. The bound, and what stays outside it (PostgreSQL's
WAL, its archive, replicas and backups; anything a caller copied), is in docs/architecture.md
("Erasure off the disk").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from sqlalchemy import Connection, Table, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from ledger.access.tables import subject_keys
from ledger.errors import ConflictError, InvalidInputError, NotFoundError, PrivacyError
from ledger.log.canonical import CanonicalError, canonical_json
from ledger.log.entry import format_ts
from ledger.storage.db import bulk_insert, rows_matching
from ledger.storage.residue import DEFAULT_PURGE_SECONDS, purge_dead_copies

if TYPE_CHECKING:
    from ledger.api import Ledger
    from ledger.log.entry import Actor
    from ledger.storage.sequencer import Receipt

__all__ = [
    "KEY_BYTES",
    "NONCE_BYTES",
    "ErasedInput",
    "Erasure",
    "SubjectKeyRaceError",
    "SubjectKeys",
    "destroy_subject_key",
    "erase_subject",
    "get_or_create_subject_key",
    "open_input",
    "read_decision_input",
    "read_decision_inputs",
    "seal_input",
    "seal_subject_input",
    "subject_keys_for",
]

log = logging.getLogger(__name__)

KEY_BYTES = 32
NONCE_BYTES = 12
_COMMITMENT_INFO = b"govledger commitment"
_ENCRYPTION_INFO = b"govledger encryption"
_SHA256 = hashes.SHA256()
_NO_SALT = bytes(32)  # RFC 5869: no salt is HashLen zero bytes
_MAX_SUBJECT_REF = 200  # subject_keys.subject_ref is String(200)


class SubjectKeyRaceError(ConflictError):
    """Two writers created a key for the same new subject at once; the loser must seal again."""


@dataclass(frozen=True)
class Erasure:
    """An acknowledged erasure: the `subject.erased` entry, and whether the destroyed key's old
    copies were confirmed gone from the database's files before the acknowledgement."""

    receipt: Receipt
    purged: bool
    purge_detail: str

    @property
    def seq(self) -> int:
        return self.receipt.seq

    @property
    def ts(self) -> str:
        return self.receipt.ts

    @property
    def leaf_hash(self) -> bytes:
        return self.receipt.leaf_hash


@dataclass(frozen=True)
class ErasedInput:
    """Stands for a decision input that can no longer be read: its subject's key was destroyed."""

    erased_at: str


# -- subject keys ----------------------------------------------------------------------------


def _check_subject_ref(subject_ref: str) -> None:
    if not isinstance(subject_ref, str) or not 0 < len(subject_ref) <= _MAX_SUBJECT_REF:
        raise InvalidInputError(
            f"subject_ref must be a string of 1 to {_MAX_SUBJECT_REF} characters",
            [{"loc": ["subject_ref"], "msg": "invalid subject reference", "type": "subject_ref"}],
        )


def _insert_if_absent(conn: Connection, table: Table, values: dict[str, Any] | list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT DO NOTHING on the primary key: safe when two transactions race."""
    statement: Insert
    if conn.dialect.name == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing()
    elif conn.dialect.name == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing()
    else:  # pragma: no cover - the engine only accepts these two
        raise InvalidInputError(f"unsupported database {conn.dialect.name!r}")
    conn.execute(statement, values)


def get_or_create_subject_key(conn: Connection, subject_ref: str, now_ts: str) -> bytes:
    """The subject's 32-byte key, created (random) on first use, on `conn`'s transaction.

    Refuses (ConflictError) a subject that was erased: a new decision must not bring it back.
    Concurrent callers agree on one key (the first INSERT wins; the others read its row).
    """
    _check_subject_ref(subject_ref)
    _insert_if_absent(
        conn,
        subject_keys,
        {"subject_ref": subject_ref, "key": secrets.token_bytes(KEY_BYTES), "created_at": now_ts, "erased_at": None},
    )
    row = conn.execute(
        select(subject_keys.c.key, subject_keys.c.erased_at).where(subject_keys.c.subject_ref == subject_ref)
    ).one()
    if row.key is None:
        raise ConflictError(f"subject {subject_ref!r} was erased on {row.erased_at}")
    key = bytes(row.key)
    if len(key) != KEY_BYTES:
        raise PrivacyError(f"the stored key of subject {subject_ref!r} is not {KEY_BYTES} bytes")
    return key


def _key_rows(conn: Connection, subject_refs: list[str]) -> dict[str, tuple[Any, Any]]:
    """{subject_ref: (key or None, erased_at)} of the subjects that have a row."""
    rows = rows_matching(conn, subject_keys, ["subject_ref", "key", "erased_at"], "subject_ref", subject_refs)
    return {subject_ref: (key, erased_at) for subject_ref, key, erased_at in rows}


def _usable_key(subject_ref: str, row: tuple[Any, Any]) -> bytes:
    key, erased_at = row
    if key is None:
        raise ConflictError(f"subject {subject_ref!r} was erased on {erased_at}")
    if len(key) != KEY_BYTES:
        raise PrivacyError(f"the stored key of subject {subject_ref!r} is not {KEY_BYTES} bytes")
    return bytes(key)


@dataclass
class SubjectKeys:
    """The keys a batch of decisions seals under: those already stored, and fresh ones that
    `store_new` writes in the append's own transaction (so a refused batch leaves no key behind)."""

    keys: dict[str, bytes]
    new: dict[str, bytes]

    def store_new(self, conn: Connection, now_ts: str) -> None:
        """Insert the fresh keys (ON CONFLICT DO NOTHING) and check that ours are the stored ones.

        SubjectKeyRaceError if another writer stored a key for one of these subjects first (the
        inputs were sealed under a key that is not the subject's: prepare the batch again).
        """
        if not self.new:
            return
        rows = [(s, k, now_ts, None) for s, k in self.new.items()]
        if bulk_insert(conn, subject_keys, rows, skip_existing=True) == len(rows):
            return  # every key is ours: no other writer got there first
        stored = _key_rows(conn, list(self.new))
        for subject_ref, key in self.new.items():
            if _usable_key(subject_ref, stored[subject_ref]) != key:
                raise SubjectKeyRaceError(f"subject {subject_ref!r} got a key from another writer at the same time")


def subject_keys_for(conn: Connection, subject_refs: list[str]) -> SubjectKeys:
    """The stored keys of these subjects, and a fresh random key for each subject without one.

    ConflictError for an erased subject (a new decision must not bring it back). Nothing is
    written here: see `SubjectKeys.store_new`.
    """
    wanted = sorted(set(subject_refs))
    for subject_ref in wanted:
        _check_subject_ref(subject_ref)
    found = _key_rows(conn, wanted)
    keys = {s: _usable_key(s, found[s]) for s in wanted if s in found}
    new = {s: secrets.token_bytes(KEY_BYTES) for s in wanted if s not in found}
    return SubjectKeys({**keys, **new}, new)


def destroy_subject_key(conn: Connection, subject_ref: str, ts: str) -> None:
    """Forget the subject's key (key NULL, erased_at = `ts`), keeping the row so it stays erased.

    Called by the lineage append hook for `subject.erased`, in the append's transaction. It runs
    again when the projections are rebuilt: destroying a destroyed key changes nothing (the
    first erased_at stays), and a subject that never had a key gets a row with key NULL.
    """
    _check_subject_ref(subject_ref)
    _insert_if_absent(conn, subject_keys, {"subject_ref": subject_ref, "key": None, "created_at": ts, "erased_at": ts})
    conn.execute(
        update(subject_keys)
        .where(
            subject_keys.c.subject_ref == subject_ref,
            or_(subject_keys.c.key.is_not(None), subject_keys.c.erased_at.is_(None)),
        )
        .values(key=None, erased_at=ts)
    )


# -- sealing and opening -------------------------------------------------------------------


def _subkeys(key: bytes) -> tuple[bytes, bytes]:
    """(commitment key, encryption key): HKDF-SHA256 of the subject key (no salt), one `info` each.

    The same bytes as two `HKDF(...).derive(key)` calls, with the extract step (the PRK) computed
    once for both: sealing is on the path of every decision with an input.
    """
    if len(key) != KEY_BYTES:
        raise PrivacyError(f"a subject key is {KEY_BYTES} bytes, not {len(key)}")
    extract = crypto_hmac.HMAC(_NO_SALT, _SHA256)
    extract.update(key)
    prk = extract.finalize()
    return (
        HKDFExpand(algorithm=_SHA256, length=KEY_BYTES, info=_COMMITMENT_INFO).derive(prk),
        HKDFExpand(algorithm=_SHA256, length=KEY_BYTES, info=_ENCRYPTION_INFO).derive(prk),
    )


def _commitment(commitment_key: bytes, plaintext: bytes) -> str:
    return hmac.new(commitment_key, plaintext, hashlib.sha256).hexdigest()


def _aad(decision_id: str) -> bytes:
    return decision_id.encode("utf-8")


def seal_input(key: bytes, decision_id: str, value: Any, *, schema_version: str) -> dict[str, str]:
    """The `EncryptedInput` payload of a decision's input `value` (any JSON value).

    The plaintext is the RFC 8785 canonical JSON of `value`, so the commitment does not depend on
    key order or spacing. A fresh random nonce is used for every call. InvalidInputError if
    `value` is not JSON (NaN, a huge integer, a lone surrogate, a non-JSON type).
    """
    try:
        plaintext = canonical_json(value)
    except CanonicalError as exc:
        raise InvalidInputError(
            "the input is not representable as canonical JSON",
            [{"loc": ["input"], "msg": str(exc), "type": "json_invalid"}],
        ) from exc
    commitment_key, encryption_key = _subkeys(key)
    nonce = secrets.token_bytes(NONCE_BYTES)
    ciphertext = AESGCM(encryption_key).encrypt(nonce, plaintext, _aad(decision_id))
    return {
        "commitment": _commitment(commitment_key, plaintext),
        "ciphertext": base64.b64encode(ciphertext).decode("ascii"),
        "nonce": base64.b64encode(nonce).decode("ascii"),
        "schema_version": schema_version,
    }


def _strict_b64(sealed: Mapping[str, Any], field: str) -> bytes:
    """Decode standard, padded base64, refusing any other spelling of the same bytes."""
    text = sealed.get(field)
    if not isinstance(text, str):
        raise PrivacyError(f"sealed input: {field} is missing or not a string")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PrivacyError(f"sealed input: {field} is not base64") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise PrivacyError(f"sealed input: {field} is not canonical base64")
    return raw


def open_input(key: bytes, decision_id: str, sealed: Mapping[str, Any]) -> Any:
    """Decrypt a sealed input, check its commitment, and return the JSON value.

    Raises PrivacyError when anything differs from what `seal_input` produced with this key for
    this decision: ciphertext, nonce, commitment, decision id, or key.
    """
    if not isinstance(sealed, Mapping):
        raise PrivacyError("a sealed input is a JSON object")
    nonce = _strict_b64(sealed, "nonce")
    ciphertext = _strict_b64(sealed, "ciphertext")
    if len(nonce) != NONCE_BYTES:
        raise PrivacyError(f"sealed input: the nonce is {len(nonce)} bytes, not {NONCE_BYTES}")
    commitment_key, encryption_key = _subkeys(key)
    try:
        plaintext = AESGCM(encryption_key).decrypt(nonce, ciphertext, _aad(decision_id))
    except InvalidTag:
        raise PrivacyError(
            f"the sealed input of decision {decision_id!r} does not open: it was altered, "
            "or belongs to another decision or subject"
        ) from None
    commitment = sealed.get("commitment")
    if not isinstance(commitment, str) or not hmac.compare_digest(
        commitment.encode("ascii", "replace"), _commitment(commitment_key, plaintext).encode("ascii")
    ):
        raise PrivacyError(f"the sealed input of decision {decision_id!r} does not match its commitment")
    try:
        return json.loads(plaintext)
    except (UnicodeDecodeError, ValueError) as exc:  # authenticated, so only a foreign sealer could cause this
        raise PrivacyError(f"the sealed input of decision {decision_id!r} is not JSON") from exc


def read_decision_input(
    conn: Connection, subject_ref: str, decision_id: str, sealed: Mapping[str, Any]
) -> Any | ErasedInput:
    """The clear input of a decision, or `ErasedInput` if its subject's key was destroyed.

    NotFoundError when the subject never had a key (nothing was ever sealed for it here).
    """
    row = conn.execute(
        select(subject_keys.c.key, subject_keys.c.erased_at).where(subject_keys.c.subject_ref == subject_ref)
    ).first()
    if row is None:
        raise NotFoundError(f"subject {subject_ref!r} has no key: no input was sealed for it")
    if row.key is None:
        return ErasedInput(erased_at=row.erased_at)
    return open_input(bytes(row.key), decision_id, sealed)


def read_decision_inputs(
    conn: Connection, sealed: Sequence[tuple[str, str, Mapping[str, Any]]]
) -> list[Any | ErasedInput | None]:
    """The clear inputs of many decisions ((subject_ref, decision_id, sealed) each), with one key
    query for all: a report over 10,000 decisions otherwise spends seconds on 10,000 queries.
    None where an input cannot be read (no key, or it does not open); ErasedInput if erased."""
    rows = _key_rows(conn, sorted({subject_ref for subject_ref, _, _ in sealed}))
    found: list[Any | ErasedInput | None] = []
    for subject_ref, decision_id, one in sealed:
        row = rows.get(subject_ref)
        if row is None:
            found.append(None)
        elif row[0] is None:
            found.append(ErasedInput(erased_at=row[1]))
        else:
            try:
                found.append(open_input(bytes(row[0]), decision_id, one))
            except PrivacyError:
                found.append(None)
    return found


# -- ledger-level helpers ------------------------------------------------------------------


def seal_subject_input(
    ledger: Ledger, subject_ref: str, decision_id: str, value: Any, *, schema_version: str
) -> dict[str, str]:
    """Seal `value` under `subject_ref`'s key (created and committed first if it is new).

    ConflictError if the subject was erased. If the subject is erased after this returns but
    before the decision is appended, the decision's input is simply unreadable, as it should be.
    """
    now_ts = format_ts(datetime.now(UTC))
    with ledger.engine.connect() as conn:
        conn = conn.execution_options(sqlite_immediate=True)  # take SQLite's write lock at BEGIN
        with conn.begin():
            key = get_or_create_subject_key(conn, subject_ref, now_ts)
    return seal_input(key, decision_id, value, schema_version=schema_version)


def erase_subject(
    ledger: Ledger,
    subject_ref: str,
    *,
    reason: str,
    actor: Actor,
    legal_basis: str | None = None,
    purge_seconds: float = DEFAULT_PURGE_SECONDS,
) -> Erasure:
    """Append `subject.erased` (the lineage hook destroys the subject's key in the same
    transaction), then remove the key's old copies from the database's files before returning.

    Any subject reference may be erased (its data may live only off the ledger); a second erasure
    is refused with ConflictError and writes nothing, but purges again. The purge waits up to `purge_seconds` for
    readers of older snapshots; `Erasure.purged` is False if one outlasted it.
    """
    data: dict[str, Any] = {"subject_ref": subject_ref, "reason": reason}
    if legal_basis is not None:
        data["legal_basis"] = legal_basis
    try:
        receipt = ledger.append("subject.erased", data, actor=actor)
    except ConflictError:
        # Already erased: perhaps a retry after a crash between that erasure's commit and its
        # purge (the client never got an answer), so purge now; the refusal stands.
        purge_dead_copies(ledger.engine, subject_keys.name, timeout_s=purge_seconds)
        raise
    with ledger.engine.connect() as conn:
        key = conn.execute(select(subject_keys.c.key).where(subject_keys.c.subject_ref == subject_ref)).first()
    if key is None or key[0] is not None:
        # The ledger was opened without the lineage hook: the entry is in the log, so the key must go now.
        log.warning("subject %r: the key was not destroyed by the append hook; destroying it now", subject_ref)
        with ledger.engine.connect() as conn:
            conn = conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                destroy_subject_key(conn, subject_ref, receipt.ts)
    purge = purge_dead_copies(ledger.engine, subject_keys.name, timeout_s=purge_seconds)
    if not purge.complete:
        log.warning("subject %r erased (seq %d), old key copy may remain: %s", subject_ref, receipt.seq, purge.detail)
    return Erasure(receipt=receipt, purged=purge.complete, purge_detail=purge.detail)
