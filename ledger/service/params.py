"""Query parameters shared by the list endpoints: the cursor page and the time range.

Times are UTC as `YYYY-MM-DDTHH:MM:SS(.ffffff)Z`. They are checked against the calendar (422
for 2026-02-30) and normalised to the log's fixed-width form (six fraction digits), because
entry times are compared as strings: "10:00:00Z" sorts after "10:00:00.5Z" as text, but means
the instant before it. `since` is inclusive, `until` exclusive; `since` after `until` is 422.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query

from ledger.errors import InvalidInputError
from ledger.lineage.queries import MAX_PAGE
from ledger.log.entry import format_ts
from ledger.service.deps import MAX_SEQ

__all__ = ["UTC_PATTERN", "After", "Limit", "TimeRange", "UtcQuery", "normalise_utc", "time_range"]

UTC_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$"
UtcQuery = Annotated[str | None, Query(pattern=UTC_PATTERN)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="items per page (1 to 1000)")]
After = Annotated[
    int | None,
    Query(ge=0, le=MAX_SEQ, description="cursor: the next_after of the previous page (items with a larger seq)"),
]


def normalise_utc(value: str, field: str) -> str:
    """`value` (already matching UTC_PATTERN) in the log's form, or 422 naming `field`."""
    try:
        moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ" if "." in value else "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise InvalidInputError(
            f"{field}: {value!r} is not a time of the calendar",
            [{"loc": ["query", field], "msg": "not a valid UTC time", "type": "datetime_parsing"}],
        ) from None
    return format_ts(moment.replace(tzinfo=UTC))


@dataclass(frozen=True)
class TimeRange:
    """When the entries were recorded: `since` <= ts < `until` (either may be open)."""

    since: str | None = None
    until: str | None = None


async def time_range(
    since: Annotated[
        str | None,
        Query(pattern=UTC_PATTERN, description="recorded at or after this UTC time (YYYY-MM-DDTHH:MM:SS[.ffffff]Z)"),
    ] = None,
    until: Annotated[
        str | None,
        Query(pattern=UTC_PATTERN, description="recorded before this UTC time (exclusive)"),
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
