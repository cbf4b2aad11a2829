"""`dataset_fingerprint`: files hash as their bytes; tables hash by a canonical encoding that
depends on the data only (not on row order when asked, nor on the process or pandas' storage)."""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ledger.client import dataset_fingerprint
from ledger.client.fingerprint import canonical_dtype


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [39, 50, 38, 53, 28],
            "income": [54321.5, 0.1, float("nan"), -0.0, 1e300],
            "sex": ["F", "M", None, "F", "ünïcode"],
            "approved": [True, False, True, True, False],
            "applied_at": pd.to_datetime(
                ["2026-01-01T10:00:00", "2026-01-02T11:30:00.123456789", None, "2026-01-04", "1999-12-31T23:59:59"],
                format="ISO8601",
            ),
        }
    )


def test_file_fingerprint_is_the_sha256_of_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "adult.csv"
    data = os.urandom(3 * 1024 * 1024 + 17)  # more than one read chunk
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert dataset_fingerprint(path) == expected
    assert dataset_fingerprint(str(path)) == expected
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert dataset_fingerprint(empty) == hashlib.sha256(b"").hexdigest()
    with pytest.raises(ValueError, match="order_independent"):
        dataset_fingerprint(path, order_independent=True)
    with pytest.raises(ValueError, match="directory"):
        dataset_fingerprint(tmp_path)
    with pytest.raises(FileNotFoundError):
        dataset_fingerprint(tmp_path / "missing.csv")


def test_same_data_same_hash_and_row_order_matters_unless_asked() -> None:
    df = frame()
    assert dataset_fingerprint(df) == dataset_fingerprint(frame())
    shuffled = df.iloc[[3, 0, 4, 2, 1]]
    assert dataset_fingerprint(shuffled) != dataset_fingerprint(df)
    assert dataset_fingerprint(shuffled, order_independent=True) == dataset_fingerprint(df, order_independent=True)
    assert dataset_fingerprint(df.reset_index(drop=True)) == dataset_fingerprint(df)  # the index is not data
    assert dataset_fingerprint(df, order_independent=True) != dataset_fingerprint(df)  # the mode is in the hash
    sampled = df.sample(frac=1.0, random_state=7).reset_index(drop=True)
    assert dataset_fingerprint(sampled, order_independent=True) == dataset_fingerprint(df, order_independent=True)


@pytest.mark.parametrize("order_independent", [False, True])
def test_any_change_changes_the_hash(order_independent: bool) -> None:
    base = dataset_fingerprint(frame(), order_independent=order_independent)
    changes: list[pd.DataFrame] = []
    for column, value in [("age", 40), ("income", 54321.50000000001), ("sex", "f"), ("approved", False)]:
        changed = frame()
        changed.loc[0, column] = value
        changes.append(changed)
    renamed = frame().rename(columns={"sex": "gender"})
    narrower = frame().astype({"age": "int32"})
    reordered = frame()[["sex", "age", "income", "approved", "applied_at"]]
    duplicated = pd.concat([frame(), frame().iloc[[0]]])
    fewer = frame().iloc[:4]
    changes += [renamed, narrower, reordered, duplicated, fewer]
    hashes = [dataset_fingerprint(c, order_independent=order_independent) for c in changes]
    assert base not in hashes and len(set(hashes)) == len(hashes)


def test_values_are_normalised_not_their_storage() -> None:
    # missing markers are one value; -0.0 is 0.0; object and string dtypes are one logical type
    a = pd.DataFrame({"x": ["a", None, "c"], "y": [0.0, 1.5, float("nan")]}, dtype=object)
    b = pd.DataFrame({"x": pd.array(["a", pd.NA, "c"], dtype="string"), "y": [-0.0, 1.5, None]}, dtype=None)
    b["y"] = b["y"].astype(object)
    assert dataset_fingerprint(a) == dataset_fingerprint(b)
    # nullable and numpy integers, and datetime resolution, do not matter
    ints = pd.DataFrame({"n": [1, 2, 3]})
    assert dataset_fingerprint(ints) == dataset_fingerprint(ints.astype("Int64"))
    stamps = pd.DataFrame({"t": pd.to_datetime(["2026-01-01T10:00:00.123456", "2026-01-02"], format="ISO8601")})
    assert dataset_fingerprint(stamps.astype("datetime64[ns]")) == dataset_fingerprint(stamps.astype("datetime64[us]"))
    # but the same instant in another time zone is another column type
    utc = stamps["t"].dt.tz_localize("UTC").to_frame()
    paris = utc["t"].dt.tz_convert("Europe/Paris").to_frame()
    assert dataset_fingerprint(utc) != dataset_fingerprint(paris)
    assert canonical_dtype(utc.dtypes.iloc[0]) == "datetime[UTC]"
    # 1 and 1.0 and True are different values
    assert len({dataset_fingerprint(pd.DataFrame({"v": [v]}, dtype=object)) for v in (1, 1.0, True, "1")}) == 4


def test_same_hash_in_another_process() -> None:
    code = (
        "import sys; sys.path.insert(0, '.')\n"
        "from tests.client.test_fingerprint import frame\n"
        "from ledger.client import dataset_fingerprint\n"
        "print(dataset_fingerprint(frame()), dataset_fingerprint(frame(), order_independent=True))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env, cwd=Path(__file__).parents[2]
    )
    assert out.stdout.split() == [dataset_fingerprint(frame()), dataset_fingerprint(frame(), order_independent=True)]


def _enc(tag: bytes, payload: bytes) -> bytes:
    return tag + struct.pack(">Q", len(payload)) + payload


def test_known_answer_follows_the_documented_encoding() -> None:
    """An independent re-implementation of the documented format, for a tiny table."""
    df = pd.DataFrame({"id": [7, -1], "name": ["ä", None], "score": [0.5, float("inf")]})
    header = struct.pack(">Q", 3) + b"".join(
        _enc(b"s", name.encode()) + _enc(b"s", dtype)
        for name, dtype in [("id", b"int64"), ("name", b"object"), ("score", b"float64")]
    )
    rows = [
        hashlib.sha256(_enc(b"i", b"7") + _enc(b"s", "ä".encode()) + _enc(b"f", b"0x1.0000000000000p-1")).digest(),
        hashlib.sha256(_enc(b"i", b"-1") + _enc(b"N", b"") + _enc(b"f", b"inf")).digest(),
    ]
    ordered = hashlib.sha256(
        b"govledger.dataset-fingerprint/1\nordered\n" + header + b"".join(rows) + struct.pack(">Q", 2)
    ).hexdigest()
    unordered = hashlib.sha256(
        b"govledger.dataset-fingerprint/1\nunordered\n" + header + b"".join(sorted(rows)) + struct.pack(">Q", 2)
    ).hexdigest()
    assert dataset_fingerprint(df) == ordered
    assert dataset_fingerprint(df, order_independent=True) == unordered


class SplitOnly:
    """A DataFrame-like object offering only .columns, .dtypes and .to_dict('split')."""

    def __init__(self, columns: list[str], dtypes: list[str], data: list[list[Any]]) -> None:
        self.columns, self.dtypes, self._data = columns, dtypes, data

    def to_dict(self, orient: str) -> dict[str, Any]:
        assert orient == "split"
        return {"index": list(range(len(self._data))), "columns": self.columns, "data": self._data}


def test_duck_typed_tables_and_python_values() -> None:
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    assert dataset_fingerprint(SplitOnly(["a", "b"], ["int64", "object"], [[1, "x"], [2, "y"]])) == (
        dataset_fingerprint(df)
    )
    when = datetime(2026, 1, 1, 12, tzinfo=UTC)
    values = SplitOnly(
        ["when", "amount", "wait", "blob"],
        ["datetime64[ns, UTC]", "object", "timedelta64[ns]", "object"],
        [[when, Decimal("1.10"), timedelta(seconds=1), b"\x00"]],
    )
    with_pandas = pd.DataFrame(
        {
            "when": pd.to_datetime([when]),
            "amount": pd.Series([Decimal("1.10")], dtype=object),
            "wait": pd.to_timedelta(["1s"]),
            "blob": pd.Series([b"\x00"], dtype=object),
        }
    )
    assert dataset_fingerprint(values) == dataset_fingerprint(with_pandas)


def test_unsupported_inputs_are_refused_clearly() -> None:
    with pytest.raises(TypeError, match="hashlib"):
        dataset_fingerprint(b"raw bytes")
    with pytest.raises(TypeError, match="to_frame"):
        dataset_fingerprint(pd.Series([1, 2]))
    with pytest.raises(TypeError, match="file path"):
        dataset_fingerprint({"a": [1, 2]})
    with pytest.raises(TypeError, match=r"column 'tags', row 1"):
        dataset_fingerprint(pd.DataFrame({"tags": [None, ["a", "b"]]}))
    with pytest.raises(TypeError, match="Interval"):
        dataset_fingerprint(pd.DataFrame({"bucket": pd.interval_range(0, 2)}))
    with pytest.raises(ValueError, match="row 0 has 1 values"):
        dataset_fingerprint(SplitOnly(["a", "b"], ["int64", "int64"], [[1]]))
