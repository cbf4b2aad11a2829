"""The packaged UCI Adult copy: checksums, parsing, tamper refusal, deterministic derived CSVs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import govledger.demo
from govledger.demo.adult import (
    ADULT_DIR,
    COLUMNS,
    AdultDataError,
    file_sha256,
    load_adult,
    prepare_adult_csvs,
)

# The UCI download's hashes, pinned here too: editing both a data file and SHA256SUMS must still fail a test.
UCI_SHA256 = {
    "adult.data": "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
    "adult.test": "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
    "adult.names": "c248284c0b5de30c9e1958d6cdd168a34a654758b620e68f46aefa83fc0a576a",
}


def _copy_raw(to: Path) -> Path:
    to.mkdir()
    for name in ("adult.data", "adult.test", "SHA256SUMS"):
        shutil.copyfile(ADULT_DIR / name, to / name)
    return to


def _flip_one_byte(path: Path, offset: int = 1000) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_data_lives_inside_the_package() -> None:
    assert Path(govledger.demo.__file__).resolve().parent / "data" / "adult" == ADULT_DIR


def test_packaged_files_match_the_uci_download() -> None:
    recorded = {}
    for line in (ADULT_DIR / "SHA256SUMS").read_text(encoding="ascii").splitlines():
        digest, name = line.split("  ")
        recorded[name] = digest
    assert recorded == UCI_SHA256
    for name, digest in UCI_SHA256.items():
        assert file_sha256(ADULT_DIR / name) == digest


def test_readme_keeps_the_attribution_and_licence() -> None:
    readme = (ADULT_DIR / "README.md").read_text(encoding="utf-8")
    for needle in ("Becker", "Kohavi", "1996", "UCI Machine Learning Repository", "CC BY 4.0", "10.24432/C5XW20"):
        assert needle in readme


def test_train_split_parses_to_the_known_shape() -> None:
    train = load_adult("train")
    assert list(train.columns) == list(COLUMNS)
    assert len(train) == 32561
    assert train["income"].dtype == "int64"
    assert int(train["income"].sum()) == 7841
    assert set(train["income"].unique()) == {0, 1}
    assert int(train.isna().any(axis=1).sum()) == 2399  # rows with a "?" somewhere
    assert int(train["workclass"].isna().sum()) == 1836
    assert train.loc[0, "workclass"] == "State-gov"  # stripped of the leading space
    assert set(train["sex"].unique()) == {"Male", "Female"}


def test_test_split_skips_the_comment_line_and_the_label_dots() -> None:
    test = load_adult("test")
    assert len(test) == 16281
    assert int(test["age"].to_numpy()[0]) == 25  # the first data row, not "|1x3 Cross validator"
    assert int(test["income"].sum()) == 3846
    assert int(test.isna().any(axis=1).sum()) == 1221


def test_an_untouched_copy_elsewhere_loads(tmp_path: Path) -> None:
    copy = _copy_raw(tmp_path / "copy")
    assert len(load_adult("train", copy)) == 32561


def test_a_one_byte_change_is_refused_naming_file_and_hashes(tmp_path: Path) -> None:
    copy = _copy_raw(tmp_path / "copy")
    _flip_one_byte(copy / "adult.data")
    altered = file_sha256(copy / "adult.data")
    with pytest.raises(AdultDataError) as info:
        load_adult("train", copy)
    message = str(info.value)
    assert "adult.data" in message
    assert UCI_SHA256["adult.data"] in message
    assert altered in message


def test_checksums_next_to_a_tampered_copy_are_not_believed(tmp_path: Path) -> None:
    copy = _copy_raw(tmp_path / "copy")
    _flip_one_byte(copy / "adult.test")
    (copy / "SHA256SUMS").write_text(f"{file_sha256(copy / 'adult.test')}  adult.test\n", encoding="ascii")
    with pytest.raises(AdultDataError, match=r"adult\.test"):
        load_adult("test", copy)


def test_a_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(AdultDataError, match="cannot read"):
        load_adult("train", tmp_path)


def test_unknown_split_is_refused() -> None:
    with pytest.raises(AdultDataError, match="unknown split"):
        load_adult("validation")  # type: ignore[arg-type]


def test_prepared_csvs_are_complete_and_deterministic(tmp_path: Path) -> None:
    first = prepare_adult_csvs(tmp_path / "a")
    second = prepare_adult_csvs(tmp_path / "b")
    assert (first.train.rows, first.eval.rows) == (30162, 15060)
    assert first.train.path == tmp_path / "a" / "train.csv"
    assert first.eval.path == tmp_path / "a" / "eval.csv"
    for one, two in ((first.train, second.train), (first.eval, second.eval)):
        raw = one.path.read_bytes()
        assert raw == two.path.read_bytes()
        assert one.sha256 == two.sha256 == file_sha256(one.path)
        assert b"\r" not in raw
        assert raw.splitlines()[0].decode() == ",".join(COLUMNS)
    assert first.sources == {"adult.data": UCI_SHA256["adult.data"], "adult.test": UCI_SHA256["adult.test"]}


def test_prepared_csv_reads_back_as_the_cleaned_split(tmp_path: Path) -> None:
    prepared = prepare_adult_csvs(tmp_path)
    back = pd.read_csv(prepared.eval.path)
    expected = load_adult("test").dropna().reset_index(drop=True)
    assert len(back) == prepared.eval.rows
    assert not back.isna().any().any()
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)
