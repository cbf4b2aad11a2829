"""`make demo`'s main job, run as a new user would: `govledger demo` in an empty directory with its
default (relative) work directory. It must finish, leave the files it promises, and the auditor's
pack must verify offline from those files. Its ledger is then read back as an examiner would: the
gate blocked the baseline and passed the mitigated model under both four-fifths and ecoa-credit,
every adverse decision carries principal reasons, and no reason it logged or printed on a notice
is a prohibited basis or a declared proxy (Regulation B 1002.6(b), 1002.9(b)(2))."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from govledger.cli import main
from govledger.demo.fair_lending import EXCLUDED_FROM_REASONS, REASON_TEXT
from govledger.registry import open_ledger
from ledger.api import Ledger
from ledger.config import Settings
from ledger.lineage import tables as t
from policies.loader import load_policy


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

    ledger = open_ledger(Settings(database_url=f"sqlite:///{out / 'govledger.db'}", home=out / ".govledger"))
    try:
        assert_gate_verdicts(ledger)
        assert_every_adverse_decision_has_lawful_reasons(ledger)
    finally:
        ledger.close()
    notices = sorted((out / "reports").glob("adverse-action-*.html"))
    assert notices
    for notice in notices:
        assert_notice_gives_lawful_reasons(notice.read_text(encoding="utf-8"))


def assert_gate_verdicts(ledger: Ledger) -> None:
    """Each model gated under each pack, as recorded in the ledger's evaluations."""
    pack_of = {load_policy(name).sha256: name for name in ("four-fifths", "ecoa-credit")}
    with ledger.read_snapshot() as conn:
        rows = conn.execute(select(t.evaluations.c.name, t.evaluations.c.policy_sha256, t.evaluations.c.verdict)).all()
    verdicts = {(name, pack_of.get(sha, sha)): verdict for name, sha, verdict in rows}
    assert verdicts == {
        ("income-baseline", "four-fifths"): "blocked",
        ("income-baseline", "ecoa-credit"): "blocked",
        ("income-mitigated", "four-fifths"): "passed",
        ("income-mitigated", "ecoa-credit"): "passed",
    }


def assert_every_adverse_decision_has_lawful_reasons(ledger: Ledger) -> None:
    adverse = cited = 0
    start = 0
    while batch := ledger.entries(start=start, limit=2000, kind="decision.recorded"):
        start = batch[-1].seq + 1
        for entry in batch:
            data = entry.data
            explanation = data.get("explanation") or {}
            codes = {reason["code"] for reason in explanation.get("reason_codes", [])}
            assert not codes & EXCLUDED_FROM_REASONS, (data["decision_id"], codes)
            if data["output"]["adverse"] and data["model"]["name"].startswith("income-"):  # the credit model's
                adverse += 1
                assert codes or explanation["review_required"], data["decision_id"]
                cited += bool(codes)
    assert adverse > 1000 and cited == adverse  # the demo's model leaves none without a lawful reason


def assert_notice_gives_lawful_reasons(page: str) -> None:
    """The letter's reasons are the plain-words texts of lawful codes; the creditor's-file page names the codes."""
    section = page.split("<h2>Principal reasons for our decision</h2>", 1)[1].split("<h2>", 1)[0]
    reasons = [html.unescape(r) for r in re.findall(r"<li>(.*?)</li>", section)]
    assert 1 <= len(reasons) <= 4 and set(reasons) <= set(REASON_TEXT.values()), reasons
    codes = re.search(r"Principal reasons \(codes\)</th><td>([^;<]+);", page)
    assert codes is not None and not set(codes.group(1).split(", ")) & EXCLUDED_FROM_REASONS


def test_demo_refuses_a_taken_port_before_the_scenario_naming_a_free_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    taken = holder.getsockname()[1]
    workdir = tmp_path / "demo"
    try:
        with pytest.raises(SystemExit) as exited:
            main(["demo", "--workdir", str(workdir), "--port", str(taken)])
    finally:
        holder.close()
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert len(err.strip().splitlines()) == 1, err
    found = re.search(rf"port {taken} on 127\.0\.0\.1 is taken; (\d+) is free: govledger demo --port (\d+)", err)
    assert found and found[1] == found[2], err
    assert int(found[1]) > taken
    assert not workdir.exists(), "nothing of the scenario ran"
