"""`govledger backup`: a consistent copy of a ledger taken while a writer appends, which
`verify --deep --against` a checkpoint saved before the backup accepts (SQLite through the online
backup API; PostgreSQL through pg_dump and pg_restore into a fresh database)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from govledger.cli import main
from ledger.api import Ledger, local_actor
from ledger.storage.sequencer import CheckpointPolicy
from tests.conftest import PG_URL, require_postgres


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


class Writer:
    """Appends batches of notes to the ledger at `url` until stopped; counts the batches."""

    def __init__(self, url: str, home: Path) -> None:
        self.ledger = Ledger.open(url, home=home, policy=CheckpointPolicy(after_batch=True, max_delay_s=None))
        self.batches = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        while not self.stop.is_set():
            self.ledger.append_many(
                [{"kind": "note.recorded", "data": {"text": f"w{self.batches}-{i}"}} for i in range(200)],
                actor=local_actor(),
            )
            self.batches += 1

    def __enter__(self) -> Writer:
        self.thread.start()
        while self.batches < 2:  # writing for sure before the backup starts
            self.stop.wait(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()
        self.ledger.close()


def _prepare(capsys: pytest.CaptureFixture[str], url: str, home: Path, saved: Path) -> int:
    """A ledger of 20,001 entries and a checkpoint saved from it (as an auditor would); its size."""
    common = ("--database-url", url, "--home", str(home))
    assert run_cli(capsys, *common, "init", "--origin", "backup.example/log")[0] == 0
    with Ledger.open(url, home=home) as ledger:
        for start in range(0, 20_000, 5_000):
            ledger.append_many(
                [{"kind": "note.recorded", "data": {"text": str(start + i)}} for i in range(5_000)], actor=local_actor()
            )
    code, _, err = run_cli(capsys, *common, "checkpoint", "-o", str(saved))
    assert code == 0, err
    return int(saved.read_text().splitlines()[1])


def _copy_size(url: str) -> int:
    with Ledger.open(url, migrate=False) as copy:
        return copy.size


def test_sqlite_backup_while_a_writer_appends_verifies_against_an_earlier_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVLEDGER_SIGNING_KEY", raising=False)
    url, home = f"sqlite:///{tmp_path / 'live.db'}", tmp_path / "home"
    saved, copy = tmp_path / "saved.txt", tmp_path / "copy.db"
    saved_size = _prepare(capsys, url, home, saved)

    with Writer(url, home) as writer:
        before = writer.batches
        code, out, err = run_cli(capsys, "--database-url", url, "--home", str(home), "backup", str(copy))
        during = writer.batches
    assert code == 0, err
    assert "backed up" in out
    final_size = _copy_size(url)
    copy_size = _copy_size(f"sqlite:///{copy}")
    assert saved_size < copy_size <= final_size, (saved_size, copy_size, final_size, before, during)

    code, out, err = run_cli(capsys, "--database-url", f"sqlite:///{copy}", "verify", "--deep", "--against", str(saved))
    assert code == 0, out + err
    code, out, err = run_cli(capsys, "backup", "--check", str(copy), "--against", str(saved))
    assert code == 0 and "the copy verifies" in out, out + err


def test_backup_refuses_bad_input_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVLEDGER_SIGNING_KEY", raising=False)
    url, home = f"sqlite:///{tmp_path / 'live.db'}", tmp_path / "home"
    assert run_cli(capsys, "--database-url", url, "--home", str(home), "init")[0] == 0
    taken = tmp_path / "taken.db"
    taken.write_bytes(b"mine")
    missing = f"sqlite:///{tmp_path / 'absent.db'}"
    for args, message in (
        (("--database-url", url, "backup", str(taken)), "already exists"),
        (("--database-url", missing, "backup", str(tmp_path / "c.db")), "there is no ledger"),
        (("--database-url", url, "backup", str(tmp_path / "no-dir" / "c.db")), "is not a directory"),
        (("backup", "--check", str(tmp_path / "nothing.db")), "neither a database URL nor a SQLite file"),
    ):
        code, _, err = run_cli(capsys, *args)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, (args, err)
    assert taken.read_bytes() == b"mine"
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".db") == ["live.db", "taken.db"]


@pytest.fixture
def pg_databases(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """Two fresh databases (the live ledger's and the restore's), dropped afterwards."""
    require_postgres(request)
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore are not installed")
    names = [f"gl_backup_{uuid.uuid4().hex[:10]}", f"gl_restored_{uuid.uuid4().hex[:10]}"]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f"CREATE DATABASE {name}"))
    base = make_url(PG_URL)
    try:
        yield base.set(database=names[0]).render_as_string(False), base.set(database=names[1]).render_as_string(False)
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.mark.postgres
def test_postgres_backup_while_a_writer_appends_restores_and_verifies(
    pg_databases: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVLEDGER_SIGNING_KEY", raising=False)
    url, restored = pg_databases
    home, saved, dump = tmp_path / "home", tmp_path / "saved.txt", tmp_path / "ledger.pgdump"
    saved_size = _prepare(capsys, url, home, saved)

    with Writer(url, home):
        code, out, err = run_cli(capsys, "--database-url", url, "--home", str(home), "backup", str(dump))
    assert code == 0, err
    assert "pg_dump --format=custom" in out and "govledger backup --check" in out
    printed = out.split("&& ", 1)[1].splitlines()[0]  # the pg_restore line the command printed
    assert printed.startswith("pg_restore ")
    restored_db = make_url(restored).database
    assert restored_db
    done = subprocess.run(  # the printed line, pointed at the test's database
        shlex.split(printed.replace("RESTORED_DB", restored_db)), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr

    copy_size = _copy_size(restored)
    assert saved_size < copy_size <= _copy_size(url)
    code, out, err = run_cli(capsys, "--database-url", restored, "verify", "--deep", "--against", str(saved))
    assert code == 0, out + err
    code, out, err = run_cli(capsys, "backup", "--check", restored, "--against", str(saved))
    assert code == 0 and "the copy verifies" in out, out + err
