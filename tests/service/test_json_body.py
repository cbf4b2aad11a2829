"""Request bodies: orjson's speed only where it returns exactly what `json` would; a huge
integer is never turned into a float, and every malformed body is a 422 naming where."""

from __future__ import annotations

import json
import math
import random
import struct

import pytest

from ledger.errors import InvalidInputError
from ledger.service.json_body import parse_json, parse_ndjson


@pytest.mark.parametrize(
    "value",
    [
        2**64,
        -(2**63) - 1,
        2**70,
        [1, {"a": 123456789012345678901234567890}],
        {"s": "id 1234567890123456789", "n": 2**64 - 1},
    ],
)
def test_integers_past_64_bits_stay_exact(value: object) -> None:
    parsed = parse_json(json.dumps(value).encode())
    assert parsed == value
    assert json.dumps(parsed) == json.dumps(value), "no integer became a float"


def test_floats_parse_to_the_values_json_gives() -> None:
    rng = random.Random(11)
    numbers = [struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0] for _ in range(20_000)]
    finite = [x for x in numbers if math.isfinite(x)] + [
        0.1,
        -0.0,
        5e-324,
        1.7976931348623157e308,
        2.2250738585072014e-308,
    ]
    body = json.dumps(finite).encode()
    parsed = parse_json(body)
    assert [struct.pack("d", x) for x in parsed] == [struct.pack("d", x) for x in json.loads(body)]


def test_duplicate_keys_keep_the_last_value_as_json_does() -> None:
    assert parse_json(b'{"a": 1, "a": 2}') == json.loads(b'{"a": 1, "a": 2}') == {"a": 2}


@pytest.mark.parametrize(
    "body",
    [b"{", b'{"a": NaN}', b"[1e400]", b'"\\ud800"', b"\xff\xfe", b"[" * 5_000 + b"]" * 5_000, b'{"a":1} x'],
)
def test_malformed_bodies_are_422_with_a_location(body: bytes) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_json(body)
    assert caught.value.errors and caught.value.errors[0]["loc"] == ["body"]


def test_a_huge_integer_that_is_also_malformed_is_still_a_422() -> None:
    with pytest.raises(InvalidInputError, match="line 1"):
        parse_json(b'{"n": 12345678901234567890,}')


def test_ndjson_splits_on_newlines_only() -> None:
    # U+2028 may stand unescaped inside a JSON string; str.splitlines() would cut the line there
    lines = ['{"t": "a\u2028b"}', "", '{"n": 18446744073709551616}', '  {"x": [1, 2]}  ', ""]
    assert parse_ndjson("\r\n".join(lines).encode()) == [{"t": "a\u2028b"}, {"n": 2**64}, {"x": [1, 2]}]


def test_ndjson_errors_name_the_line() -> None:
    with pytest.raises(InvalidInputError, match="line 3"):
        parse_ndjson(b'{"a": 1}\n{"b": 2}\n{"c": }\n')


@pytest.mark.parametrize("body", [b"\xff{}", b'{"a": "\xff"}', b'{"a": 12345678901234567890, "b": "\xff"}'])
def test_a_body_that_is_not_utf8_is_named_so_on_both_parsers(body: bytes) -> None:
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        parse_json(body)


def test_an_integer_of_5001_digits_is_a_422_not_a_server_error() -> None:
    with pytest.raises(InvalidInputError, match="too many digits"):
        parse_json(b'{"n": ' + b"7" * 5001 + b"}")
    with pytest.raises(InvalidInputError, match="line 2"):
        parse_ndjson(b'{"n": 1}\n{"n": ' + b"7" * 5001 + b"}\n")
