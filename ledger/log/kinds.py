"""Payload schemas: the `Payload` base every kind's model derives from, and the log core's own.

Every payload is a strict pydantic model (no coercion, no extra fields), so the stored payload is
exactly what the caller sent and what the schema allows. The kinds themselves are declared in
`ledger.kinds` (`KindSpec`): the core log's (`log.created`, `key.rotated`, `note.recorded`) in
`ledger.kinds.core`, the other packages' beside their own code.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["KeyRotated", "LogCreated", "NoteRecorded", "Payload"]


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
