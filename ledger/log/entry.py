"""The log entry: its envelope, its canonical bytes and its leaf hash.

An entry is the JSON object ``{"actor", "data", "kind", "prev", "seq", "subject", "ts", "v"}``
encoded with RFC 8785. Its leaf hash is SHA-256(0x00 || bytes) (RFC 9162), and `prev` is the
previous entry's leaf hash in hex (64 zeros for the first), so the entries also form a hash chain.

Drafts are validated and their `data` encoded *before* the sequencer takes its lock; inside the
lock only seq, ts and prev are spliced in (`seal`). Because RFC 8785 orders keys and every part
is itself canonical, the splice yields exactly `canonical_json(envelope)`; a test checks this.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from ledger.errors import CorruptLedgerError, InvalidInputError, PayloadTooLargeError
from ledger.log.canonical import CanonicalError, canonical_json
from ledger.log.merkle import leaf_hash

__all__ = [
    "DEFAULT_MAX_ENTRY_BYTES",
    "ENTRY_VERSION",
    "GENESIS_PREV",
    "KIND_PATTERN",
    "Actor",
    "Draft",
    "Entry",
    "SealedEntry",
    "check_item",
    "decode_body",
    "entry_from_row",
    "format_ts",
    "make_draft",
    "seal",
    "stored_data_json",
]

ENTRY_VERSION = 1
GENESIS_PREV = bytes(32)  # the `prev` of entry 0: 64 zeros in hex
DEFAULT_MAX_ENTRY_BYTES = 1024 * 1024
KIND_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\Z")
_VERSION = str(ENTRY_VERSION).encode()
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f]")
_MAX_SUBJECT = 256
_MAX_ACTOR_FIELD = 200


@dataclass(frozen=True)
class Actor:
    """Who caused a write: an API key id and name, a local user, or the system itself."""

    id: str
    name: str

    def as_json(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True)
class Draft:
    """A validated entry waiting for its place in the log: everything but seq, ts and prev."""

    kind: str
    subject: str | None
    data: Any
    actor: Actor
    head: bytes  # canonical '{"actor":…,"data":…,"kind":…,"prev":"'
    tail: bytes  # canonical ',"subject":…'
    payload: Any = None  # the validated payload model, for the kind's append checks (None if it has none)


@dataclass(frozen=True)
class SealedEntry:
    """An entry with its position: the exact bytes that are stored and hashed."""

    seq: int
    ts: str
    kind: str
    subject: str | None
    body: bytes
    leaf_hash: bytes
    data: Any  # the validated payload, for append hooks (projections, referential checks)
    actor: Actor
    payload: Any = None  # the validated payload model, for append checks (None without checks, and when read back)


@dataclass(frozen=True)
class Entry:
    """An entry read back from the log."""

    seq: int
    ts: str
    kind: str
    subject: str | None
    actor: Actor
    data: Any
    prev: str
    body: bytes
    leaf_hash: bytes

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "ts": self.ts,
            "kind": self.kind,
            "subject": self.subject,
            "actor": self.actor.as_json(),
            "data": self.data,
            "prev": self.prev,
            "leaf_hash": self.leaf_hash.hex(),
            "body": self.body.decode("utf-8"),  # the exact canonical bytes that were hashed, for auditors
        }


# How every UTC time govledger accepts is written: RFC 3339, UTC ("Z"), at most microseconds, in
# ASCII digits ([0-9], not \d: both Python's re and pydantic's regex take \d as any Unicode digit,
# and fromisoformat then reads full-width "１２３４" as the year 1234).
UTC_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$"


def parse_utc(value: str) -> datetime:
    """The moment a string in UTC_PATTERN names; ValueError when it is not a time of the calendar
    (2026-13-45T99:00:00Z matches the pattern but names no moment).

    Why fromisoformat: on strings the pattern has admitted it checks exactly the calendar, at about
    0.2 us against strptime's 20 us; every decision carries two such times."""
    return datetime.fromisoformat(value).astimezone(UTC)


def format_ts(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds; fixed width, so string order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check_text(value: Any, field: str, limit: int, errors: list[dict[str, Any]], *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value or len(value) > limit:
        errors.append(
            {"loc": [field], "msg": f"must be a non-empty string of at most {limit} characters", "type": "string_type"}
        )
    elif _CONTROL_CHARACTER.search(value):
        errors.append({"loc": [field], "msg": "must not contain control characters", "type": "string_pattern"})


def check_item(item: Any) -> tuple[Any, Any, Any]:
    """(kind, data, subject) of one ``{"kind", "data", "subject"?}`` item of a batch, or InvalidInputError."""
    if not isinstance(item, Mapping):
        raise InvalidInputError(
            "entry must be a JSON object", [{"loc": [], "msg": "must be an object", "type": "dict_type"}]
        )
    unknown = set(item) - {"kind", "data", "subject"}
    if unknown or "kind" not in item or "data" not in item:
        raise InvalidInputError(
            "entry needs 'kind' and 'data' (and optionally 'subject')",
            [{"loc": sorted(unknown) or ["kind"], "msg": "expected kind, data, subject", "type": "envelope"}],
        )
    return item["kind"], item["data"], item.get("subject")


def _check_actor(actor: Actor, errors: list[dict[str, Any]]) -> None:
    _check_text(actor.id, "actor.id", _MAX_ACTOR_FIELD, errors)
    _check_text(actor.name, "actor.name", _MAX_ACTOR_FIELD, errors)


@lru_cache(maxsize=1024)
def _actor_errors(actor: Actor) -> tuple[dict[str, Any], ...]:
    """The envelope errors of an actor: checked once per actor, not once per entry of a batch."""
    errors: list[dict[str, Any]] = []
    _check_actor(actor, errors)
    return tuple(errors)


@lru_cache(maxsize=1024)
def _actor_json(actor: Actor) -> bytes:
    return canonical_json(actor.as_json())


@lru_cache(maxsize=1024)
def _kind_json(kind: str) -> bytes:
    return canonical_json(kind)


def make_draft(
    kind: str,
    data: Any,
    *,
    actor: Actor,
    subject: str | None = None,
    max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES,
    payload: Any = None,
) -> Draft:
    """Check the envelope and encode the payload; raise InvalidInputError (nothing is written)."""
    errors: list[dict[str, Any]] = []
    if not isinstance(kind, str) or not KIND_PATTERN.match(kind) or len(kind) > 64:
        errors.append({"loc": ["kind"], "msg": "must look like 'noun.verb' in lower case", "type": "kind_pattern"})
    _check_text(subject, "subject", _MAX_SUBJECT, errors, optional=True)
    try:
        errors += [dict(error) for error in _actor_errors(actor)]
    except TypeError:  # an unhashable id or name cannot be cached: checked like any other bad value
        _check_actor(actor, errors)
    if not isinstance(data, dict):
        errors.append({"loc": ["data"], "msg": "must be a JSON object", "type": "dict_type"})
    if errors:
        raise InvalidInputError("invalid entry", errors)
    try:
        data_json = canonical_json(data)
        subject_json = canonical_json(subject) if subject is not None else b"null"
        actor_json, kind_json = _actor_json(actor), _kind_json(kind)
    except CanonicalError as exc:
        raise InvalidInputError(
            "entry is not representable as canonical JSON", [{"loc": ["data"], "msg": str(exc), "type": "json_invalid"}]
        ) from exc
    head = b'{"actor":' + actor_json + b',"data":' + data_json + b',"kind":' + kind_json + b',"prev":"'
    tail = b',"subject":' + subject_json
    size = len(head) + len(tail) + 160  # prev, seq, ts and the closing keys
    if size > max_entry_bytes:
        raise PayloadTooLargeError(
            f"entry is {size} bytes, over the limit of {max_entry_bytes}",
            [{"loc": ["data"], "msg": f"encoded entry exceeds {max_entry_bytes} bytes", "type": "too_large"}],
        )
    return Draft(kind, subject, data, actor, head, tail, payload)


def seal(draft: Draft, *, seq: int, ts: str, prev: bytes) -> SealedEntry:
    """Place a draft at `seq`: the canonical body and its leaf hash."""
    body = b"".join(
        (
            draft.head,
            prev.hex().encode(),
            b'","seq":',
            str(seq).encode(),
            draft.tail,
            b',"ts":"',
            ts.encode(),
            b'","v":',
            _VERSION,
            b"}",
        )
    )
    return SealedEntry(
        seq, ts, draft.kind, draft.subject, body, leaf_hash(body), draft.data, draft.actor, draft.payload
    )


def decode_body(body: bytes) -> dict[str, Any]:
    """Parse stored bytes back into the envelope (no hashing; see `ledger.verification.log_check` for that)."""
    value = json.loads(body.decode("utf-8"))  # bytes would let json guess UTF-16/32
    if not isinstance(value, dict):
        raise ValueError("entry body is not a JSON object")
    return value


def stored_data_json(body: bytes, envelope: Mapping[str, Any]) -> bytes | None:
    """The exact bytes of `data` inside a stored body, or None if the body is not laid out as
    `seal` writes it around the envelope's other members (then the caller re-encodes `data`).

    Why: a payload accepted before the depth limit (or written by an older release) may nest
    deeper than an encoder allows (pydantic's serializer stops at about 255 levels, orjson at
    254); serving the stored bytes means an entry already in the log can always be read. The
    envelope around `data` is rebuilt from the other members and must match the body exactly at
    both ends, so the slice between them is `data` and nothing else. The members are encoded with
    orjson, whose output for these strings and integers is the canonical one; where it is not
    (or a member is absent), the comparison fails and the caller re-encodes: never a wrong slice."""
    try:
        head = b'{"actor":' + orjson.dumps(envelope["actor"], option=orjson.OPT_SORT_KEYS) + b',"data":'
        rest = {key: envelope[key] for key in ("kind", "prev", "seq", "subject", "ts", "v")}
        tail = b"," + orjson.dumps(rest, option=orjson.OPT_SORT_KEYS)[1:]
    except (KeyError, TypeError, orjson.JSONEncodeError):
        return None
    if len(body) <= len(head) + len(tail) or not body.startswith(head) or not body.endswith(tail):
        return None
    return body[len(head) : len(body) - len(tail)]


def entry_from_row(seq: int, body: bytes, stored_leaf_hash: bytes) -> Entry:
    envelope = decode_body(body)
    if envelope.get("seq") != seq:
        raise CorruptLedgerError(f"row {seq} holds the body of entry {envelope.get('seq')}: run `govledger verify`")
    actor = envelope["actor"]
    return Entry(
        seq=envelope["seq"],
        ts=envelope["ts"],
        kind=envelope["kind"],
        subject=envelope["subject"],
        actor=Actor(actor["id"], actor["name"]),
        data=envelope["data"],
        prev=envelope["prev"],
        body=body,
        leaf_hash=stored_leaf_hash,
    )
