"""The log itself: entries, signed checkpoints and Merkle proofs (hashes in lower-case hex)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ledger.wire.common import Actor, Timestamp

__all__ = ["Checkpoint", "ConsistencyProof", "Entry", "EntryWithProof", "InclusionProof"]

Hex = Field(pattern=r"^[0-9a-f]{64}$")


class Entry(BaseModel):
    """An entry as stored; `body` is the exact canonical JSON that was hashed into `leaf_hash`."""

    seq: int
    ts: str = Timestamp("when the entry was recorded")
    kind: str
    subject: str | None
    actor: Actor
    data: Any
    prev: str
    leaf_hash: str
    body: str


class InclusionProof(BaseModel):
    """RFC 9162 inclusion proof of entry `seq` in the tree of `size` entries with root `root`."""

    seq: int
    size: int
    leaf_hash: str
    path: list[str]
    root: str


class EntryWithProof(Entry):
    """An entry with its inclusion proof against the latest checkpoint (both null until a
    checkpoint covers it: ask again within a second)."""

    inclusion_proof: InclusionProof | None
    checkpoint: str | None = Field(description="the checkpoint's C2SP signed note")


class ConsistencyProof(BaseModel):
    """RFC 9162 proof that the tree of `old_size` entries is a prefix of the tree of `new_size`."""

    old_size: int
    new_size: int
    old_root: str
    new_root: str
    path: list[str]


class Checkpoint(BaseModel):
    """The newest signed checkpoint and the verifier keys to check its note with."""

    origin: str
    size: int
    root: str
    note: str = Field(description="C2SP signed note")
    keys: list[str] = Field(description="verifier keys (C2SP vkey) of the log's signing keys")
