"""The canonical-JSON fast path must produce exactly what the rfc8785 reference produces."""

from __future__ import annotations

import math

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.log.canonical import MAX_SAFE_INTEGER, CanonicalError, canonical_json

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=("Cs",)))
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(st.characters(exclude_categories=("Cs",)), max_size=6), children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=1500, deadline=None)
@given(json_values)
def test_fast_path_equals_reference_rfc8785(value: object) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


def test_keys_sort_by_utf16_code_units_not_code_points() -> None:
    value = {"\U0001f600": 1, "\ufb01": 2, "a": 3}
    assert canonical_json(value) == rfc8785.dumps(value)
    assert canonical_json(value).index("\U0001f600".encode()) < canonical_json(value).index("\ufb01".encode())


def test_floats_use_ecmascript_number_form() -> None:
    assert canonical_json({"x": 1.0, "y": 1e21, "z": 0.1}) == b'{"x":1,"y":1e+21,"z":0.1}'


@pytest.mark.parametrize("bad", [math.nan, math.inf, 2**53, -(2**53), {"k": object()}, {1: "non-string key"}, "\ud800"])
def test_unrepresentable_values_are_refused(bad: object) -> None:
    with pytest.raises(CanonicalError):
        canonical_json(bad)


@settings(max_examples=5000, deadline=None)
@given(
    st.floats(min_value=-1e17, max_value=1e17, allow_nan=False, allow_infinity=False)
    | st.floats(min_value=-1e-3, max_value=1e-3)
    | st.integers(-(10**6), 10**6).map(lambda i: i / 1000)
)
def test_fast_path_floats_equal_ecmascript_number_form(value: float) -> None:
    assert canonical_json({"x": value, "y": [value, -value]}) == rfc8785.dumps({"x": value, "y": [value, -value]})


def test_nesting_deeper_than_orjson_allows_still_equals_the_reference() -> None:
    deep: object = "leaf"
    for depth in range(300):
        deep = [deep] if depth % 2 else {"k": deep}
    assert canonical_json(deep) == rfc8785.dumps(deep)


@pytest.mark.parametrize("text", ["\u0000\u001f\u007f", "\u2028\u2029", '"\\/', "\b\f\n\r\t", "é€😀"])
def test_string_escapes_equal_the_reference(text: str) -> None:
    assert canonical_json({"s": text, text: 1}) == rfc8785.dumps({"s": text, text: 1})
