"""Entry kinds and their payload schemas: unknown or malformed payloads never reach the log.

A `KindRegistry` maps each kind to a strict pydantic model (no coercion, no extra fields), so
the stored payload is exactly what the caller sent and what the schema allows. The ledger core
registers the kinds it needs itself (`log.created`, `key.rotated`, `note.recorded`); the lineage
layer registers the model-governance kinds on top.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ledger.errors import InvalidInputError
from ledger.log.entry import KIND_PATTERN

__all__ = ["KeyRotated", "KindRegistry", "LogCreated", "NoteRecorded", "Payload", "core_kinds"]


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


class KindRegistry:
    """Which kinds may be appended, and the schema each payload must satisfy."""

    def __init__(self, kinds: Iterable[tuple[str, type[Payload]]] = ()) -> None:
        self._schemas: dict[str, type[Payload]] = {}
        for kind, schema in kinds:
            self.register(kind, schema)

    def register(self, kind: str, schema: type[Payload]) -> None:
        if not KIND_PATTERN.match(kind):
            raise ValueError(f"kind {kind!r} does not look like 'noun.verb'")
        if kind in self._schemas and self._schemas[kind] is not schema:
            raise ValueError(f"kind {kind!r} is already registered with another schema")
        self._schemas[kind] = schema

    def __contains__(self, kind: object) -> bool:
        return kind in self._schemas

    @property
    def kinds(self) -> list[str]:
        return sorted(self._schemas)

    def schema(self, kind: str) -> type[Payload]:
        try:
            return self._schemas[kind]
        except KeyError:
            raise InvalidInputError(
                f"unknown kind {kind!r}",
                [{"loc": ["kind"], "msg": f"unknown kind; known: {', '.join(self.kinds)}", "type": "unknown_kind"}],
            ) from None

    def validate(self, kind: str, data: Any) -> Payload:
        """Return the parsed payload, or raise InvalidInputError with field-level errors."""
        schema = self.schema(kind)
        try:
            return schema.model_validate(data)
        except ValidationError as exc:
            errors = [
                {"loc": ["data", *map(str, err["loc"])], "msg": err["msg"], "type": err["type"]}
                for err in exc.errors(include_url=False, include_context=False, include_input=False)
            ]
            first = errors[0]
            where = ".".join(first["loc"])
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise InvalidInputError(
                f"invalid payload for kind {kind!r}: {where}: {first['msg']}{more}", errors
            ) from None


def core_kinds() -> KindRegistry:
    """A registry holding the kinds the ledger core itself writes."""
    return KindRegistry([("log.created", LogCreated), ("key.rotated", KeyRotated), ("note.recorded", NoteRecorded)])
