"""`dataset_fingerprint`: the `content_sha256` of a dataset version, for a file or a table.

Why: a `dataset.registered` entry pins a dataset by a content hash. For a file that is simply the
SHA-256 of its bytes. For a table in memory (a pandas DataFrame, or anything shaped like one)
there are no bytes to hash, and serialising it (to CSV, Parquet, pickle) gives bytes that change
with library versions and options. So tables get a canonical encoding of their own, defined
below, that depends only on the data: the same table gives the same hash in any process, on any
machine, with any pandas version. pandas is never imported (the ledger package must not depend
on it): a table is recognised by duck typing.

Files (``str`` or ``os.PathLike``): SHA-256 of the bytes exactly as stored, read in chunks.
Equal to ``hashlib.sha256(Path(p).read_bytes()).hexdigest()``. `order_independent` is refused
(bytes have no rows).

Tables (an object with ``.columns``, ``.dtypes`` and ``.itertuples(index=False)`` or
``.to_dict("split")``); the index is not part of the data (``reset_index()`` first if it is)::

    fingerprint = SHA-256( b"govledger.dataset-fingerprint/1\\n"
                           + (b"ordered" | b"unordered") + b"\\n"
                           + u64(number of columns)
                           + for each column, in order: enc(name) + enc(canonical dtype)
                           + the row digests: in row order, or sorted (order_independent)
                           + u64(number of rows) )
    row digest  = SHA-256( enc(value) for each column, in column order )
    enc(v)      = tag (1 ASCII byte) + u64(len(payload)) + payload      (u64: 8 bytes, big-endian)

Values (tag, payload), after unwrapping numpy scalars with ``.item()``:

- missing: ``None``, float NaN, ``pandas.NA``, ``pandas.NaT``, numpy NaT, Decimal NaN -> ``N``,
  empty. (All "missing" markers are one value: they differ by library, not by meaning.)
- booleans -> ``b``, ``1`` or ``0`` (checked before integers; never equal to 1 or 0);
- integers (any width) -> ``i``, the decimal digits, e.g. ``-42``;
- floats -> ``f``, ``float.hex(x)``: exact and platform-independent (``0x1.8000000000000p+0``);
  ``-0.0`` is written as ``0.0``; infinities as ``inf`` / ``-inf``. An integer-valued float is
  still a float: 1.0 and 1 differ;
- ``decimal.Decimal`` -> ``d``, ``str(x)`` (so ``1.10`` and ``1.1`` differ: scale is data);
- strings -> ``s``, UTF-8 (no Unicode normalisation: different code points are different data);
- bytes -> ``y``, as they are;
- datetimes (``datetime.datetime``, ``pandas.Timestamp``) -> ``t``,
  ``YYYY-MM-DDTHH:MM:SS.fffffffff`` with exactly 9 fraction digits (nanoseconds); a time-zone
  aware value is converted to UTC and ends in ``Z``, a naive one has no suffix;
- dates -> ``D``, ``YYYY-MM-DD``; times of day -> ``T``, ``time.isoformat("microseconds")``;
- durations (``datetime.timedelta``, ``pandas.Timedelta``) -> ``m``, whole nanoseconds in decimal;
- numpy ``datetime64`` / ``timedelta64`` held as objects -> ``M`` / ``K``, numpy's ``str(x)``;
- anything else (lists, dicts, Interval, Period, complex, arbitrary objects) -> TypeError naming
  the column and row: a value without a canonical form would make the hash unreproducible.

Column names use the same encoding (so column ``0`` and column ``"0"`` differ). Dtypes are
canonicalised to logical types, so that the pandas version, the storage backend (numpy, nullable
extension arrays, pyarrow) and the datetime resolution do not change the hash, while a real schema
change does: ``bool``; ``int8``..``int64`` / ``uint8``..``uint64`` (nullable ``Int64`` is
``int64``); ``float16``..``float64``; ``object`` for object and every string dtype (``str``,
``string[python]``, ``string[pyarrow]``); ``datetime`` or ``datetime[<tz>]`` whatever the unit;
``timedelta``; ``category``; any other dtype as ``str(dtype)``.

With ``order_independent=True`` the row digests are sorted before they are hashed, so any
permutation of the rows gives the same fingerprint (duplicate rows still count: it is a
multiset). This keeps 32 bytes per row in memory; the ordered hash streams in constant memory.
Column order always matters.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import struct
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

__all__ = ["FINGERPRINT_VERSION", "dataset_fingerprint", "encode_value"]

FINGERPRINT_VERSION = 1
_MAGIC = b"govledger.dataset-fingerprint/1\n"
_U64 = struct.Struct(">Q")
_CHUNK = 1024 * 1024


def dataset_fingerprint(source: object, *, order_independent: bool = False) -> str:
    """Hex SHA-256 of a dataset: a file's bytes, or a DataFrame-like table's canonical encoding
    (see the module docstring). Raises TypeError for anything else."""
    if isinstance(source, str | os.PathLike):
        if order_independent:
            raise ValueError("order_independent applies to tables; a file is hashed as the bytes it holds")
        return _file_sha256(Path(os.fsdecode(source)))
    if isinstance(source, bytes | bytearray | memoryview):
        raise TypeError("dataset_fingerprint takes a file path or a table; hash raw bytes with hashlib.sha256")
    if _is_table(source):
        return _table_sha256(source, order_independent=order_independent)
    hint = " (a pandas Series? use .to_frame())" if hasattr(source, "dtype") and hasattr(source, "name") else ""
    raise TypeError(
        f"cannot fingerprint a {type(source).__module__}.{type(source).__qualname__}{hint}: pass a file path, "
        "or a table with .columns, .dtypes and .itertuples(index=False) or .to_dict('split')"
    )


def _file_sha256(path: Path) -> str:
    if path.is_dir():
        raise ValueError(f"{path} is a directory: fingerprint each file, or an archive of them")
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# Tables


def _is_table(source: object) -> bool:
    return (
        hasattr(source, "columns")
        and hasattr(source, "dtypes")
        and (callable(getattr(source, "itertuples", None)) or callable(getattr(source, "to_dict", None)))
    )


def _rows(source: Any) -> tuple[list[Any], Iterable[Sequence[Any]]]:
    """(column names, an iterable of rows as sequences) from a DataFrame-like object."""
    columns = list(source.columns)
    itertuples = getattr(source, "itertuples", None)
    if callable(itertuples):
        try:
            return columns, itertuples(index=False, name=None)  # plain tuples (pandas)
        except TypeError:
            return columns, itertuples(index=False)
    try:
        split = source.to_dict("split")
    except TypeError as exc:
        raise TypeError(f"{type(source).__qualname__}.to_dict('split') is not supported: {exc}") from None
    if not isinstance(split, dict) or "data" not in split:
        raise TypeError(f"{type(source).__qualname__}.to_dict('split') did not return {{'columns', 'data'}}")
    if "columns" in split and list(split["columns"]) != columns:
        raise ValueError("to_dict('split') columns differ from .columns")
    return columns, split["data"]


_INT_DTYPE = re.compile(r"^(u?)int(8|16|32|64)$", re.IGNORECASE)
_FLOAT_DTYPE = re.compile(r"^float(16|32|64)$", re.IGNORECASE)
_DATETIME_DTYPE = re.compile(r"^datetime64\[\w+(?:,\s*(?P<tz>[^\]]+))?\]$")
_TIMESTAMP_ARROW = re.compile(r"^timestamp\[\w+(?:,\s*tz=(?P<tz>[^\]]+))?\]$")


def canonical_dtype(dtype: object) -> str:
    """The logical type a dtype stands for (see the module docstring)."""
    name = str(dtype).strip()
    base = name.removesuffix("[pyarrow]")
    lower = base.lower()
    if lower in ("bool", "boolean", "bool_"):
        return "bool"
    if match := _INT_DTYPE.match(base):
        return f"{match.group(1).lower()}int{match.group(2)}"
    if match := _FLOAT_DTYPE.match(base):
        return f"float{match.group(1)}"
    if lower in ("double",):
        return "float64"
    if lower in ("object", "str", "string", "large_string") or lower.startswith("string["):
        return "object"
    if match := _DATETIME_DTYPE.match(base) or _TIMESTAMP_ARROW.match(base):
        tz = match.group("tz")
        return f"datetime[{tz.strip()}]" if tz else "datetime"
    if lower.startswith(("timedelta64[", "duration[")):
        return "timedelta"
    if lower == "category":
        return "category"
    return name


def _table_sha256(source: Any, *, order_independent: bool) -> str:
    columns, rows = _rows(source)
    dtypes = list(source.dtypes)
    if len(dtypes) != len(columns):
        raise ValueError(f"{len(columns)} columns but {len(dtypes)} dtypes")
    outer = hashlib.sha256(_MAGIC)
    outer.update(b"unordered\n" if order_independent else b"ordered\n")
    outer.update(_U64.pack(len(columns)))
    for position, (name, dtype) in enumerate(zip(columns, dtypes, strict=True)):
        try:
            outer.update(encode_value(name))
        except TypeError as exc:
            raise TypeError(f"column {position}: its name cannot be fingerprinted ({exc})") from None
        outer.update(_frame(b"s", canonical_dtype(dtype).encode("utf-8")))

    width = len(columns)
    collected: list[bytes] = []
    count = 0
    for row in rows:
        values = tuple(row)
        if len(values) != width:
            raise ValueError(f"row {count} has {len(values)} values for {width} columns")
        digest = hashlib.sha256()
        for column, value in enumerate(values):
            try:
                digest.update(encode_value(value))
            except TypeError as exc:
                raise TypeError(f"column {columns[column]!r}, row {count}: {exc}") from None
        if order_independent:
            collected.append(digest.digest())
        else:
            outer.update(digest.digest())
        count += 1
    if order_independent:
        collected.sort()
        outer.update(b"".join(collected))
    outer.update(_U64.pack(count))
    return outer.hexdigest()


# --------------------------------------------------------------------------------------------
# Values


def _frame(tag: bytes, payload: bytes) -> bytes:
    return tag + _U64.pack(len(payload)) + payload


_MISSING = _frame(b"N", b"")
_TRUE = _frame(b"b", b"1")
_FALSE = _frame(b"b", b"0")
_MISSING_TYPES = frozenset({"NAType", "NaTType"})  # pandas.NA, pandas.NaT (without importing pandas)


def _float(value: float) -> bytes:
    if math.isnan(value):
        return _MISSING
    if value == 0.0:
        value = 0.0  # -0.0 and 0.0 are one value
    return _frame(b"f", float.hex(value).encode("ascii"))


def _datetime(value: datetime) -> bytes:
    nanos = value.microsecond * 1000 + int(getattr(value, "nanosecond", 0) or 0)
    suffix = ""
    if value.tzinfo is not None and value.utcoffset() is not None:
        value = value.astimezone(UTC)
        suffix = "Z"
    text = (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T"
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{nanos:09d}{suffix}"
    )
    return _frame(b"t", text.encode("ascii"))


def _timedelta(value: timedelta) -> bytes:
    micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    nanos = micros * 1000 + int(getattr(value, "nanoseconds", 0) or 0)
    return _frame(b"m", str(nanos).encode("ascii"))


def _numpy_scalar(value: Any) -> bytes:
    kind = type(value).__name__
    if kind.startswith(("datetime64", "timedelta64")):
        text = str(value)
        if text == "NaT":
            return _MISSING
        return _frame(b"M" if kind.startswith("datetime64") else b"K", text.encode("ascii"))
    item = value.item()
    if type(item).__module__ == "numpy":  # e.g. longdouble: no exact Python equivalent
        raise TypeError(f"numpy {kind} values have no canonical form")
    return encode_value(item)


def _missing(_value: object) -> bytes:
    return _MISSING


def _resolve(kind: type) -> Callable[[Any], bytes]:
    """The encoder for values of one type (a value's encoding depends on its type and value only)."""
    if kind.__name__ in _MISSING_TYPES or kind is type(None):
        return _missing
    if kind.__module__ == "numpy" and hasattr(kind, "item"):
        return _numpy_scalar
    if issubclass(kind, bool):
        return lambda v: _TRUE if v else _FALSE
    if issubclass(kind, int):
        return lambda v: _frame(b"i", str(int(v)).encode("ascii"))
    if issubclass(kind, float):
        return lambda v: _float(float(v))
    if issubclass(kind, str):
        return lambda v: _frame(b"s", str(v).encode("utf-8"))
    if issubclass(kind, bytes | bytearray | memoryview):
        return lambda v: _frame(b"y", bytes(v))
    if issubclass(kind, Decimal):
        return lambda v: _MISSING if v.is_nan() else _frame(b"d", str(v).encode("ascii"))
    if issubclass(kind, datetime):
        return _datetime
    if issubclass(kind, date):
        return lambda v: _frame(b"D", f"{v.year:04d}-{v.month:02d}-{v.day:02d}".encode("ascii"))
    if issubclass(kind, time):
        return lambda v: _frame(b"T", v.isoformat("microseconds").encode("ascii"))
    if issubclass(kind, timedelta):
        return _timedelta
    raise TypeError(f"values of type {kind.__module__}.{kind.__qualname__} have no canonical form")


_ENCODERS: dict[type, Callable[[Any], bytes]] = {}


def encode_value(value: object) -> bytes:
    """The canonical, self-delimiting encoding of one cell (see the module docstring)."""
    kind = type(value)
    encoder = _ENCODERS.get(kind)
    if encoder is None:
        encoder = _resolve(kind)
        if len(_ENCODERS) < 1000:
            _ENCODERS[kind] = encoder
    return encoder(value)
