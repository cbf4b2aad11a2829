"""Checkpoint signing keys: the private key on disk (or in an env var) and the public key ring.

The key ring is read from the log itself: entry 0 (`log.created`) names the first key and every
`key.rotated` entry adds the next one, carrying a statement signed by both the old and the new
key. Old keys stay in the ring, so checkpoints they signed keep verifying; an auditor who pins
any one key can follow the signed rotations from it.

Private keys are signed-note signer keys (``PRIVATE+KEY+…``), read from ``GOVLEDGER_SIGNING_KEY``
or from ``$GOVLEDGER_HOME/keys/<origin>.key``, a file created with mode 0600.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import SigningKeyError
from ledger.log.note import NoteError, Signer, Verifier, open_note, parse_signer, parse_verifier, sign_note

__all__ = [
    "SIGNING_KEY_ENV",
    "KeyRecord",
    "KeyRing",
    "KeyRingError",
    "key_path",
    "load_current_signer",
    "load_signer",
    "rotation_statement",
    "write_new_key_file",
]

SIGNING_KEY_ENV = "GOVLEDGER_SIGNING_KEY"


class KeyRingError(ValueError):
    """A key entry in the log is malformed or its rotation statement does not verify."""

    def __init__(self, seq: int, message: str) -> None:
        super().__init__(f"entry {seq}: {message}")
        self.seq = seq


@dataclass(frozen=True)
class KeyRecord:
    verifier: Verifier
    introduced_at: int  # sequence number of the entry that introduced it
    retired_at: int | None  # sequence number of the rotation that replaced it


def rotation_text(origin: str, old_key: str, new_key: str) -> str:
    return f"govledger key rotation\n{origin}\nold {old_key}\nnew {new_key}\n"


def rotation_statement(origin: str, old: Signer, new: Signer) -> str:
    """The signed note that authorises `new` to succeed `old`: signed by both."""
    return sign_note(rotation_text(origin, old.verifier.vkey, new.verifier.vkey), [old, new])


class KeyRing:
    """Every key that has signed this log's checkpoints, in order; the last one is current."""

    def __init__(self, origin: str, records: list[KeyRecord]) -> None:
        self.origin = origin
        self.records = records

    @property
    def current(self) -> Verifier:
        return self.records[-1].verifier

    @property
    def verifiers(self) -> list[Verifier]:
        return [record.verifier for record in self.records]

    def verifiers_at(self, size: int) -> list[Verifier]:
        """Keys that may sign a checkpoint of `size`: introduced inside that tree, and not retired
        before its last entry (a rotation entry itself may be covered by the old or the new key)."""
        return [
            r.verifier
            for r in self.records
            if r.introduced_at < size and (r.retired_at is None or r.retired_at >= size - 1)
        ]

    def by_id(self, key_id: int) -> Verifier | None:
        return next((r.verifier for r in self.records if r.verifier.key_id == key_id), None)

    @classmethod
    def from_entries(cls, envelopes: Iterable[tuple[int, dict[str, object]]]) -> KeyRing:
        """Build the ring from `log.created` and `key.rotated` envelopes in sequence order."""
        origin: str | None = None
        records: list[KeyRecord] = []
        for seq, envelope in envelopes:
            data = envelope.get("data")
            if not isinstance(data, dict):
                raise KeyRingError(seq, "payload is not an object")
            kind = envelope.get("kind")
            try:
                if any(not isinstance(data.get(f), str) for f in _KEY_FIELDS.get(str(kind), ())):
                    raise KeyRingError(seq, f"{kind} entry has a missing or non-string key field")
                if kind == "log.created":
                    if origin is not None or seq != 0:
                        raise KeyRingError(seq, "log.created must be entry 0 and appear once")
                    origin = str(data["origin"])
                    first = parse_verifier(str(data["key"]))
                    if first.name != origin:
                        raise KeyRingError(seq, f"key is named {first.name!r}, not after the origin {origin!r}")
                    records.append(KeyRecord(first, seq, None))
                elif kind == "key.rotated":
                    if origin is None:
                        raise KeyRingError(seq, "key rotation before log.created")
                    old, new = parse_verifier(str(data["old_key"])), parse_verifier(str(data["new_key"]))
                    if old != records[-1].verifier:
                        raise KeyRingError(seq, f"rotation from key {old.key_id_hex}, which is not the current key")
                    if new.name != origin:
                        raise KeyRingError(seq, f"new key is named {new.name!r}, not after the origin {origin!r}")
                    if any(r.verifier.key_id == new.key_id for r in records):
                        raise KeyRingError(seq, f"key {new.key_id_hex} was already used")
                    opened = open_note(str(data["statement"]), [old, new])
                    if opened.text != rotation_text(origin, old.vkey, new.vkey) or len(opened.verified) != 2:
                        raise KeyRingError(seq, "rotation statement is not signed by both keys over this rotation")
                    records[-1] = KeyRecord(records[-1].verifier, records[-1].introduced_at, seq)
                    records.append(KeyRecord(new, seq, None))
            except (KeyError, NoteError) as exc:
                raise KeyRingError(seq, f"bad key entry: {exc}") from exc
        if origin is None or not records:
            raise KeyRingError(0, "the log has no log.created entry")
        return cls(origin, records)


_KEY_FIELDS = {"log.created": ("origin", "key"), "key.rotated": ("old_key", "new_key", "statement")}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def key_path(home: Path, origin: str) -> Path:
    """`<home>/keys/<origin, unsafe characters as _>-<8 hex of SHA-256(origin)>.key`: readable, and
    distinct for origins that differ only in unsafe characters (a/b and a_b)."""
    digest = hashlib.sha256(origin.encode()).hexdigest()[:8]
    return home / "keys" / f"{_UNSAFE.sub('_', origin)}-{digest}.key"


def load_signer(home: Path, origin: str | None) -> Signer:
    """The private key for `origin`, from the environment or the key file (origin None: the
    environment's key, whatever log it names)."""
    text = os.environ.get(SIGNING_KEY_ENV)
    source = f"${SIGNING_KEY_ENV}"
    if not text:
        if origin is None:
            raise SigningKeyError(f"${SIGNING_KEY_ENV} is not set")
        path = key_path(home, origin)
        if not path.is_file():
            raise SigningKeyError(f"no signing key for {origin}: set ${SIGNING_KEY_ENV} or provide {path}")
        text, source = path.read_text(encoding="utf-8"), str(path)
    try:
        signer = parse_signer(text.strip())
    except NoteError as exc:
        raise SigningKeyError(f"signing key in {source} is malformed: {exc}") from exc
    if origin is not None and signer.name != origin:
        raise SigningKeyError(f"signing key in {source} is named {signer.name!r}, but this log is {origin!r}")
    return signer


def write_new_key_file(path: Path, signer: Signer) -> None:
    """Create `path` with mode 0600 (never overwriting) and write the signer key into it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(signer.skey + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def load_current_signer(home: Path, ring: KeyRing) -> Signer:
    """The signing key of the log's current key, finishing an interrupted rotation first.

    SigningKeyError if the key on this machine is retired or not in the log's key ring.
    """
    path = key_path(home, ring.origin)
    pending = path.with_suffix(".key.new")
    if pending.is_file() and not os.environ.get(SIGNING_KEY_ENV):
        # A rotation committed but the process stopped before renaming the new key into place.
        try:
            candidate: Signer | None = parse_signer(pending.read_text(encoding="utf-8").strip())
        except NoteError:
            candidate = None
        if candidate is not None and candidate.verifier == ring.current:
            pending.replace(path)
    signer = load_signer(home, ring.origin)
    if signer.verifier != ring.current:
        retired = signer.verifier in ring.verifiers
        raise SigningKeyError(
            f"the signing key {signer.verifier.key_id_hex} is "
            + ("retired" if retired else "not in this log's key ring")
            + f"; the current key is {ring.current.key_id_hex}"
        )
    return signer
