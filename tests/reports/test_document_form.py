"""The shared document form of every report kind, on the governed ledger (SQLite and PostgreSQL):
cover, executive summary, contents, the compact evidence appendix with whole hashes, the attached
proof pack that `verify-report` checks offline, page budgets, and report periods in plain dates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from govledger.cli import main
from ledger.api import Ledger, local_actor
from ledger.errors import InvalidInputError
from ledger.log.note import generate_signer
from ledger.verification.proofpack import verify_pack
from reports.attestation import build_attestation
from reports.document import Content, Draft, issue, prepare, render
from reports.dossier import build_dossier
from reports.evidence import PROOF_PACK_NAME
from reports.findings import Finding, Findings
from reports.kinds import BUILDERS
from reports.period import period_bound
from reports.render import Attached, render_pdf
from reports.verification import check_proofs, extract_proof_pack
from tests.reports.conftest import Governed
from tests.reports.pdf_pages import pdf_pages

WIDE = {"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"}


def decision_days(ledger: Ledger) -> tuple[str, str]:
    """The first and last day (UTC) on which the fixture recorded decisions: today, as it runs."""
    decisions = ledger.entries(kind="decision.recorded", limit=1000)
    return decisions[0].ts[:10], decisions[-1].ts[:10]


def unreviewed_adverse_decision(ledger: Ledger, reviewed: str) -> str:
    """An adverse decision with principal reasons that no one reviewed (a notice can be sent)."""
    for entry in ledger.entries(kind="decision.recorded", limit=1000):
        data = entry.data
        if data["output"].get("adverse") and data.get("explanation") and data["decision_id"] != reviewed:
            return str(data["decision_id"])
    raise AssertionError("the fixture has no unreviewed adverse decision")


def every_kind(governed: Governed) -> dict[str, dict[str, Any]]:
    name, version = governed.model
    notice_for = unreviewed_adverse_decision(governed.ledger, governed.decision_id)
    return {
        "dossier": {"name": name, "version": version},
        "decision": {"decision_id": governed.decision_id},
        "adverse-action": {"decision_id": notice_for},
        "bias-audit": {"name": name, "version": version, **WIDE},
        "attestation": {},
    }


def test_every_kind_prints_whole_hashes_attaches_its_proofs_and_keeps_the_appendix_small(governed: Governed) -> None:
    ledger = governed.ledger
    key = [v for v in ledger.key_ring().verifiers]
    for kind, params in every_kind(governed).items():
        draft = prepare(ledger, BUILDERS[kind], **params)
        rendered = render(draft, issue_seq=None)
        pages = pdf_pages(rendered.pdf)
        assert pages.cut_hashes() == [], kind
        cited = {item.leaf_hash for item in draft.evidence.items()}
        if draft.content.form == "document":
            assert cited <= set(pages.hashes()), kind  # the appendix prints every cited leaf hash whole
            assert pages.appendix_share <= 0.25, (kind, pages.appendix_pages, pages.count)
        proofs = check_proofs(rendered.pdf, key)
        assert proofs.ok and proofs.pack is not None, (kind, proofs.problem)
        assert {e["seq"] for e in proofs.pack.entries} == {item.seq for item in draft.evidence.items()}, kind
        assert proofs.pack.size == draft.evidence.size and proofs.pack.pinned, kind
        if kind == "attestation":
            assert pages.count <= 3, pages.count


def test_cover_summary_and_contents_come_first_and_name_people_from_their_keys(governed: Governed) -> None:
    ledger = governed.ledger
    name, version = governed.model
    rendered, seq = issue(ledger, build_dossier, actor=local_actor(), name=name, version=version)
    pages = pdf_pages(rendered.pdf)
    cover = " ".join(pages.pages[0].split())
    assert "Model compliance dossier" in cover and f"Issued as ledger entry {seq}" in cover
    assert "template version reports-2" in cover and f"Issue entry #{seq}" in cover
    # the approver's key carries a display name, a role and an organisation (conftest)
    assert "Approved by Rui Carvalho approver (risk management) Example Credit Union" in cover
    assert "Organisation Example Credit Union" in cover and "Sign-off" in cover
    second = " ".join(pages.pages[1].split())
    assert second.index("Executive summary") < second.index("Contents")
    assert "1 Identification" in second and "Appendix: evidence and how to verify" in second
    assert "1. Identification" in " ".join(" ".join(p.split()) for p in pages.pages[1:3])
    assert "How to check this report" not in " ".join(pages.pages)  # the old box no longer opens documents


def _draft_with(draft: Draft, **changes: Any) -> Draft:
    content = draft.content
    fields = {**content.__dict__, **changes}
    return Draft(Content(**fields), draft.evidence, draft.as_of_time)


def test_summary_states_findings_most_severe_first_and_no_findings_only_when_clean(governed: Governed) -> None:
    ledger = governed.ledger
    draft = prepare(ledger, build_attestation)
    findings = Findings(
        (
            Finding("info", "A note for the reader", cites=(3,)),
            Finding("fail", "A failing rule", "the impact ratio is 0.61", cites=(1, 2)),
        ),
        checks_complete=False,
        not_run=("calibration (no scores recorded)",),
    )
    summary = " ".join(pdf_pages(render(_draft_with(draft, findings=findings), issue_seq=None).pdf).pages[1].split())
    assert summary.index("A failing rule") < summary.index("A note for the reader")
    assert "#1, #2" in summary and "calibration (no scores recorded)" in summary
    assert "No findings" not in summary
    clean = " ".join(pdf_pages(render(_draft_with(draft, findings=Findings()), issue_seq=None).pdf).pages[1].split())
    assert "No findings." in clean


def test_letter_form_has_no_cover_contents_or_appendix_but_carries_its_proofs(governed: Governed) -> None:
    ledger = governed.ledger
    draft = _draft_with(prepare(ledger, build_attestation), form="letter")
    rendered = render(draft, issue_seq=None)
    text = " ".join(" ".join(pdf_pages(rendered.pdf).pages).split())
    assert "Executive summary" not in text and "Contents" not in text and "Sign-off" not in text
    assert "Appendix: evidence" not in text and "Deep verification" in text
    assert extract_proof_pack(rendered.pdf) is not None


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def test_verify_report_checks_the_attached_proofs_offline_and_one_changed_byte_fails(
    governed: Governed,
    db_url: str,
    home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GOVLEDGER_DATABASE_URL", db_url)
    monkeypatch.setenv("GOVLEDGER_HOME", str(home))
    ledger = governed.ledger
    draft = prepare(ledger, build_attestation)
    rendered = render(draft, issue_seq=None)
    pack = extract_proof_pack(rendered.pdf)
    assert pack is not None and verify_pack(pack).size == draft.evidence.size
    vkey = draft.evidence.key
    good = tmp_path / "good.pdf"
    good.write_bytes(rendered.pdf)
    code, out, err = run(capsys, "verify-report", str(good), "--offline", "--trusted-key", vkey)
    assert code == 0 and "proofs verified" in out and "issued" not in out, err

    # the same document whose attached pack differs in one byte of one proof
    text = pack.decode()
    first_path = json.loads(text)["entries"][0]["path"][0]
    changed = first_path[:10] + ("0" if first_path[10] != "0" else "1") + first_path[11:]
    tampered_pack = text.replace(first_path, changed, 1).encode()
    assert len(tampered_pack) == len(pack) and sum(a != b for a, b in zip(tampered_pack, pack, strict=True)) == 1
    attached = Attached(PROOF_PACK_NAME, tampered_pack, "tampered")
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(render_pdf(rendered.html, attachments=(attached,), dated=draft.as_of_time))
    verdict = check_proofs(tampered.read_bytes(), [v for v in ledger.key_ring().verifiers])
    assert not verdict.ok and "inclusion proof does not lead to the checkpoint root" in str(verdict.problem)
    code, out, _ = run(capsys, "verify-report", str(tampered), "--offline", "--trusted-key", vkey)
    assert code == 1 and "PROOFS FAIL" in out
    code, out, _ = run(capsys, "verify-report", str(tampered), "--json")
    result = json.loads(out)
    assert code == 1 and result["proofs"]["ok"] is False and result["issued"] is False

    # issued: with the ledger, both checks pass; a key that is not the ledger's is refused offline
    issued, seq = issue(ledger, build_attestation, actor=local_actor())
    good.write_bytes(issued.pdf)
    code, out, _ = run(capsys, "verify-report", str(good))
    assert code == 0 and "proofs verified" in out and f"entry {seq}" in out
    other = generate_signer("other.example/log").verifier.vkey
    code, out, _ = run(capsys, "verify-report", str(good), "--offline", "--trusted-key", other)
    assert code == 1 and "PROOFS FAIL" in out and "none of the trusted keys" in out
    code, _, err = run(capsys, "verify-report", str(good), "--offline")
    assert code == 2 and "--trusted-key" in err


def test_report_periods_take_plain_dates_and_a_missing_ledger_is_never_created(
    governed: Governed,
    db_url: str,
    home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert period_bound("2026-11-01", "since") == "2026-11-01T00:00:00Z"
    assert period_bound("2026-11-30", "until") == "2026-12-01T00:00:00Z"  # the whole last day included
    assert period_bound("2026-12-31", "until") == "2027-01-01T00:00:00Z"
    assert period_bound("2026-11-01T09:30:00Z", "until") == "2026-11-01T09:30:00Z"
    with pytest.raises(InvalidInputError, match="not a real date"):
        period_bound("2026-02-30", "since")

    monkeypatch.setenv("GOVLEDGER_HOME", str(home))
    monkeypatch.setenv("GOVLEDGER_DATABASE_URL", db_url)
    name, version = governed.model
    first, last = decision_days(governed.ledger)
    out_pdf = tmp_path / "audit.pdf"
    args = ("report", "bias-audit", name, version, "--since", first, "--until", last)
    code, _, err = run(capsys, *args, "--preview", "-o", str(out_pdf))
    assert code == 0, err
    until = period_bound(last, "until")
    assert f"{first}T00:00:00Z to {until}" in out_pdf.with_suffix(".html").read_text()

    missing = tmp_path / "nowhere" / "ledger.db"
    monkeypatch.setenv("GOVLEDGER_DATABASE_URL", f"sqlite:///{missing}")
    code, _, err = run(capsys, "report", "attestation", "-o", str(tmp_path / "a.pdf"))
    assert code == 2 and err.startswith("govledger: error: no ledger at") and len(err.splitlines()) == 1
    assert not missing.exists() and not missing.parent.exists() and not (tmp_path / "a.pdf").exists()
