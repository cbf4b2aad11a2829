"""C2SP signed-note: Ed25519 keys, key ids, and signing/opening notes (https://c2sp.org/signed-note).

Why a standard format: an auditor must be able to check a govledger checkpoint with tools that
know nothing of govledger (Go's golang.org/x/mod/sumdb/note, transparency-dev/formats). The key
encodings are the ones those tools use:

- verifier key: ``<name>+<hex key id>+<base64(0x01 || 32-byte public key)>``
- signer key:   ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || 32-byte seed)>``
- key id:       first 4 bytes (big-endian) of SHA-256(name || 0x0A || 0x01 || public key)
- signature line: ``— <name> <base64(4-byte key id || 64-byte signature)>``

Depends only on the standard library and `cryptography`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "ALG_ED25519",
    "NoteError",
    "NoteSignature",
    "OpenedNote",
    "Signer",
    "Verifier",
    "generate_signer",
    "key_id",
    "open_note",
    "parse_signer",
    "parse_verifier",
    "sign_note",
]

ALG_ED25519 = 0x01
_SIG_PREFIX = "\u2014 "  # em dash, space
_MAX_SIGNATURES = 100


class NoteError(ValueError):
    """A key or note is malformed, or its signatures do not verify."""


def _check_name(name: str) -> None:
    if not name:
        raise NoteError("key name is empty")
    if "+" in name or any(ch.isspace() or unicodedata.category(ch) == "Zs" for ch in name):
        raise NoteError(f"key name {name!r} contains '+' or a space")


def key_id(name: str, public_key: bytes) -> int:
    """The signed-note key id: a hash of the name, algorithm and public key."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError(f"{what} is not valid base64") from exc


@dataclass(frozen=True)
class Verifier:
    """A named Ed25519 public key that checks signatures on notes."""

    name: str
    key_id: int
    public_key: bytes

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id:08x}+{encoded}"

    @property
    def key_id_hex(self) -> str:
        return f"{self.key_id:08x}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A named Ed25519 private key. Its text form (`skey`) is what key files and env vars hold."""

    name: str
    key_id: int
    seed: bytes = field(repr=False)

    @cached_property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.key_id, _public_from_seed(self.seed))

    @property
    def skey(self) -> str:
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{encoded}"

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


def _public_from_seed(seed: bytes) -> bytes:
    return (
        Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def generate_signer(name: str) -> Signer:
    """A fresh Ed25519 key named `name` (for checkpoints, the log's origin)."""
    _check_name(name)
    seed = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return Signer(name, key_id(name, _public_from_seed(seed)), seed)


def _split_key(text: str, parts_expected: int, what: str) -> list[str]:
    parts = text.strip().split("+", parts_expected - 1)
    if len(parts) != parts_expected:
        raise NoteError(f"malformed {what}: want {parts_expected} '+'-separated fields")
    return parts


def _parse_key_fields(name: str, hex_id: str, b64: str, what: str) -> tuple[int, bytes]:
    _check_name(name)
    if len(hex_id) != 8 or any(c not in "0123456789abcdef" for c in hex_id):
        raise NoteError(f"malformed {what}: key id {hex_id!r} is not 8 lower-case hex digits")
    raw = _b64decode(b64, what)
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise NoteError(f"malformed {what}: want algorithm 0x01 and 32 key bytes")
    return int(hex_id, 16), raw[1:]


def parse_verifier(vkey: str) -> Verifier:
    """Parse ``name+hexid+base64`` and check the id matches the key."""
    name, hex_id, b64 = _split_key(vkey, 3, "verifier key")
    claimed, public_key = _parse_key_fields(name, hex_id, b64, "verifier key")
    if key_id(name, public_key) != claimed:
        raise NoteError(f"verifier key id {hex_id} does not match its name and public key")
    return Verifier(name, claimed, public_key)


def parse_signer(skey: str) -> Signer:
    """Parse ``PRIVATE+KEY+name+hexid+base64`` and check the id matches the key."""
    parts = _split_key(skey, 5, "signer key")
    if parts[0] != "PRIVATE" or parts[1] != "KEY":
        raise NoteError("malformed signer key: must start with PRIVATE+KEY+")
    claimed, seed = _parse_key_fields(parts[2], parts[3], parts[4], "signer key")
    if key_id(parts[2], _public_from_seed(seed)) != claimed:
        raise NoteError(f"signer key id {parts[3]} does not match its name and key")
    return Signer(parts[2], claimed, seed)


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("note text must end in a newline")
    for ch in text:
        if ch != "\n" and (ord(ch) < 0x20 or ord(ch) == 0x7F):
            raise NoteError("note text contains a control character")


def sign_note(text: str, signers: Iterable[Signer]) -> str:
    """Return the signed note: text, a blank line, one signature line per signer."""
    _check_text(text)
    message = text.encode()
    lines = []
    for signer in signers:
        blob = signer.key_id.to_bytes(4, "big") + signer.sign(message)
        lines.append(f"{_SIG_PREFIX}{signer.name} {base64.b64encode(blob).decode()}\n")
    if not lines:
        raise NoteError("a note needs at least one signer")
    return text + "\n" + "".join(lines)


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: int
    signature: bytes


@dataclass(frozen=True)
class OpenedNote:
    """A parsed note: its text, the signatures that verified, and those by keys we do not know."""

    text: str
    verified: tuple[Verifier, ...]
    unknown: tuple[NoteSignature, ...]


def parse_note(message: str) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text and signatures without verifying anything."""
    if not message.endswith("\n"):
        raise NoteError("malformed note: does not end in a newline")
    split = message.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no blank line before the signatures")
    text, block = message[: split + 1], message[split + 2 :]
    _check_text(text)
    signatures = []
    for line in block.split("\n")[:-1]:  # only \n separates lines (str.splitlines also splits on \r, U+2028…)
        if not line.startswith(_SIG_PREFIX):
            raise NoteError(f"malformed note: signature line {line[:40]!r} does not start with an em dash")
        name, _, b64 = line[len(_SIG_PREFIX) :].partition(" ")
        _check_name(name)
        blob = _b64decode(b64, "signature")
        if base64.b64encode(blob).decode() != b64:
            raise NoteError("malformed note: signature is not in canonical base64")
        if len(blob) < 5:
            raise NoteError("malformed note: signature too short")
        signatures.append(NoteSignature(name, int.from_bytes(blob[:4], "big"), blob[4:]))
    if not signatures:
        raise NoteError("malformed note: no signatures")
    if len(signatures) > _MAX_SIGNATURES:
        raise NoteError(f"malformed note: more than {_MAX_SIGNATURES} signatures")
    return text, signatures


def open_note(message: str, verifiers: Iterable[Verifier]) -> OpenedNote:
    """Parse and verify a note. Raise NoteError if malformed, if a known key's signature is bad,
    or if no signature is by a known key (a note nobody we trust signed proves nothing)."""
    text, signatures = parse_note(message)
    known = {(v.name, v.key_id): v for v in verifiers}
    verified: list[Verifier] = []
    unknown: list[NoteSignature] = []
    for sig in signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            unknown.append(sig)
            continue
        if not verifier.verify(text.encode(), sig.signature):
            raise NoteError(f"invalid signature by key {sig.name}+{sig.key_id:08x}")
        if verifier not in verified:
            verified.append(verifier)
    if not verified:
        ids = ", ".join(f"{s.name}+{s.key_id:08x}" for s in unknown)
        raise NoteError(f"no signature by a known key (signed by: {ids})")
    return OpenedNote(text, tuple(verified), tuple(unknown))
