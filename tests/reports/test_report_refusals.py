"""Refused reports through the CLI (exit 2, one line) and HTTP (409, machine-readable body), with
nothing written; and the options a report is issued with, recorded in `report.issued`."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from govledger.cli import main
from govledger.service import service_routers
from ledger.access.api_keys import create_api_key
from ledger.api import local_actor
from ledger.service import create_app
from tests.reports.conftest import Governed
from tests.reports.test_decision_reports import find_decision

pytestmark = pytest.mark.anyio
WIDE = {"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


async def test_cli_refuses_a_notice_for_an_overridden_decision_and_records_the_options_of_one_it_issues(
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
    size = ledger.size
    pdf = tmp_path / "notice.pdf"
    code, _, err = run(capsys, "report", "adverse-action", governed.decision_id, "-o", str(pdf))
    assert code == 2 and err.startswith("govledger: error:") and "overridden on human review" in err
    assert len(err.strip().splitlines()) == 1 and not pdf.exists() and ledger.size == size
    code, _, err = run(
        capsys, "report", "bias-audit", *governed.model, "-o", str(tmp_path / "a.pdf"), "--law", "ll144", *_wide()
    )
    assert code == 2 and "an NYC Local Law 144 bias audit does not apply" in err and "override_reason" in err
    assert ledger.size == size

    owed = find_decision(ledger, adverse=True, explained=True, reviewed=False)
    assert owed is not None
    code, out, err = run(
        capsys, "report", "adverse-action", owed, "-o", str(pdf), "--creditor-address", "2 Main St, Springfield"
    )
    assert code == 0 and "issued as entry" in out, err
    issued = ledger.get(ledger.size - 1)
    assert issued.kind == "report.issued" and issued.data["options"] == {"creditor_address": "2 Main St, Springfield"}


def _wide() -> list[str]:
    return ["--since", WIDE["since"], "--until", WIDE["until"]]


async def test_http_refusals_are_409_with_the_reason(governed: Governed) -> None:
    ledger = governed.ledger
    token = create_api_key(ledger, name="approver-refusal-key", role="approver", actor=local_actor())[0]
    app = create_app(ledger=ledger, routers=service_routers())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        headers = {"Authorization": f"Bearer {token}"}
        size = ledger.size
        notice = await http.post(f"/v1/reports/adverse-action/{governed.decision_id}/issue", headers=headers)
        assert notice.status_code == 409 and notice.json()["error"]["code"] == "conflict"
        assert "no longer stands" in notice.json()["error"]["message"]
        name, version = governed.model
        audit = await http.get(
            f"/v1/reports/bias-audit/{name}/{version}.pdf", params={**WIDE, "law": "ll144"}, headers=headers
        )
        assert audit.status_code == 409 and "override_reason" in audit.json()["error"]["message"]
        forced = await http.get(
            f"/v1/reports/bias-audit/{name}/{version}.html",
            params={**WIDE, "law": "ll144", "override_reason": "pilot of an LL144 audit", "auditor_firm": "Audit & Co"},
            headers=headers,
        )
        assert (
            forced.status_code == 200 and "pilot of an LL144 audit" in forced.text and "Audit &amp; Co" in forced.text
        )
        assert ledger.size == size  # refusals and previews write nothing
