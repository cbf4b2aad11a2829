"""Times are written in ASCII digits only, and NDJSON lines end at '\\n' only, on every path.

An attack on the service found `１２３４-01-01T00:00:00Z` (full-width digits) accepted as the year
1234: `\\d` in Python's `re` and in pydantic's Rust regex matches any Unicode decimal digit. And
`govledger append` split NDJSON with `str.splitlines`, which also splits at U+2028, U+0085 and
other characters that may stand unescaped inside a JSON string, refusing a valid line.
"""

from __future__ import annotations

import re

import pytest
from pydantic import TypeAdapter, ValidationError

from ledger.cli.log_commands import _read_ndjson
from ledger.lineage.schemas import UtcTime
from ledger.log.entry import UTC_PATTERN

FULL_WIDTH = "１２３４-01-01T00:00:00Z"
ARABIC_INDIC = "٢٠٢٦-01-01T00:00:00Z"


@pytest.mark.parametrize("value", [FULL_WIDTH, ARABIC_INDIC, "2026-01-0１T00:00:00Z"])
def test_a_time_with_non_ascii_digits_is_refused(value: str) -> None:
    assert re.match(UTC_PATTERN, value) is None
    with pytest.raises(ValidationError):
        TypeAdapter(UtcTime).validate_python(value)


def test_an_ascii_time_is_accepted() -> None:
    assert re.match(UTC_PATTERN, "2026-01-01T00:00:00.123456Z")
    assert TypeAdapter(UtcTime).validate_python("2026-01-01T00:00:00Z") == "2026-01-01T00:00:00Z"


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085"])  # JSON allows them unescaped
def test_ndjson_lines_end_at_newline_only(separator: str) -> None:
    line = '{"kind": "note", "data": {"text": "a' + separator + 'b"}}'
    raw = (line + "\n" + line + "\r\n").encode("utf-8")
    items = _read_ndjson(raw)
    assert [item["data"]["text"] for item in items] == ["a" + separator + "b"] * 2
