"""Report periods as people write them: a plain date where a day is meant, or an exact UTC time.

Why: "the audit covers 2026-11-01 to 2026-11-30" is how a risk officer states a period, and
asking them for `2026-12-01T00:00:00Z` (an exclusive end one day later) invites an off-by-one
day. So `since` and `until` (CLI options and query parameters of the report commands and routes)
take either form:

- a plain date as `since` is the start of that day, UTC (`2026-11-01` → `2026-11-01T00:00:00Z`);
- a plain date as `until` is the end of that day, UTC: the period includes the whole day, and
  since `until` is exclusive it becomes the next day's start (`2026-11-30` → `2026-12-01T00:00:00Z`);
- an RFC 3339 UTC time (`ledger.log.entry.UTC_PATTERN`) passes through unchanged.

Anything else is passed through too, and the builder refuses it with its own message (422/exit 2).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from ledger.errors import InvalidInputError
from ledger.log.entry import UTC_PATTERN

__all__ = ["DAY_OR_UTC_PATTERN", "period_bound"]

_DAY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
DAY_OR_UTC_PATTERN = rf"^{_DAY}$|{UTC_PATTERN}"
_PLAIN_DAY = re.compile(rf"{_DAY}\Z")


def period_bound(value: str, name: str) -> str:
    """`value` as the RFC 3339 time the builders take; `name` is "since" or "until"."""
    if not _PLAIN_DAY.match(value):
        return value
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(
            f"{name} {value!r} is not a real date",
            [{"loc": [name], "msg": "not a real date", "type": "date"}],
        ) from None
    if name == "until":
        if day == date.max:
            raise InvalidInputError(
                f"until {value!r} has no next day", [{"loc": [name], "msg": "out of range", "type": "date"}]
            )
        day += timedelta(days=1)
    return f"{day.isoformat()}T00:00:00Z"
