"""`make demo`'s main job, run as a new user would: `govledger demo` in an empty directory with its
default (relative) work directory. It must finish, leave the files it promises, and the auditor's
pack must verify offline from those files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from govledger.cli import main


@pytest.mark.slow
def test_demo_runs_in_an_empty_directory_and_leaves_verifiable_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("GOVLEDGER_DATABASE_URL", "GOVLEDGER_HOME", "GOVLEDGER_SIGNING_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit) as exited:
        main(["demo", "--no-serve"])
    assert exited.value.code == 0
    out = tmp_path / "out" / "demo"
    assert (out / "govledger.db").is_file()
    for report in ("dossier-income-mitigated-1", "decision-loan-000000", "attestation"):
        assert (out / "reports" / f"{report}.pdf").stat().st_size > 0
    checked = subprocess.run(  # the auditor's check, from the saved files alone, in another process
        [sys.executable, "-m", "govledger", "verify-pack", "dec-000004.pack.json", "--trace", "dec-000004.trace.json"],
        cwd=out,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
