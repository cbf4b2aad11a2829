"""An independent verifier, written from docs/ledger-format.md alone, checking real govledger logs.

The verifier (the first half of this file) uses only the standard library and `cryptography`
(plus `rfc8785`, only to check that bodies are canonical). Nothing from the `ledger` package is
imported for verification: the tests use `ledger` only to build a log (through the `ledger`
fixture) and to export its entries, checkpoints and proofs, exactly what an auditor receives.
`test_verifier_imports_nothing_from_ledger` keeps it that way.
"""

from __future__ import annotations

import ast
import base64
import binascii
import hashlib
import itertools
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import text as sql

if TYPE_CHECKING:  # types only: the verifier below never calls into `ledger`
    from ledger.api import Ledger
    from ledger.log.entry import Actor

DOC = Path(__file__).resolve().parents[2] / "docs" / "ledger-format.md"

# ============================================================================================
# The independent verifier (docs/ledger-format.md section numbers in comments)
# ============================================================================================


class VerificationError(Exception):
    """The exported log, a checkpoint or a proof does not verify."""


# -- §4, §5: hashes and the tree ---------------------------------------------------------------

EMPTY_ROOT = hashlib.sha256(b"").digest()
GENESIS_PREV = "0" * 64


def leaf_hash(body: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + body).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def tree_root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[0:n])."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = split_point(len(leaves))
    return node_hash(tree_root(leaves[:k]), tree_root(leaves[k:]))


# -- §6: proofs ----------------------------------------------------------------------------


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != 32:
        raise VerificationError(f"{what} is not a 32-byte hash")


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2."""
    for position, element in enumerate([leaf, root, *path]):
        _check_hash(element, f"inclusion input {position}")
    if not 0 <= index < size:
        raise VerificationError(f"leaf index {index} is not below tree size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise VerificationError("inclusion path is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("inclusion path is too short")
    if r != root:
        raise VerificationError(f"inclusion path leads to root {r.hex()}, not {root.hex()}")


def verify_consistency(first: int, second: int, first_hash: bytes, second_hash: bytes, path: Sequence[bytes]) -> None:
    """RFC 9162 §2.1.4.2, with the trivial cases of §6.2."""
    for position, element in enumerate([first_hash, second_hash, *path]):
        _check_hash(element, f"consistency input {position}")
    if not 0 <= first <= second:
        raise VerificationError(f"sizes {first} -> {second} are not increasing")
    if first == second:
        if path or first_hash != second_hash:
            raise VerificationError("equal sizes need an empty path and equal roots")
        return
    if first == 0:
        if path or first_hash != EMPTY_ROOT:
            raise VerificationError("from size 0 the path is empty and the old root is the empty root")
        return
    if not path:
        raise VerificationError("consistency path is empty")
    nodes = list(path)
    if first & (first - 1) == 0:
        nodes.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            raise VerificationError("consistency path is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("consistency path is too short")
    if fr != first_hash:
        raise VerificationError(f"consistency path leads to old root {fr.hex()}, not {first_hash.hex()}")
    if sr != second_hash:
        raise VerificationError(f"consistency path leads to new root {sr.hex()}, not {second_hash.hex()}")


# -- §3: entries ---------------------------------------------------------------------------

ENVELOPE = ("actor", "data", "kind", "prev", "seq", "subject", "ts", "v")
TS_FORMAT = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z\Z")
KIND_FORMAT = re.compile(r"\A[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\Z")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text_ok(value: Any, limit: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limit and all(ord(c) >= 0x20 for c in value)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise VerificationError("duplicate member name")
    return dict(pairs)


def parse_entry(seq: int, body: bytes, prev: str, last_ts: str) -> dict[str, Any]:
    """Check one body (§3) against its position, the previous leaf hash and the previous ts."""
    try:
        text = body.decode("utf-8")
        envelope = json.loads(text, object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as exc:
        raise VerificationError(f"entry {seq}: not UTF-8 JSON ({exc})") from exc
    if not isinstance(envelope, dict) or tuple(envelope) != ENVELOPE:
        raise VerificationError(f"entry {seq}: members are not exactly {', '.join(ENVELOPE)} in that order")
    try:
        canonical = rfc8785.dumps(envelope)
    except Exception as exc:
        raise VerificationError(f"entry {seq}: not representable in RFC 8785 ({exc})") from exc
    if canonical != body:
        raise VerificationError(f"entry {seq}: body is not RFC 8785 canonical")
    if not _is_int(envelope["seq"]) or envelope["seq"] != seq:
        raise VerificationError(f"entry {seq}: body says seq {envelope['seq']!r}")
    if not _is_int(envelope["v"]) or envelope["v"] != 1:
        raise VerificationError(f"entry {seq}: unknown entry version {envelope['v']!r}")
    if envelope["prev"] != prev:
        raise VerificationError(f"entry {seq}: prev {envelope['prev']!r} is not the previous leaf hash {prev}")
    ts = envelope["ts"]
    if not isinstance(ts, str) or not TS_FORMAT.match(ts) or ts < last_ts:
        raise VerificationError(f"entry {seq}: timestamp {ts!r} is malformed or earlier than {last_ts!r}")
    kind = envelope["kind"]
    if not isinstance(kind, str) or len(kind) > 64 or not KIND_FORMAT.match(kind):
        raise VerificationError(f"entry {seq}: kind {kind!r} is malformed")
    if envelope["subject"] is not None and not _text_ok(envelope["subject"], 256):
        raise VerificationError(f"entry {seq}: subject is malformed")
    actor = envelope["actor"]
    if (
        not isinstance(actor, dict)
        or tuple(actor) != ("id", "name")
        or not all(_text_ok(actor[name], 200) for name in ("id", "name"))
    ):
        raise VerificationError(f"entry {seq}: actor is malformed")
    if not isinstance(envelope["data"], dict):
        raise VerificationError(f"entry {seq}: data is not an object")
    return envelope


# -- §8: signed notes --------------------------------------------------------------------------

EM_DASH = "\u2014 "


@dataclass(frozen=True)
class Key:
    name: str
    key_id: bytes  # 4 bytes
    public: bytes  # 32 bytes

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(b"\x01" + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature:
            return False
        return True


def _name_ok(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() or unicodedata.category(c) == "Zs" for c in name)


def compute_key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + b"\x01" + public).digest()[:4]


def _b64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise VerificationError(f"{what} is not base64") from exc


def _key_fields(name: str, hex_id: str, encoded: str, what: str) -> tuple[bytes, bytes]:
    if not _name_ok(name) or not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise VerificationError(f"{what}: bad name or key id")
    raw = _b64(encoded, what)
    if len(raw) != 33 or raw[0] != 0x01:
        raise VerificationError(f"{what}: not an Ed25519 key")
    return bytes.fromhex(hex_id), raw[1:]


def parse_vkey(text: str) -> Key:
    """`<name>+<8 hex>+<base64(0x01 || public key)>`, split at the first two '+' (§8.3)."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise VerificationError(f"verifier key {text!r} is malformed")
    key_id, public = _key_fields(*parts, "verifier key")
    if compute_key_id(parts[0], public) != key_id:
        raise VerificationError(f"verifier key {text!r}: key id does not match name and key")
    return Key(parts[0], key_id, public)


def parse_skey(text: str) -> tuple[Key, bytes]:
    """`PRIVATE+KEY+<name>+<8 hex>+<base64(0x01 || seed)>`: the public key and the seed."""
    parts = text.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise VerificationError("signer key is malformed")
    key_id, seed = _key_fields(*parts[2:], "signer key")
    public = (
        Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    if compute_key_id(parts[2], public) != key_id:
        raise VerificationError("signer key: key id does not match")
    return Key(parts[2], key_id, public), seed


def _text_rules(note_text: str) -> None:
    if not note_text.endswith("\n") or any(c != "\n" and (ord(c) < 0x20 or ord(c) == 0x7F) for c in note_text):
        raise VerificationError("note text must end in a newline and hold no control characters")


def open_note(note: str, trusted: Sequence[Key]) -> tuple[str, list[Key]]:
    """Split at the last blank line, check signatures by trusted keys (§8.4); the text and who signed."""
    if not note.endswith("\n"):
        raise VerificationError("note does not end in a newline")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise VerificationError("note has no blank line before its signatures")
    note_text, block = note[: cut + 1], note[cut + 2 :]
    _text_rules(note_text)
    lines = block.split("\n")[:-1]
    if not lines or len(lines) > 100:
        raise VerificationError("note needs 1 to 100 signature lines")
    signed_by: list[Key] = []
    for line in lines:
        if not line.startswith(EM_DASH):
            raise VerificationError(f"signature line {line[:30]!r} does not start with an em dash")
        name, _, encoded = line[len(EM_DASH) :].partition(" ")
        if not _name_ok(name):
            raise VerificationError(f"signature line has a bad key name {name!r}")
        blob = _b64(encoded, "signature")
        if len(blob) < 5:
            raise VerificationError("signature is too short")
        key = next((k for k in trusted if k.name == name and k.key_id == blob[:4]), None)
        if key is None:
            continue  # a signature by someone else
        if not key.verify(note_text.encode(), blob[4:]):
            raise VerificationError(f"invalid signature by {name}+{blob[:4].hex()}")
        if key not in signed_by:
            signed_by.append(key)
    if not signed_by:
        raise VerificationError("no signature by a trusted key")
    return note_text, signed_by


def sign_note(note_text: str, signers: Sequence[tuple[Key, bytes]]) -> str:
    """The signing side of §8.4 (for forging test inputs)."""
    lines = []
    for key, seed in signers:
        signature = Ed25519PrivateKey.from_private_bytes(seed).sign(note_text.encode())
        lines.append(f"{EM_DASH}{key.name} {base64.b64encode(key.key_id + signature).decode()}\n")
    return note_text + "\n" + "".join(lines)


# -- §9: checkpoints -----------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes


def parse_checkpoint_body(note_text: str) -> Checkpoint:
    lines = note_text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise VerificationError("checkpoint body needs origin, size and root lines")
    origin, size_text, root_text = lines[:3]
    if not re.fullmatch(r"0|[1-9][0-9]*", size_text):
        raise VerificationError(f"checkpoint size {size_text!r} is not decimal")
    root = _b64(root_text, "checkpoint root")
    if len(root) != 32:
        raise VerificationError("checkpoint root is not 32 bytes")
    return Checkpoint(origin, int(size_text), root)


def unverified_body(note: str) -> Checkpoint:
    cut = note.rfind("\n\n")
    if cut < 0:
        raise VerificationError("not a signed note")
    return parse_checkpoint_body(note[: cut + 1])


# -- §10: the key ring ---------------------------------------------------------------------


@dataclass
class KeyEpoch:
    key: Key
    introduced_at: int
    retired_at: int | None = None


@dataclass
class KeyRing:
    origin: str
    epochs: list[KeyEpoch] = field(default_factory=list)

    def allowed_at(self, size: int) -> list[Key]:
        """Keys that may sign the checkpoint of `size` (§10.1)."""
        return [
            e.key for e in self.epochs if e.introduced_at < size and (e.retired_at is None or e.retired_at >= size - 1)
        ]


def rotation_text(origin: str, old: Key, new: Key) -> str:
    return f"govledger key rotation\n{origin}\nold {old.vkey}\nnew {new.vkey}\n"


def build_key_ring(envelopes: Sequence[dict[str, Any]]) -> KeyRing:
    ring: KeyRing | None = None
    for seq, envelope in enumerate(envelopes):
        kind, data = envelope["kind"], envelope["data"]
        if kind == "log.created":
            if seq != 0 or ring is not None:
                raise VerificationError(f"entry {seq}: log.created must be entry 0, once")
            origin, key = data.get("origin"), parse_vkey(str(data.get("key")))
            if not isinstance(origin, str) or key.name != origin:
                raise VerificationError("entry 0: the key is not named after the origin")
            ring = KeyRing(origin, [KeyEpoch(key, 0)])
        elif kind == "key.rotated":
            if ring is None:
                raise VerificationError(f"entry {seq}: key rotation before log.created")
            old, new = parse_vkey(str(data.get("old_key"))), parse_vkey(str(data.get("new_key")))
            current = ring.epochs[-1]
            if old != current.key:
                raise VerificationError(f"entry {seq}: rotation from {old.key_id.hex()}, not the current key")
            if new.name != ring.origin or any(e.key.key_id == new.key_id for e in ring.epochs):
                raise VerificationError(f"entry {seq}: new key is misnamed or its id was used before")
            statement_text, signed_by = open_note(str(data.get("statement")), [old, new])
            if statement_text != rotation_text(ring.origin, old, new) or set(signed_by) != {old, new}:
                raise VerificationError(f"entry {seq}: rotation statement is not signed by both keys over this text")
            current.retired_at = seq
            ring.epochs.append(KeyEpoch(new, seq))
        elif seq == 0:
            raise VerificationError("entry 0 is not log.created")
    if ring is None:
        raise VerificationError("the log has no log.created entry")
    return ring


# -- the whole log (§14) -------------------------------------------------------------------


@dataclass
class VerifiedLog:
    ring: KeyRing
    leaves: list[bytes]
    envelopes: list[dict[str, Any]]

    def verify_checkpoint(self, note: str) -> Checkpoint:
        """A signed checkpoint of this log: right keys, right origin, right root (§9, §10.1)."""
        claimed = unverified_body(note)
        if claimed.size > len(self.leaves):
            raise VerificationError(f"checkpoint covers {claimed.size} entries, the export has {len(self.leaves)}")
        note_text, _ = open_note(note, self.ring.allowed_at(claimed.size))
        checkpoint = parse_checkpoint_body(note_text)
        if checkpoint.origin != self.ring.origin:
            raise VerificationError(f"checkpoint is for {checkpoint.origin!r}, not {self.ring.origin!r}")
        root = tree_root(self.leaves[: checkpoint.size])
        if root != checkpoint.root:
            raise VerificationError(
                f"root at size {checkpoint.size} is {root.hex()}, checkpoint says {checkpoint.root.hex()}"
            )
        return checkpoint


def verify_export(entries: Sequence[tuple[int, bytes]]) -> VerifiedLog:
    """Entries 0..n-1: canonical bodies, chain, leaf hashes and the key ring (§3, §4, §10)."""
    leaves: list[bytes] = []
    envelopes: list[dict[str, Any]] = []
    prev, last_ts = GENESIS_PREV, ""
    for position, (seq, body) in enumerate(entries):
        if seq != position:
            raise VerificationError(f"expected entry {position}, got {seq}")
        envelope = parse_entry(seq, body, prev, last_ts)
        leaves.append(leaf_hash(body))
        envelopes.append(envelope)
        prev, last_ts = leaves[-1].hex(), envelope["ts"]
    return VerifiedLog(build_key_ring(envelopes), leaves, envelopes)


def verify_closes(rows: Sequence[tuple[int, bytes, bytes]], leaves: Sequence[bytes]) -> None:
    """The stored leaf_hash and closes columns (§7) against the recomputed leaves."""
    for seq, stored_leaf, closes in rows:
        if stored_leaf != leaves[seq]:
            raise VerificationError(f"entry {seq}: stored leaf hash differs")
        levels = (seq ^ (seq + 1)).bit_length() - 1  # trailing 1 bits of seq
        expected = b"".join(tree_root(leaves[seq + 1 - (1 << level) : seq + 1]) for level in range(1, levels + 1))
        if closes != expected:
            raise VerificationError(f"entry {seq}: closes is not the perfect subtrees it completes")


# ============================================================================================
# Tests
# ============================================================================================


@dataclass
class Export:
    """What an auditor is given: bodies, checkpoints, keys the test kept, and a way to ask for proofs."""

    entries: list[tuple[int, bytes]]
    checkpoints: list[tuple[int, str]]  # every stored checkpoint (size, note)
    final_note: str
    rotation_seq: int
    old_signer: str  # the signer-key text before the rotation
    new_signer: str
    rows: list[tuple[int, bytes, bytes]]  # (seq, leaf_hash, closes) columns
    ledger: Ledger

    def inclusion(self, seq: int, size: int) -> dict[str, Any]:
        return self.ledger.inclusion_proof(seq, size).as_json()

    def consistency(self, old: int, new: int) -> dict[str, Any]:
        return self.ledger.consistency_proof(old, new).as_json()


def _path(proof: dict[str, Any]) -> list[bytes]:
    return [bytes.fromhex(h) for h in proof["path"]]


@pytest.fixture
def export(ledger: Ledger, actor: Actor, home: Path) -> Export:
    """~50 notes, a key rotation, more notes, a final checkpoint; then everything exported."""
    key_file = home / "keys" / f"test.example_log-{hashlib.sha256(b'test.example/log').hexdigest()[:8]}.key"  # §10.3
    for batch in range(5):
        ledger.append_many(
            [{"kind": "note.recorded", "data": {"text": f"note {batch * 10 + i}"}} for i in range(10)], actor=actor
        )
    old_signer = key_file.read_text(encoding="utf-8")
    rotation = ledger.rotate_key(actor=actor, reason="scheduled rotation")
    new_signer = key_file.read_text(encoding="utf-8")
    ledger.append_many(
        [
            {"kind": "note.recorded", "data": {"text": text}, "subject": subject}
            for text, subject in (
                ('héllo "quoted"\nline\ttab \\ back', "model/m-7"),
                ("emoji \U0001f600 and \u2028", None),
                ("control \x01\x1f and del \x7f", "dataset:δ"),
                ("plain", None),
            )
        ],
        actor=actor,
    )
    ledger.append("note.recorded", {"text": "with refs", "refs": [0, 1, 2]}, actor=actor, subject="run/42")
    for i in range(9):
        ledger.append("note.recorded", {"text": f"late {i}"}, actor=actor)
    final = ledger.checkpoint()
    exported = [(entry.seq, entry.body) for entry in ledger.entries(start=0, limit=100_000)]
    with ledger.engine.connect() as conn:
        checkpoints = [
            (int(size), str(note))
            for size, note in conn.execute(sql("SELECT size, note FROM checkpoints ORDER BY size"))
        ]
        rows = [
            (int(seq), bytes(leaf), bytes(closes))
            for seq, leaf, closes in conn.execute(sql("SELECT seq, leaf_hash, closes FROM entries ORDER BY seq"))
        ]
    assert len(exported) == ledger.size == final.size == 66
    return Export(exported, checkpoints, final.note, rotation.seq, old_signer, new_signer, rows, ledger)


def test_independent_verifier_accepts_the_log(export: Export) -> None:
    log = verify_export(export.entries)
    assert log.envelopes[0]["kind"] == "log.created"
    assert [e.introduced_at for e in log.ring.epochs] == [0, export.rotation_seq]
    assert log.ring.epochs[0].retired_at == export.rotation_seq

    final = log.verify_checkpoint(export.final_note)
    assert final.size == len(export.entries)
    assert final.root == tree_root(log.leaves)

    # Every checkpoint the log ever signed: the first key before and at the rotation, the new one after.
    signers = []
    for size, note in export.checkpoints:
        assert log.verify_checkpoint(note).size == size
        signers.append(open_note(note, [e.key for e in log.ring.epochs])[1][0])
    old_key, new_key = (e.key for e in log.ring.epochs)
    for (size, _), signer in zip(export.checkpoints, signers, strict=True):
        assert signer == (old_key if size <= export.rotation_seq + 1 else new_key)
    assert any(size == export.rotation_seq + 1 for size, _ in export.checkpoints)

    verify_closes(export.rows, log.leaves)


def test_inclusion_and_consistency_proofs_served_by_the_log(export: Export) -> None:
    log = verify_export(export.entries)
    final = log.verify_checkpoint(export.final_note)
    for seq in (0, 1, 17, export.rotation_seq, final.size - 2, final.size - 1):
        proof = export.inclusion(seq, final.size)
        assert (proof["seq"], proof["size"]) == (seq, final.size)
        verify_inclusion(log.leaves[seq], seq, final.size, _path(proof), final.root)

    # From each earlier signed checkpoint (both keys) to the final one.
    for size, note in export.checkpoints:
        old = log.verify_checkpoint(note)
        proof = export.consistency(size, final.size)
        verify_consistency(old.size, final.size, old.root, final.root, _path(proof))
        # and an inclusion proof inside that older tree
        proof = export.inclusion(size - 1, size)
        verify_inclusion(log.leaves[size - 1], size - 1, size, _path(proof), old.root)
    verify_consistency(0, final.size, EMPTY_ROOT, final.root, _path(export.consistency(0, final.size)))
    # Between consecutive checkpoints, across the rotation.
    for (old_size, old_note), (new_size, new_note) in itertools.pairwise(export.checkpoints):
        old, new = log.verify_checkpoint(old_note), log.verify_checkpoint(new_note)
        verify_consistency(old_size, new_size, old.root, new.root, _path(export.consistency(old_size, new_size)))


def test_bodies_are_the_canonical_form_of_the_listing(export: Export) -> None:
    # §14: what `govledger log --json` prints (Entry.as_json) is enough to rebuild the exact bytes.
    listing = [entry.as_json() for entry in export.ledger.entries(start=0, limit=100_000)]
    for (seq, body), item in zip(export.entries, listing, strict=True):
        envelope = {name: item[name] for name in ENVELOPE if name != "v"} | {"v": 1}
        assert rfc8785.dumps(envelope) == body, seq
        assert item["leaf_hash"] == leaf_hash(body).hex()


# -- negative cases ------------------------------------------------------------------------


def _replace(entries: list[tuple[int, bytes]], seq: int, old: bytes, new: bytes) -> list[tuple[int, bytes]]:
    changed = list(entries)
    assert changed[seq][1].count(old) == 1
    changed[seq] = (seq, changed[seq][1].replace(old, new))
    return changed


def test_a_changed_body_byte_is_rejected(export: Export) -> None:
    # In the middle: the next entry's prev no longer matches.
    changed = _replace(export.entries, 17, b'"note 16"', b'"note 1X"')
    with pytest.raises(VerificationError, match="entry 18: prev"):
        verify_export(changed)
    # The last entry has no successor: the signed root catches it.
    last = len(export.entries) - 1
    changed = _replace(export.entries, last, b'"late 8"', b'"late 9"')
    log = verify_export(changed)
    with pytest.raises(VerificationError, match=f"root at size {last + 1}"):
        log.verify_checkpoint(export.final_note)
    # A served proof for the changed entry leads elsewhere than the signed root.
    final = verify_export(export.entries).verify_checkpoint(export.final_note)
    with pytest.raises(VerificationError, match="leads to root"):
        verify_inclusion(log.leaves[last], last, final.size, _path(export.inclusion(last, final.size)), final.root)
    # A byte that keeps the JSON meaning but breaks the canonical form.
    with pytest.raises(VerificationError, match="entry 5: body is not RFC 8785 canonical"):
        verify_export(_replace(export.entries, 5, b'"seq":5,', b'"seq": 5,'))
    # A changed rotation entry (here its reason) breaks the chain too.
    with pytest.raises(VerificationError, match=f"entry {export.rotation_seq + 1}: prev"):
        verify_export(_replace(export.entries, export.rotation_seq, b"scheduled rotation", b"scheduled rotatiom"))


def _flip_signature_bit(note: str) -> str:
    head, _, encoded = note.rstrip("\n").rpartition(" ")
    blob = bytearray(base64.b64decode(encoded))
    blob[10] ^= 0x01
    return f"{head} {base64.b64encode(bytes(blob)).decode()}\n"


def test_a_bad_checkpoint_signature_is_rejected(export: Export) -> None:
    log = verify_export(export.entries)
    with pytest.raises(VerificationError, match="invalid signature"):
        log.verify_checkpoint(_flip_signature_bit(export.final_note))
    # A different root under the original signature.
    body, _, signatures = export.final_note.partition("\n\n")
    origin, size, _ = body.split("\n")
    forged = f"{origin}\n{size}\n{base64.b64encode(log.leaves[0]).decode()}\n\n{signatures}"
    with pytest.raises(VerificationError, match="invalid signature"):
        log.verify_checkpoint(forged)
    # Signed by a stranger's key of the same name: no trusted signature at all.
    stranger_seed = bytes(range(32))
    public = (
        Ed25519PrivateKey.from_private_bytes(stranger_seed)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    stranger = Key(origin, compute_key_id(origin, public), public)
    with pytest.raises(VerificationError, match="no signature by a trusted key"):
        log.verify_checkpoint(sign_note(body + "\n", [(stranger, stranger_seed)]))
    # The retired key may not sign a checkpoint past its rotation, even over the right root.
    old = parse_skey(export.old_signer)
    with pytest.raises(VerificationError, match="no signature by a trusted key"):
        log.verify_checkpoint(sign_note(body + "\n", [old]))
    # The current key, signing the same text the way §8.4 describes, is accepted: the doc is enough to sign.
    new = parse_skey(export.new_signer)
    assert sign_note(body + "\n", [new]) == export.final_note
    assert log.verify_checkpoint(sign_note(body + "\n", [new])).size == int(size)


def test_a_forged_key_rotation_is_rejected(export: Export) -> None:
    envelopes = verify_export(export.entries).envelopes
    rotation = envelopes[export.rotation_seq]
    old_key, new_key = parse_vkey(rotation["data"]["old_key"]), parse_vkey(rotation["data"]["new_key"])
    new = parse_skey(export.new_signer)
    only_new = dict(
        rotation,
        data=dict(rotation["data"], statement=sign_note(rotation_text("test.example/log", old_key, new_key), [new])),
    )
    forged = [*envelopes[: export.rotation_seq], only_new, *envelopes[export.rotation_seq + 1 :]]
    with pytest.raises(VerificationError, match="not signed by both keys"):
        build_key_ring(forged)
    wrong_text = dict(
        rotation,
        data=dict(
            rotation["data"],
            statement=sign_note(
                rotation_text("other.example/log", old_key, new_key), [parse_skey(export.old_signer), new]
            ),
        ),
    )
    forged = [*envelopes[: export.rotation_seq], wrong_text, *envelopes[export.rotation_seq + 1 :]]
    with pytest.raises(VerificationError, match="not signed by both keys over this text"):
        build_key_ring(forged)


def _flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 0x80]) + value[1:]


@pytest.mark.parametrize("position", [0, 1, -1])
def test_a_wrong_proof_element_is_rejected(export: Export, position: int) -> None:
    log = verify_export(export.entries)
    final = log.verify_checkpoint(export.final_note)
    seq = 21
    path = _path(export.inclusion(seq, final.size))
    verify_inclusion(log.leaves[seq], seq, final.size, path, final.root)
    path[position] = _flip(path[position])
    with pytest.raises(VerificationError, match="leads to root"):
        verify_inclusion(log.leaves[seq], seq, final.size, path, final.root)

    old_size, old_note = export.checkpoints[3]
    old = log.verify_checkpoint(old_note)
    path = _path(export.consistency(old_size, final.size))
    verify_consistency(old.size, final.size, old.root, final.root, path)
    path[position] = _flip(path[position])
    with pytest.raises(VerificationError, match=r"leads to (old|new) root"):
        verify_consistency(old.size, final.size, old.root, final.root, path)


def test_a_proof_of_the_wrong_length_is_rejected(export: Export) -> None:
    log = verify_export(export.entries)
    final = log.verify_checkpoint(export.final_note)
    path = _path(export.inclusion(5, final.size))
    with pytest.raises(VerificationError, match="too short"):
        verify_inclusion(log.leaves[5], 5, final.size, path[:-1], final.root)
    with pytest.raises(VerificationError, match="too long"):
        verify_inclusion(log.leaves[5], 5, final.size, [*path, path[0]], final.root)
    path = _path(export.consistency(11, final.size))
    old = tree_root(log.leaves[:11])
    with pytest.raises(VerificationError, match="too short"):
        verify_consistency(11, final.size, old, final.root, path[:-1])


# -- the worked example of the document ------------------------------------------------------


def _doc_examples() -> dict[str, str]:
    blocks = re.findall(r"<!-- example: ([\w-]+) -->\n```[a-z]*\n(.*?)\n```", DOC.read_text(encoding="utf-8"), re.S)
    return dict(blocks)


def test_the_documents_worked_example_verifies() -> None:
    example = _doc_examples()
    entries = [(seq, example[f"entry-{seq}"].encode()) for seq in range(5)]
    log = verify_export(entries)
    assert log.ring.origin == "example.com/log"
    assert log.ring.epochs[0].key.vkey == example["verifier-key-0"]
    assert log.envelopes[3]["data"]["statement"] == example["rotation-statement"] + "\n"

    rows = []
    for line in example["rows"].splitlines():
        seq, leaf, closes = line.split(" ")
        rows.append((int(seq), bytes.fromhex(leaf), b"" if closes == "-" else bytes.fromhex(closes)))
    verify_closes(rows, log.leaves)

    notes = {size: example[f"checkpoint-{size}"] + "\n" for size in (1, 3, 4, 5)}
    for size, note in notes.items():
        assert log.verify_checkpoint(note).size == size
    assert log.ring.allowed_at(5) == [log.ring.epochs[1].key]

    key, seed = parse_skey(example["signer-key-0"])
    assert key.vkey == example["verifier-key-0"]
    assert sign_note(notes[1].partition("\n\n")[0] + "\n", [(key, seed)]) == notes[1]  # deterministic Ed25519

    inclusion = json.loads(example["inclusion-1-5"])
    verify_inclusion(log.leaves[1], 1, 5, _path(inclusion), tree_root(log.leaves))
    consistency = json.loads(example["consistency-3-5"])
    verify_consistency(3, 5, tree_root(log.leaves[:3]), tree_root(log.leaves), _path(consistency))


# -- the verifier stays independent ------------------------------------------------------


def test_verifier_imports_nothing_from_ledger() -> None:
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            allowed.update(id(child) for child in ast.walk(node))
    for node in ast.walk(tree):
        names = (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        )
        for name in names:
            if name == "ledger" or name.startswith("ledger."):
                assert id(node) in allowed, f"line {node.lineno} imports {name} at run time"
