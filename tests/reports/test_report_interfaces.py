"""`govledger report ...`, `govledger verify-report` and `/v1/reports/...` on the governed ledger."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from govledger.cli import main
from govledger.service import service_routers
from ledger.access.api_keys import create_api_key
from ledger.api import local_actor
from ledger.service import create_app
from tests.reports.conftest import Governed

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


async def test_cli_writes_issues_and_verifies_reports(
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
    pdf = tmp_path / "attestation.pdf"
    code, out, err = run(monkeypatch, capsys, "report", "attestation", "-o", str(pdf))
    assert code == 0, err
    assert pdf.exists() and pdf.with_suffix(".html").exists() and "issued as entry" in out
    seq = ledger.size - 1
    assert ledger.get(seq).data["pdf_sha256"] == hashlib.sha256(pdf.read_bytes()).hexdigest()
    code, out, _ = run(monkeypatch, capsys, "verify-report", str(pdf))
    assert code == 0 and f"entry {seq}" in out
    altered = tmp_path / "altered.pdf"
    raw = bytearray(pdf.read_bytes())
    raw[-200] ^= 1
    altered.write_bytes(bytes(raw))
    code, out, _ = run(monkeypatch, capsys, "verify-report", str(altered))
    assert code == 1 and "NOT ISSUED" in out

    size = ledger.size
    code, _, err = run(monkeypatch, capsys, "report", "dossier", "no-such-model", "1", "-o", str(tmp_path / "d.pdf"))
    assert code == 2 and err.startswith("govledger: error:") and "no-such-model" in err
    code, _, err = run(monkeypatch, capsys, "report", "decision", "no-such-decision", "-o", str(tmp_path / "x.pdf"))
    assert code == 2
    code, _, err = run(monkeypatch, capsys, "report", "attestation", "-o", str(tmp_path / "a.txt"))
    assert code == 2 and ".pdf or .html" in err
    preview = tmp_path / "preview.html"
    code, out, _ = run(monkeypatch, capsys, "report", "attestation", "--preview", "-o", str(preview))
    assert code == 0 and "preview, not issued" in out and "Preview, not issued" in preview.read_text()
    assert ledger.size == size  # refused and previewed reports record nothing


async def test_http_reports_preview_issue_and_lookup(governed: Governed) -> None:
    ledger = governed.ledger
    tokens = {
        role: create_api_key(ledger, name=f"{role}-report-key", role=role, actor=local_actor())[0]
        for role in ("approver", "auditor")
    }
    app = create_app(ledger=ledger, routers=service_routers())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        auditor = {"Authorization": f"Bearer {tokens['auditor']}"}
        approver = {"Authorization": f"Bearer {tokens['approver']}"}
        size = ledger.size
        preview = await http.get("/v1/reports/attestation", headers=auditor)
        assert preview.status_code == 200 and preview.headers["content-type"] == "application/pdf"
        assert preview.content.startswith(b"%PDF") and ledger.size == size  # a GET never writes
        html = await http.get("/v1/reports/attestation", headers={**auditor, "Accept": "text/html"})
        assert html.headers["content-type"].startswith("text/html") and "not issued" in html.text
        by_suffix = await http.get("/v1/reports/attestation.html", headers=auditor)
        assert by_suffix.status_code == 200 and by_suffix.headers["content-type"].startswith("text/html")
        name, version = governed.model
        decisions = ledger.entries(kind="decision.recorded", limit=1000)
        days = {"since": decisions[0].ts[:10], "until": decisions[-1].ts[:10]}  # plain dates: whole days (UTC)
        audit = await http.get(f"/v1/reports/bias-audit/{name}/{version}.html", headers=auditor, params=days)
        assert audit.status_code == 200 and f"{days['since']}T00:00:00Z to " in audit.text
        bad_day = await http.get(
            f"/v1/reports/bias-audit/{name}/{version}.html", headers=auditor, params={**days, "until": "2026-02-30"}
        )
        assert bad_day.status_code == 422
        issued = await http.post("/v1/reports/attestation/issue", headers=approver)
        assert issued.status_code == 201
        seq = int(issued.headers["X-Govledger-Entry"])
        digest = hashlib.sha256(issued.content).hexdigest()
        assert ledger.get(seq).data["pdf_sha256"] == digest
        found = await http.get(f"/v1/reports/issued/{digest}", headers=auditor)
        assert found.status_code == 200 and found.json()["entry"]["seq"] == seq
        missing = await http.get(f"/v1/reports/issued/{'0' * 64}", headers=auditor)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        unknown = await http.get("/v1/reports/decisions/no-such-decision.pdf", headers=auditor)
        assert unknown.status_code == 404
        trace = await http.get(f"/v1/reports/decisions/{governed.decision_id}.html", headers=auditor)
        assert trace.status_code == 200 and governed.decision_id in trace.text
        forbidden = await http.post("/v1/reports/attestation/issue", headers=auditor)
        assert forbidden.status_code == 403
