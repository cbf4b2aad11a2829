"""Query parameters shared by the list endpoints: the cursor page and the time range.

Times are UTC as `YYYY-MM-DDTHH:MM:SS(.ffffff)Z`. They are checked against the calendar (422
for 2026-02-30) and normalised to the log's fixed-width form (six fraction digits), because
entry times are compared as strings: "10:00:00Z" sorts after "10:00:00.5Z" as text, but means
the instant before it. `since` is inclusive, `until` exclusive; `since` after `until` is 422.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Path, Query

from ledger.errors import InvalidInputError
from ledger.lineage.queries import MAX_PAGE
from ledger.log.entry import UTC_PATTERN, format_ts, parse_utc
from ledger.service.deps import MAX_SEQ

__all__ = [
    "DATE_TIME",
    "UTC_PATTERN",
    "After",
    "IdPath",
    "Limit",
    "ModelNamePath",
    "TimeRange",
    "UtcQuery",
    "VersionPath",
    "normalise_utc",
    "time_range",
]

DATE_TIME = {"format": "date-time"}  # and UTC_PATTERN: the OpenAPI says both what and how it is written
UtcQuery = Annotated[str | None, Query(pattern=UTC_PATTERN, json_schema_extra=DATE_TIME)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="items per page (1 to 1000)")]
After = Annotated[
    int | None,
    Query(ge=0, le=MAX_SEQ, description="cursor: the next_after of the previous page (items with a larger seq)"),
]


# Path segments that the route writes into an entry (or hands to a checked query), documented with
# the patterns the payload schemas apply (`ledger.lineage.schemas`), so a client knows before
# sending that an id outside them is refused (422).
IdPath = Annotated[
    str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:+-]*$", description="an identifier")
]
ModelNamePath = Annotated[str, Path(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
VersionPath = Annotated[str, Path(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")]


def normalise_utc(value: str, field: str) -> str:
    """`value` (already matching UTC_PATTERN) in the log's form, or 422 naming `field`."""
    try:
        moment = parse_utc(value)
    except ValueError:
        raise InvalidInputError(
            f"{field}: {value!r} is not a time of the calendar",
            [{"loc": ["query", field], "msg": "not a valid UTC time", "type": "datetime_parsing"}],
        ) from None
    return format_ts(moment)


@dataclass(frozen=True)
class TimeRange:
    """When the entries were recorded: `since` <= ts < `until` (either may be open)."""

    since: str | None = None
    until: str | None = None


async def time_range(
    since: Annotated[
        str | None,
        Query(
            pattern=UTC_PATTERN,
            description="recorded at or after this UTC time (YYYY-MM-DDTHH:MM:SS[.ffffff]Z)",
            json_schema_extra=DATE_TIME,
        ),
    ] = None,
    until: Annotated[
        str | None,
        Query(
            pattern=UTC_PATTERN,
            description="recorded before this UTC time (exclusive; not before since)",
            json_schema_extra=DATE_TIME,
        ),
    ] = None,
) -> TimeRange:
    """The `since`/`until` query parameters, checked and normalised (a coroutine: no thread hop)."""
    start = None if since is None else normalise_utc(since, "since")
    end = None if until is None else normalise_utc(until, "until")
    if start is not None and end is not None and start > end:
        raise InvalidInputError(
            "until is before since",
            [{"loc": ["query", "until"], "msg": "must not be before since", "type": "time_range"}],
        )
    return TimeRange(start, end)
