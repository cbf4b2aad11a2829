"""The report part of `govledger demo`: every report kind written to `<workdir>/reports/` as PDF
and HTML, each issued in the ledger, and one checked with verify-report (and refused once altered)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from ledger.api import Ledger, local_actor
from reports.document import issue
from reports.kinds import BUILDERS
from reports.verification import check_report

__all__ = ["run_report_demo"]

Step = Callable[[int, str], None]
out = Console(highlight=False, width=150)


def run_report_demo(ledger: Ledger, workdir: Path, step: Step, number: int, facts: dict[str, Any]) -> int:
    step(number, "Regulator-ready reports, each issued in the ledger (PDF + HTML)")
    directory = workdir / "reports"
    directory.mkdir(parents=True, exist_ok=True)
    name, version = facts["model"]
    jobs: list[tuple[str, str, dict[str, Any]]] = [
        ("dossier", f"dossier-{name}-{version}", {"name": name, "version": version}),
        ("decision", f"decision-{facts['decision_id']}", {"decision_id": facts["decision_id"]}),
        ("adverse-action", f"adverse-action-{facts['decision_id']}", {"decision_id": facts["decision_id"]}),
        (
            "bias-audit",
            f"bias-audit-{name}-{version}",
            {"name": name, "version": version, "since": facts["since"], "until": facts["until"]},
        ),
        ("attestation", "attestation", {}),
    ]
    first_pdf: Path | None = None
    for kind, stem, params in jobs:
        rendered, seq = issue(ledger, BUILDERS[kind], actor=local_actor(), **params)
        pdf = directory / f"{stem}.pdf"
        pdf.write_bytes(rendered.pdf)
        (directory / f"{stem}.html").write_text(rendered.html, encoding="utf-8")
        first_pdf = first_pdf or pdf
        out.print(f"{kind:15} {pdf} ({len(rendered.pdf) / 1024:,.0f} KiB), issued as entry {seq}")
    assert first_pdf is not None
    step(number + 1, f"verify-report: is {first_pdf.name} one the ledger issued?")
    good = check_report(ledger, first_pdf.read_bytes())
    altered = bytearray(first_pdf.read_bytes())
    altered[len(altered) // 2] ^= 1
    bad = check_report(ledger, bytes(altered))
    out.print(f"as written: issued={good.issued} (entry {good.seq}); with one bit changed: issued={bad.issued}")
    if not good.issued or bad.issued:
        raise RuntimeError("verify-report did not behave")
    return number + 2
