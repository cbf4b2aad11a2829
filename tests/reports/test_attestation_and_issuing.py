"""The attestation report, issuing (`report.issued` at the sequence number the PDF names) and
`verify-report`, on the governed ledger (SQLite and PostgreSQL)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ledger.api import local_actor
from reports.attestation import CHECKLIST, build_attestation
from reports.document import issue, prepare, render
from reports.verification import check_report
from tests.reports.conftest import Governed


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_attestation_is_deterministic_complete_and_verifiable(governed: Governed, tmp_path: Path) -> None:
    ledger = governed.ledger
    first = render(prepare(ledger, build_attestation), issue_seq=None)
    second = render(prepare(ledger, build_attestation), issue_seq=None)
    assert first.html == second.html and first.pdf == second.pdf
    size = ledger.size
    rendered, seq = issue(ledger, build_attestation, actor=local_actor())
    assert seq == size and ledger.get(seq).data["pdf_sha256"] == rendered.pdf_sha256
    text = pdf_text(rendered.pdf, tmp_path)
    for item in CHECKLIST:
        assert item.marker in " ".join(text.split()), item
    assert f"Issued as ledger entry {seq}" in " ".join(text.split())
    assert ledger.root(size).hex() in text.replace("\n", "").replace(" ", "")
    assert "INTACT" in text and "first attestation" in text
    check = check_report(ledger, rendered.pdf)
    assert check.issued and check.seq == seq
    tampered = bytearray(rendered.pdf)
    tampered[len(tampered) // 2] ^= 1
    assert not check_report(ledger, bytes(tampered)).issued

    again, next_seq = issue(ledger, build_attestation, actor=local_actor())
    text = " ".join(pdf_text(again.pdf, tmp_path).split())
    assert f"The previous attestation (entry {seq}, issued" in text and "verified" in text
    assert next_seq == seq + 1
