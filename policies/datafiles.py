"""Evaluation data files: CSV or Parquet, read into one flat table, with the SHA-256 of the file's bytes.

The hash is of the bytes as stored (what the dataset's registration names), so the same rows as
CSV and as Parquet are two files with two hashes, but the same rule results. The format is told by
the file's content, not its name: Parquet files begin and end with the magic bytes `PAR1`; anything
else is read as CSV. The gate's metrics work on one value per row and column, so a Parquet column
holding structs, lists or maps is refused, naming it, rather than flattened by guesswork.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Final

import pandas as pd

from policies.results import MetricInputError

__all__ = ["PARQUET_MAGIC", "read_data"]

PARQUET_MAGIC: Final[bytes] = b"PAR1"


def read_data(path: Path) -> tuple[pd.DataFrame, str]:
    """The table in a CSV or Parquet file, and the SHA-256 of its bytes (the hash registered for the dataset)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MetricInputError(f"cannot read data file {path}: {exc.strerror}") from None
    if not raw.strip():
        raise MetricInputError(f"data file {path} is empty")
    frame = _read_parquet(path, raw) if _is_parquet(raw) else _read_csv(path, raw)
    if frame.empty:
        raise MetricInputError(f"data file {path} has a header but no rows")
    return frame, hashlib.sha256(raw).hexdigest()


def _is_parquet(raw: bytes) -> bool:
    return len(raw) >= 8 and raw.startswith(PARQUET_MAGIC) and raw.endswith(PARQUET_MAGIC)


def _read_csv(path: Path, raw: bytes) -> pd.DataFrame:
    try:
        return pd.read_csv(io.BytesIO(raw))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise MetricInputError(f"data file {path} is not a readable CSV: {exc}".replace("\n", " ")) from None


def _read_parquet(path: Path, raw: bytes) -> pd.DataFrame:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise MetricInputError(
            f"data file {path} is Parquet, which needs pyarrow: pip install 'govledger[gate]'"
        ) from None
    try:
        table = pq.read_table(io.BytesIO(raw))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise MetricInputError(f"data file {path} is not a readable Parquet file: {exc}".replace("\n", " ")) from None
    nested = [f"{field.name} ({field.type})" for field in table.schema if pa.types.is_nested(field.type)]
    if nested:
        raise MetricInputError(
            f"data file {path} has nested Parquet columns: {', '.join(nested)}; the gate needs one value per "
            "row and column: flatten them (e.g. one column per struct field) first"
        )
    frame: pd.DataFrame = table.to_pandas()
    return frame
