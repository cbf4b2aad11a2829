"""Payload schemas: the `Payload` base every kind's model derives from, and the log core's own.

Every payload is a strict pydantic model (no coercion, no extra fields), so the stored payload is
exactly what the caller sent and what the schema allows. The kinds themselves are declared in
`ledger.kinds` (`KindSpec`): the core log's (`log.created`, `key.rotated`, `note.recorded`) in
`ledger.kinds.core`, the other packages' beside their own code.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

__all__ = [
    "MAX_FREE_JSON_BYTES",
    "MAX_FREE_JSON_DEPTH",
    "MAX_LARGE_FREE_JSON_BYTES",
    "FreeJson",
    "KeyRotated",
    "LargeFreeJson",
    "LogCreated",
    "NoteRecorded",
    "Payload",
]


class Payload(BaseModel):
    """Base of every payload schema: strict types, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class LogCreated(Payload):
    """Entry 0 of every log: who the log is and the first key that signs its checkpoints."""

    origin: str = Field(min_length=1, max_length=200, pattern=r"^[^\s+]+$")
    key: str = Field(min_length=1, max_length=400, description="signed-note verifier key")
    software: str = Field(min_length=1, max_length=100)


class KeyRotated(Payload):
    """A new checkpoint key. `statement` is a signed note naming both keys, signed by both."""

    old_key: str = Field(min_length=1, max_length=400)
    new_key: str = Field(min_length=1, max_length=400)
    statement: str = Field(min_length=1, max_length=4000)
    reason: str | None = Field(default=None, max_length=1000)


class NoteRecorded(Payload):
    """A free-text remark in the log, e.g. an auditor's note or a demo entry."""

    text: str = Field(min_length=1, max_length=10_000)
    refs: list[int] = Field(default_factory=list, max_length=100, description="sequence numbers referred to")


# -- free-form JSON -----------------------------------------------------------------------------

MAX_FREE_JSON_DEPTH = 32
MAX_FREE_JSON_BYTES = 64 * 1024


def _check_free_json(value: dict[str, Any], max_bytes: int = MAX_FREE_JSON_BYTES) -> dict[str, Any]:
    """Refuse free-form JSON nested deeper than MAX_FREE_JSON_DEPTH levels (the object itself is
    level 1) or longer than `max_bytes` encoded (MAX_FREE_JSON_BYTES unless the field says otherwise).

    Why: the log cannot forget what it accepted. A 254-deep `parameters` was accepted once and
    every read touching it then failed in an encoder's depth limit (pydantic ~255, orjson 254);
    read paths now serve stored bytes, and this limit keeps new entries far from any encoder's.
    The walk is iterative, so no depth reaches Python's recursion limit here."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_FREE_JSON_DEPTH:
            raise ValueError(f"free-form JSON nested deeper than {MAX_FREE_JSON_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    try:
        size = len(orjson.dumps(value))
    except orjson.JSONEncodeError:  # an integer past 64 bits or a lone surrogate: the exact encoder
        size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise ValueError(f"free-form JSON is {size} bytes encoded, over the limit of {max_bytes} bytes")
    return value


FreeJson = Annotated[dict[str, Any], AfterValidator(_check_free_json)]
"""A JSON object whose shape the payload leaves to the caller (run parameters, evaluation
details), bounded in depth and size (`MAX_FREE_JSON_DEPTH`, `MAX_FREE_JSON_BYTES`)."""

MAX_LARGE_FREE_JSON_BYTES = 1024 * 1024


def _check_large_free_json(value: dict[str, Any]) -> dict[str, Any]:
    return _check_free_json(value, MAX_LARGE_FREE_JSON_BYTES)


LargeFreeJson = Annotated[dict[str, Any], AfterValidator(_check_large_free_json)]
"""Free-form JSON of the same depth bound but up to 1 MiB (`MAX_LARGE_FREE_JSON_BYTES`): for
figures a tool computes over many groups (an evaluation's validation tables), where 64 KiB would
refuse an honest evaluation of a class with dozens of groups. The entry's own size limit still applies."""
