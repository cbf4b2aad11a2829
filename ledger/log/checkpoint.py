"""C2SP tlog-checkpoint bodies (https://c2sp.org/tlog-checkpoint): origin, tree size, root.

A checkpoint body is three lines, then optional extension lines::

    <origin>
    <tree size, decimal>
    <base64 root hash>

signed as a signed note (`ledger.log.note`). Pure: standard library and `ledger.log.note` only.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass

from ledger.log.merkle import HASH_SIZE
from ledger.log.note import NoteError, OpenedNote, Signer, Verifier, open_note, parse_note, sign_note

__all__ = ["Checkpoint", "CheckpointError", "SignedCheckpoint", "format_body", "open_signed", "parse_body", "sign"]


class CheckpointError(ValueError):
    """A checkpoint body is malformed or its signature does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint together with its exact signed-note text (what auditors save and compare)."""

    checkpoint: Checkpoint
    note: str
    key_ids: tuple[int, ...]

    @property
    def size(self) -> int:
        return self.checkpoint.size

    @property
    def root(self) -> bytes:
        return self.checkpoint.root


def format_body(checkpoint: Checkpoint) -> str:
    if not checkpoint.origin or any(c.isspace() for c in checkpoint.origin):
        raise CheckpointError(f"origin {checkpoint.origin!r} must be non-empty without spaces")
    if checkpoint.size < 0 or len(checkpoint.root) != HASH_SIZE:
        raise CheckpointError("checkpoint needs a non-negative size and a 32-byte root")
    lines = [
        checkpoint.origin,
        str(checkpoint.size),
        base64.b64encode(checkpoint.root).decode(),
        *checkpoint.extensions,
    ]
    return "".join(f"{line}\n" for line in lines)


def parse_body(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise CheckpointError("checkpoint body needs origin, size and root lines, each ending in a newline")
    origin, size_text, root_text, *extensions = lines[:-1]
    if not origin:
        raise CheckpointError("checkpoint origin line is empty")
    if not size_text.isascii() or not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise CheckpointError(f"checkpoint size {size_text!r} is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except ValueError as exc:
        raise CheckpointError("checkpoint root is not valid base64") from exc
    if len(root) != HASH_SIZE:
        raise CheckpointError(f"checkpoint root is {len(root)} bytes, want {HASH_SIZE}")
    if base64.b64encode(root).decode() != root_text:  # unused low bits set: one root, two texts
        raise CheckpointError("checkpoint root is not in canonical base64")
    if any(not line for line in extensions):
        raise CheckpointError("checkpoint extension lines must not be empty")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def sign(checkpoint: Checkpoint, signers: Iterable[Signer]) -> SignedCheckpoint:
    signer_list = list(signers)
    note = sign_note(format_body(checkpoint), signer_list)
    return SignedCheckpoint(checkpoint, note, tuple(s.key_id for s in signer_list))


def parse_unverified(note: str) -> SignedCheckpoint:
    """Parse a signed checkpoint without checking signatures (to report what it claims)."""
    try:
        text, signatures = parse_note(note)
    except NoteError as exc:
        raise CheckpointError(str(exc)) from exc
    return SignedCheckpoint(parse_body(text), note, tuple(s.key_id for s in signatures))


def open_signed(note: str, verifiers: Iterable[Verifier], origin: str | None = None) -> SignedCheckpoint:
    """Verify the note's signature against known keys, then parse the body; check the origin if given."""
    try:
        opened: OpenedNote = open_note(note, verifiers)
    except NoteError as exc:
        raise CheckpointError(str(exc)) from exc
    checkpoint = parse_body(opened.text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint is for origin {checkpoint.origin!r}, not {origin!r}")
    return SignedCheckpoint(checkpoint, note, tuple(v.key_id for v in opened.verified))
