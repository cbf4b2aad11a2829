"""Shapes shared by every part of the API: the error body, the actor, a recorded entry's data."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Actor", "ErrorBody", "ErrorDetail", "ErrorInfo", "RecordedEntry", "Timestamp"]


def Timestamp(description: str) -> Any:  # noqa: N802 - reads as a type in field declarations
    """A UTC time as the log writes it (`YYYY-MM-DDTHH:MM:SS.ffffffZ`)."""
    return Field(description=description, json_schema_extra={"format": "date-time"})


class ErrorDetail(BaseModel):
    """One finding: where (`loc`), what (`msg`), which kind (`type`). Some carry more (a blocked
    promotion names the rule's group, value and threshold), so other fields are allowed."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int]
    msg: str
    type: str


class ErrorInfo(BaseModel):
    code: str = Field(description="machine-readable: invalid_input, unauthorized, forbidden, not_found, ...")
    message: str
    errors: list[ErrorDetail]


class ErrorBody(BaseModel):
    """The one error body of every 4xx and 5xx answer (see `ledger.service.errors`)."""

    error: ErrorInfo


class Actor(BaseModel):
    """Who caused a write: an API key (`key:<id>`), a local user (`local:<name>`) or the system."""

    id: str
    name: str


class RecordedEntry(BaseModel):
    """One entry's payload with when and by whom it was recorded (a published policy, an evaluation)."""

    seq: int
    recorded_at: str = Timestamp("when the entry was recorded")
    recorded_by: Actor
    data: dict[str, Any]
