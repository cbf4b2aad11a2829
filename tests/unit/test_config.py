"""Settings from the environment: the defaults need nothing set, and every variable is honoured or refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from govledger.cli import main
from ledger.api import Ledger, local_actor
from ledger.config import Settings
from ledger.errors import InvalidInputError
from ledger.log.entry import DEFAULT_MAX_ENTRY_BYTES
from ledger.log.signing_keys import key_path

VARIABLES = (
    "GOVLEDGER_DATABASE_URL",
    "GOVLEDGER_HOME",
    "GOVLEDGER_SIGNING_KEY",
    "GOVLEDGER_CHECKPOINT_INTERVAL",
    "GOVLEDGER_CHECKPOINT_EVERY",
    "GOVLEDGER_MAX_ENTRY_BYTES",
)


@pytest.fixture
def bare_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory and an environment with no GOVLEDGER_* variable set."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    return workdir


def test_defaults_are_a_sqlite_file_and_a_home_directory_in_the_working_directory(bare_cwd: Path) -> None:
    settings = Settings.from_env()
    assert settings.database_url == f"sqlite:///{bare_cwd / 'govledger.db'}"
    assert settings.home == bare_cwd / ".govledger"
    assert settings.max_entry_bytes == DEFAULT_MAX_ENTRY_BYTES
    assert settings.checkpoint_policy.every_entries == 100_000
    assert settings.checkpoint_policy.max_delay_s == 0.5
    assert not settings.checkpoint_policy.after_batch


def test_explicit_env_and_cwd_give_the_same_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env({}, cwd=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'govledger.db'}"
    assert settings.home == tmp_path / ".govledger"


def test_empty_variables_mean_the_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env({name: "" for name in VARIABLES}, cwd=tmp_path)
    assert settings == Settings.from_env({}, cwd=tmp_path)


def test_cli_init_with_nothing_set_creates_the_database_and_key_in_the_working_directory(
    bare_cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["init", "--origin", "defaults.example/log"])
    assert exited.value.code == 0, capsys.readouterr().err
    assert (bare_cwd / "govledger.db").is_file()
    assert key_path(bare_cwd / ".govledger", "defaults.example/log").is_file()
    created = {p.name for p in bare_cwd.iterdir() if not p.name.startswith("govledger.db-")}  # not WAL/SHM
    assert created == {".govledger", "govledger.db"}


def test_database_url_and_home_variables_are_honoured(
    tmp_path: Path, bare_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql://postgres@127.0.0.1:5432/test"
    monkeypatch.setenv("GOVLEDGER_DATABASE_URL", url)
    monkeypatch.setenv("GOVLEDGER_HOME", str(tmp_path / "elsewhere"))
    settings = Settings.from_env()  # read when asked, not at import time
    assert settings.database_url == url
    assert settings.home == tmp_path / "elsewhere"


def test_cli_options_override_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVLEDGER_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("GOVLEDGER_HOME", str(tmp_path / "env-home"))
    settings = Settings.from_env().with_overrides(database_url=f"sqlite:///{tmp_path / 'cli.db'}", home=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'cli.db'}"
    assert settings.home == tmp_path


def test_checkpoint_cadence_and_entry_limit_variables_are_honoured(tmp_path: Path) -> None:
    env = {
        "GOVLEDGER_CHECKPOINT_EVERY": "250",
        "GOVLEDGER_CHECKPOINT_INTERVAL": "2.5",
        "GOVLEDGER_MAX_ENTRY_BYTES": "4096",
    }
    settings = Settings.from_env(env, cwd=tmp_path)
    assert settings.checkpoint_policy.every_entries == 250
    assert settings.checkpoint_policy.max_delay_s == 2.5
    assert settings.max_entry_bytes == 4096


def test_checkpoint_every_from_the_environment_decides_when_the_ledger_signs(
    bare_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVLEDGER_CHECKPOINT_EVERY", "3")
    monkeypatch.setenv("GOVLEDGER_CHECKPOINT_INTERVAL", "3600")  # the timer never fires during the test
    actor = local_actor()
    with Ledger.open() as ledger:  # the default database and home, in the working directory
        ledger.init(origin="cadence.example/log")
        covered = []
        for number in range(1, 7):
            ledger.append("note.recorded", {"text": f"n{number}"}, actor=actor)
            latest = ledger.latest_checkpoint()
            assert latest is not None
            covered.append(latest.size)
    assert covered == [1, 1, 4, 4, 4, 7]  # entry 0 is covered at init; then a checkpoint every 3 entries
    assert (bare_cwd / "govledger.db").is_file()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("GOVLEDGER_CHECKPOINT_INTERVAL", "soon", "$GOVLEDGER_CHECKPOINT_INTERVAL must be a number, got 'soon'"),
        ("GOVLEDGER_CHECKPOINT_INTERVAL", "0", "$GOVLEDGER_CHECKPOINT_INTERVAL must be positive, got '0'"),
        ("GOVLEDGER_CHECKPOINT_INTERVAL", "-1", "$GOVLEDGER_CHECKPOINT_INTERVAL must be positive, got '-1'"),
        ("GOVLEDGER_CHECKPOINT_EVERY", "1.5", "$GOVLEDGER_CHECKPOINT_EVERY must be a number, got '1.5'"),
        ("GOVLEDGER_CHECKPOINT_EVERY", "0", "$GOVLEDGER_CHECKPOINT_EVERY must be positive, got '0'"),
        ("GOVLEDGER_MAX_ENTRY_BYTES", "lots", "$GOVLEDGER_MAX_ENTRY_BYTES must be a number, got 'lots'"),
    ],
)
def test_bad_variable_value_is_refused_naming_the_variable_and_value(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        Settings.from_env({name: value}, cwd=tmp_path)
    assert str(refused.value) == message


def test_cli_reports_a_bad_variable_value_as_one_line_usage_error(
    bare_cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GOVLEDGER_CHECKPOINT_INTERVAL", "soon")
    with pytest.raises(SystemExit) as exited:
        main(["init"])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err == "govledger: error: $GOVLEDGER_CHECKPOINT_INTERVAL must be a number, got 'soon'\n"
    assert list(bare_cwd.iterdir()) == []  # nothing was created
