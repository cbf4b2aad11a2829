"""The UCI Adult (Census Income) data set, carried in the repository and checksum-verified on load.

The demo, the tests and a CI gate must work on a machine that has only this repository, and an
audit ledger must be able to say exactly which bytes a model was trained on. So the raw UCI files
ship inside the package (`govledger/demo/data/adult/`, byte-identical to the UCI download, CC BY 4.0,
attribution in the README there), every load re-hashes the file against the packaged
`SHA256SUMS`, and nothing is ever downloaded.

Missing values: the raw files write "?" for an unknown workclass, occupation or native country.
`load_adult` keeps those rows and leaves the cells missing (NaN, so `isna()` is true) rather than
inventing an "Unknown" category: the raw split stays faithful to the source. `prepare_adult_csvs`
drops them (the usual 30,162 train / 15,060 eval rows), because the evaluator refuses NaNs and a
model-ready file should not carry an encoding decision the reader has to know about.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import pandas as pd

__all__ = [
    "ADULT_DIR",
    "COLUMNS",
    "NUMERIC_COLUMNS",
    "RAW_FILES",
    "AdultDataError",
    "PreparedAdult",
    "PreparedFile",
    "file_sha256",
    "load_adult",
    "prepare_adult_csvs",
]

# Next to this module, so it resolves the same way from a source checkout and an installed wheel
# (hatchling packages every file under `govledger/`, data included).
ADULT_DIR: Final[Path] = Path(__file__).resolve().parent / "data" / "adult"
_SUMS_FILE: Final[str] = "SHA256SUMS"

RAW_FILES: Final[dict[str, str]] = {"train": "adult.data", "test": "adult.test"}

COLUMNS: Final[tuple[str, ...]] = (
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
    "income",
)
NUMERIC_COLUMNS: Final[tuple[str, ...]] = (
    "age",
    "fnlwgt",
    "education_num",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
)
_LABELS: Final[dict[str, int]] = {"<=50K": 0, ">50K": 1}
_CSV_FLOAT_FORMAT: Final[str] = "%.10g"


class AdultDataError(ValueError):
    """The packaged Adult files are missing, altered or unparseable: refusing beats training on
    bytes the ledger would then misattribute to the UCI data set."""


@dataclass(frozen=True)
class PreparedFile:
    """One model-ready CSV: what a CI job passes to the gate and registers in the ledger."""

    path: Path
    sha256: str
    rows: int


@dataclass(frozen=True)
class PreparedAdult:
    """The train and eval CSVs derived from the raw UCI files, and the raw files' hashes (the
    lineage: these datasets were derived from exactly those bytes)."""

    train: PreparedFile
    eval: PreparedFile
    sources: dict[str, str]  # raw file name -> sha256 hex


def file_sha256(path: Path) -> str:
    """SHA-256 hex of a file, streamed so large files do not sit in memory twice."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _expected_sums() -> dict[str, str]:
    """The packaged SHA256SUMS (`<hex>  <name>` lines). Always the package's own copy, even when
    loading from another directory: the expected hashes must not travel with the data they vouch for."""
    sums: dict[str, str] = {}
    for line in (ADULT_DIR / _SUMS_FILE).read_text(encoding="ascii").splitlines():
        if not line.strip():
            continue
        digest, _, name = line.partition("  ")
        sums[name.strip().lstrip("*")] = digest.strip().lower()
    return sums


def _verified_path(name: str, directory: Path) -> Path:
    path = directory / name
    expected = _expected_sums().get(name)
    if expected is None:
        raise AdultDataError(f"{ADULT_DIR / _SUMS_FILE} has no checksum for {name}")
    try:
        actual = file_sha256(path)
    except OSError as exc:
        raise AdultDataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if actual != expected:
        raise AdultDataError(
            f"{path} does not match its recorded checksum: expected sha256 {expected}, got {actual}; "
            "the file was altered or replaced, refusing to use it"
        )
    return path


def load_adult(split: Literal["train", "test"], directory: Path | None = None) -> pd.DataFrame:
    """The raw split as a DataFrame with `COLUMNS`, after verifying the file's SHA-256.

    `income` is int 0/1 (1 = ">50K"; the test file's labels end in "." and its first line is a
    comment, both handled). String cells are stripped; "?" becomes a missing value (see module
    docstring). `directory` defaults to the packaged copy; the checksums never come from it.
    """
    if split not in RAW_FILES:
        raise AdultDataError(f"unknown split {split!r}; expected one of {sorted(RAW_FILES)}")
    path = _verified_path(RAW_FILES[split], ADULT_DIR if directory is None else directory)
    frame = pd.read_csv(
        path,
        names=list(COLUMNS),
        skiprows=1 if split == "test" else 0,  # "|1x3 Cross validator"
        skipinitialspace=True,
        na_values=["?"],
        keep_default_na=False,  # only "?" means missing, never a literal "NA"
        dtype={c: "int64" for c in NUMERIC_COLUMNS},
    )
    for column in COLUMNS:
        if column not in NUMERIC_COLUMNS:
            frame[column] = frame[column].str.strip()
    labels = frame["income"].str.rstrip(".").map(_LABELS)
    if labels.isna().any():
        bad = sorted(set(frame.loc[labels.isna(), "income"].astype(str)))
        raise AdultDataError(f"{path}: unexpected income labels {bad[:5]}")
    frame["income"] = labels.astype("int64")
    return frame


def _write_csv(frame: pd.DataFrame, path: Path) -> PreparedFile:
    """Deterministic bytes: fixed column order, no index, fixed float format, LF line endings."""
    frame.to_csv(
        path,
        columns=list(COLUMNS),
        index=False,
        float_format=_CSV_FLOAT_FORMAT,
        lineterminator="\n",
        encoding="utf-8",
    )
    return PreparedFile(path=path, sha256=file_sha256(path), rows=len(frame))


def prepare_adult_csvs(out_dir: Path) -> PreparedAdult:
    """Write `train.csv` (from adult.data) and `eval.csv` (from adult.test) into `out_dir`, rows
    with any missing value dropped, original row order kept. Same input bytes, same output bytes,
    so the hashes registered in the ledger are reproducible on any machine."""
    out_dir.mkdir(parents=True, exist_ok=True)
    train = load_adult("train").dropna().reset_index(drop=True)
    test = load_adult("test").dropna().reset_index(drop=True)
    sums = _expected_sums()
    return PreparedAdult(
        train=_write_csv(train, out_dir / "train.csv"),
        eval=_write_csv(test, out_dir / "eval.csv"),
        sources={name: sums[name] for name in RAW_FILES.values()},
    )
