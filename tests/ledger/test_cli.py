"""The command line as a user and a CI job see it: output, exit codes, and bad input that writes nothing."""

from __future__ import annotations

import io
import json
import os
import re
import stat
import sys
from pathlib import Path

import pytest
from rich.console import Console

from govledger.cli import main
from ledger.api import Ledger
from ledger.cli import verify_commands
from ledger.log import merkle
from ledger.storage.db import create_engine
from tests.ledger import tampering


@pytest.fixture
def cli(db_url: str, home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GOVLEDGER_DATABASE_URL", db_url)
    monkeypatch.setenv("GOVLEDGER_HOME", str(home))

    def run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        with pytest.raises(SystemExit) as exited:
            main(list(args))
        captured = capsys.readouterr()
        return int(exited.value.code or 0), captured.out, captured.err

    code, _, err = run("init", "--origin", "cli.example/log")
    assert code == 0, err
    return run


def size(cli) -> int:  # type: ignore[no-untyped-def]
    code, out, _ = cli("log", "--json", "--limit", "1")
    assert code == 0
    return int(json.loads(out)["size"])


def test_init_creates_private_key_file_and_is_idempotent(cli, home: Path) -> None:  # type: ignore[no-untyped-def]
    from ledger.log.signing_keys import key_path

    key_file = key_path(home, "cli.example/log")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    code, out, _ = cli("init")
    assert code == 0 and "already initialised" in out
    code, _, err = cli("init", "--origin", "other.example/log")
    assert code == 2 and "already initialised" in err


def test_append_one_and_batch_then_show_and_prove(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("append", "--kind", "note.recorded", "--data", '{"text":"hello"}', "--subject", "s", "--json")
    assert code == 0 and json.loads(out)["appended"][0]["seq"] == 1
    lines = b'{"kind":"note.recorded","data":{"text":"a"}}\n\n{"kind":"note.recorded","data":{"text":"b"}}\n'
    code, out, _ = cli("append", "--json", stdin=lines)
    assert code == 0 and [a["seq"] for a in json.loads(out)["appended"]] == [2, 3]
    code, out, _ = cli("show", "2", "--json")
    shown = json.loads(out)
    assert shown["data"] == {"text": "a"} and shown["inclusion_proof"]["size"] == 4
    code, out, _ = cli("proof", "consistency", "2", "4", "--json")
    assert code == 0 and json.loads(out)["new_size"] == 4


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("append", "--kind", "note.recorded", "--data", "{not json"), None, "not valid JSON"),
        (("append", "--kind", "nope.unknown", "--data", '{"text":"x"}'), None, "unknown kind"),
        (("append", "--kind", "note.recorded", "--data", '{"text":5}'), None, "data.text"),
        (("append", "--kind", "note.recorded", "--data", '{"text":"x","extra":1}'), None, "extra"),
        (("append", "--kind", "log.created", "--data", '{"text":"x"}'), None, "written by govledger itself"),
        (("append", "--kind", "note.recorded", "--data", json.dumps({"text": "x" * 10_001})), None, "at most"),
        (("append",), b'{"kind":"note.recorded","data":{"text":"ok"}}\n\xff\xfe\n', "not valid UTF-8"),
        (("append",), b'{"kind":"note.recorded","data":{"text":"ok"}}\n{"kind":\n', "line 2: not valid JSON"),
        (("append",), b'{"kind":"note.recorded","data":{"text":"ok"}}\n[1,2]\n', "line 2"),
        (("append",), b"", "no entries"),
        (("append", "--data", "{}"), None, "need --kind"),
        (("show", "999"), None, "does not exist"),
        (("proof", "inclusion", "0", "--size", "99"), None, "outside the log"),
        (("verify", "--against", "/nonexistent/checkpoint"), None, "cannot read"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(cli, args, stdin, message) -> None:  # type: ignore[no-untyped-def]
    before = size(cli)
    code, _, err = cli(*args, stdin=stdin)
    assert code == 2, err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert size(cli) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--data", os.fsdecode(b'{"text":"caf\xe9"}')), "unicode string"),  # Latin-1, not UTF-8
        (("--data", os.fsdecode(b'{"text":"ok","\xff\xfe":"x"}')), "unicode string"),
        (("--data", '{"text":"ok"}', "--subject", os.fsdecode(b"s\xff")), "not valid Unicode"),
    ],
    ids=["in-a-value", "in-a-key", "in-the-subject"],
)
def test_non_utf8_bytes_in_arguments_exit_2_with_one_line_and_write_nothing(cli, args, message) -> None:  # type: ignore[no-untyped-def]
    """Bytes that are not UTF-8 reach Python as lone surrogates (os.fsdecode, as for sys.argv)."""
    before = size(cli)
    code, out, err = cli("append", "--kind", "note.recorded", *args)
    assert code == 2, err
    assert message in err
    assert len(err.strip().splitlines()) == 1 and out == ""
    assert size(cli) == before


def test_proof_inclusion_at_an_earlier_size_prints_a_path_that_verifies(cli, db_url: str, home: Path) -> None:  # type: ignore[no-untyped-def]
    for number in range(5):
        assert cli("append", "--kind", "note.recorded", "--data", json.dumps({"text": f"t{number}"}))[0] == 0
    code, out, err = cli("proof", "inclusion", "2", "--size", "5")
    assert code == 0, err
    header, leaf_line, *path_lines = out.splitlines()
    root_match = re.fullmatch(r"entry 2 in tree of size 5, root ([0-9a-f]{64})", header)
    leaf_match = re.fullmatch(r"leaf hash ([0-9a-f]{64})", leaf_line)
    assert root_match and leaf_match, out
    path = []
    for position, line in enumerate(path_lines):
        node = re.fullmatch(rf" +{position} ([0-9a-f]{{64}})", line)
        assert node, line
        path.append(bytes.fromhex(node.group(1)))
    root, leaf = bytes.fromhex(root_match.group(1)), bytes.fromhex(leaf_match.group(1))
    assert len(path) == 3  # leaf 2 of 5: its sibling 3, the subtree 0..1, then leaf 4
    merkle.verify_inclusion(leaf, 2, 5, path, root)
    with Ledger.open(db_url, home=home) as ledger:
        assert ledger.size == 6
        assert ledger.root(5) == root and ledger.get(2).leaf_hash == leaf


def test_verify_progress_bar_goes_to_stderr_above_the_threshold_and_json_stays_pure(  # type: ignore[no-untyped-def]
    cli, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = b"".join(b'{"kind":"note.recorded","data":{"text":"n%d"}}\n' % i for i in range(9))
    assert cli("append", stdin=lines)[0] == 0
    bar = io.StringIO()  # stderr as a terminal would receive it (rich draws no bar into a pipe)
    monkeypatch.setattr(verify_commands, "err", Console(file=bar, force_terminal=True, width=100))

    code, out, _ = cli("verify")
    assert code == 0 and bar.getvalue() == ""  # 10 entries: below the threshold, no bar

    monkeypatch.setattr(verify_commands, "PROGRESS_FROM", 5)
    code, out, _ = cli("verify")
    assert code == 0
    assert out.startswith("intact: 10 entries") and "\x1b" not in out  # the bar never reaches stdout
    assert "verifying" in bar.getvalue() and "10/10" in bar.getvalue()

    bar.seek(0)
    bar.truncate()
    code, out, _ = cli("verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True  # all of stdout is one JSON document
    assert out.startswith("{") and "\x1b" not in out and bar.getvalue() == ""

    from ledger.storage.db import create_engine

    engine = create_engine(db_url)
    tampering.drop_append_only_triggers(engine)
    body = tampering.body_of(engine, 4)
    tampering.run(engine, "UPDATE entries SET body = :b WHERE seq = 4", b=body.replace(b'"n3"', b'"n4"'))
    engine.dispose()
    code, out, _ = cli("verify")
    assert code == 1 and "first bad entry 4" in out and "verifying" in bar.getvalue()
    code, out, _ = cli("verify", "--json")
    assert code == 1 and json.loads(out)["first_bad_seq"] == 4


def test_oversized_payload_is_refused(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GOVLEDGER_MAX_ENTRY_BYTES", "2048")
    before = size(cli)
    code, _, err = cli("append", "--kind", "note.recorded", "--data", json.dumps({"text": "y" * 5000}))
    assert code == 2 and "over the limit of 2048" in err
    assert size(cli) == before


def test_unknown_option_is_usage_error(cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli("verify", "--no-such-option")
    assert code == 2 and "No such option" in err


def test_verify_exit_codes_and_json(cli, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("append", "--kind", "note.recorded", "--data", '{"text":"one"}')
    saved = tmp_path / "checkpoint.txt"
    assert cli("checkpoint", "-o", str(saved))[0] == 0
    code, out, _ = cli("verify", "--json", "--against", str(saved))
    assert code == 0 and json.loads(out)["ok"] is True
    from ledger.storage.db import create_engine

    engine = create_engine(db_url)
    tampering.drop_append_only_triggers(engine)
    body = tampering.body_of(engine, 1)
    tampering.run(engine, "UPDATE entries SET body = :b WHERE seq = 1", b=body.replace(b"one", b"two"))
    engine.dispose()
    code, out, _ = cli("verify", "--json")
    report = json.loads(out)
    assert code == 1 and report["first_bad_seq"] == 1 and report["problems"][0]["code"] == "leaf_mismatch"
    code, out, _ = cli("verify")
    assert code == 1 and "TAMPERED" in out and "first bad entry 1" in out


def test_not_initialised_ledger_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GOVLEDGER_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("GOVLEDGER_HOME", str(tmp_path / "home"))
    with pytest.raises(SystemExit) as exited:
        main(["log"])
    assert exited.value.code == 2
    assert "govledger init" in capsys.readouterr().err


def test_bad_database_url_is_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GOVLEDGER_HOME", str(tmp_path / "home"))
    with pytest.raises(SystemExit) as exited:
        main(["--database-url", "mysql://x/y", "log"])
    assert exited.value.code == 2
    assert "unsupported database" in capsys.readouterr().err


def test_append_before_init_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GOVLEDGER_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("GOVLEDGER_HOME", str(tmp_path / "home"))
    for args in (["append", "--kind", "note.recorded", "--data", '{"text":"x"}'], ["verify"], ["checkpoint"]):
        with pytest.raises(SystemExit) as exited:
            main(args)
        assert exited.value.code == 2
        assert "govledger init" in capsys.readouterr().err


def test_malformed_signing_key_in_environment_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GOVLEDGER_DATABASE_URL", f"sqlite:///{tmp_path / 'k.db'}")
    monkeypatch.setenv("GOVLEDGER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GOVLEDGER_SIGNING_KEY", "PRIVATE+KEY+broken")
    with pytest.raises(SystemExit) as exited:
        main(["init"])
    assert exited.value.code == 2
    assert "malformed" in capsys.readouterr().err


def test_keys_create_shows_the_key_once_and_stores_only_its_hash(cli, db_url: str) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from ledger.access.api_keys import authenticate
    from ledger.storage.db import create_engine

    code, out, _ = cli("keys", "create", "--role", "auditor", "--name", "ext-auditor", "--json")
    assert code == 0
    created = json.loads(out)
    assert created["role"] == "auditor" and created["token"].startswith(f"glk_{created['key_id']}_")
    engine = create_engine(db_url)
    with engine.connect() as conn:
        principal = authenticate(conn, created["token"])
        stored = b"".join(bytes(r[0]) for r in conn.execute(text("SELECT secret_sha256 FROM api_keys")))
        bodies = b"".join(bytes(r[0]) for r in conn.execute(text("SELECT body FROM entries")))
    engine.dispose()
    assert principal is not None and principal.name == "ext-auditor"
    secret = created["token"].split("_", 2)[2].encode()
    assert secret not in stored and secret not in bodies
    code, _, err = cli("keys", "create", "--role", "auditor", "--name", "ext-auditor")
    assert code == 2 and "already exists" in err
    code, _, err = cli("keys", "create", "--role", "superuser", "--name", "x")
    assert code == 2


def test_a_key_may_name_its_holder_and_organisation_and_keys_without_them_stay_valid(cli, db_url: str) -> None:  # type: ignore[no-untyped-def]
    from ledger.access.api_keys import key_profile
    from ledger.storage.db import create_engine

    code, out, _ = cli("keys", "create", "--role", "auditor", "--name", "plain", "--json")
    assert code == 0
    plain = json.loads(out)
    args = ("keys", "create", "--role", "approver", "--name", "rui", "--display-name", "Rui Carvalho")
    code, out, _ = cli(*args, "--organisation", "Example Credit Union", "--json")
    assert code == 0
    named = json.loads(out)
    code, _, err = cli("keys", "create", "--role", "approver", "--name", "bad", "--display-name", "a\tb")
    assert code == 2 and err.startswith("govledger: error:")
    engine = create_engine(db_url)
    with engine.connect() as conn:
        old_style = key_profile(conn, plain["key_id"])
        profiled = key_profile(conn, named["key_id"])
        assert key_profile(conn, "0" * 16) is None
    engine.dispose()
    assert old_style is not None and (old_style.name, old_style.organisation) == ("plain", None)
    assert profiled is not None and (profiled.name, profiled.organisation) == ("Rui Carvalho", "Example Credit Union")
    assert profiled.role.value == "approver"


def test_a_command_module_runs_on_its_own_with_the_state_it_is_given(tmp_path: Path) -> None:
    """Each package's commands are a module-level Typer app: a test can invoke one without the
    composition root, handing it the CliState the root would (here: a ledger of the core kinds)."""
    from typer.testing import CliRunner

    from ledger.cli import log_commands
    from ledger.cli.context import CliState
    from ledger.kinds.core import CORE_KINDS
    from ledger.kinds.registry import KindRegistry

    cli_state = CliState(
        database_url=f"sqlite:///{tmp_path / 'own.db'}", home=tmp_path / "home", kinds=lambda: KindRegistry(CORE_KINDS)
    )
    runner = CliRunner()
    assert runner.invoke(log_commands.app, ["init"], obj=cli_state).exit_code == 0
    appended = runner.invoke(
        log_commands.app, ["append", "--kind", "note.recorded", "--data", '{"text": "x"}'], obj=cli_state
    )
    assert appended.exit_code == 0, appended.output
    refused = runner.invoke(log_commands.app, ["append", "--kind", "dataset.registered", "--data", "{}"], obj=cli_state)
    assert refused.exit_code != 0  # this registry does not know the lineage kinds
    assert "unknown kind 'dataset.registered'" in str(refused.exception)


def test_verify_output_names_a_range_when_the_entry_cannot_be_pinned(cli) -> None:  # type: ignore[no-untyped-def]
    lines = "".join(json.dumps({"kind": "note.recorded", "data": {"text": f"t{i}"}}) + "\n" for i in range(6))
    assert cli("append", stdin=lines.encode())[0] == 0  # one batch: one checkpoint over entries 1..6
    engine = create_engine(os.environ["GOVLEDGER_DATABASE_URL"])
    try:
        tampering.drop_append_only_triggers(engine)
        bodies = [r[1] for r in tampering.rows(engine)]
        bodies[4] = bodies[4].replace(b'"t3"', b'"tX"')
        tampering.rewrite_from(engine, tampering.relink(bodies))
    finally:
        engine.dispose()
    code, out, _ = cli("verify")
    assert code == 1 and "TAMPERED: an entry in 1..6 was changed; the chain was recomputed" in out
    assert "first bad entry" not in out
    code, out, _ = cli("verify", "--json")
    report = json.loads(out)
    assert code == 1 and report["first_bad_seq"] is None and report["first_bad_range"] is not None
    assert report["headline"].startswith("an entry in ")
    assert report["first_bad_range"] == [1, 6]
