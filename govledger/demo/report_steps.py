"""The report part of `govledger demo`: every report kind written to `<workdir>/reports/` as PDF
and HTML, each issued in the ledger, and one checked with verify-report (and refused once altered).

The adverse-action notice goes to a decision that is still adverse after review (the demo's
overridden decision is shown being refused one); the bias audit is the analysis the model's
declared use calls for (a fair-lending analysis for the demo's credit model)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import select

from ledger.api import Ledger, local_actor
from ledger.errors import ConflictError
from ledger.lineage import tables as t
from reports.document import issue, prepare
from reports.kinds import BUILDERS
from reports.verification import check_report

__all__ = ["run_report_demo"]

Step = Callable[[int, str], None]
# The demo lender's address: configuration the notice is issued with (recorded in report.issued),
# as a real creditor passes its own; the ledger itself records no address.
CREDITOR = {"creditor_address": "1 Example Street, Springfield"}
out = Console(highlight=False, width=150)


def still_adverse_decision(ledger: Ledger, name: str, version: str) -> str:
    """The first decision of the model that is adverse, gives principal reasons, and that no review
    overrode or reversed: one an adverse-action notice is owed for."""
    with ledger.read_snapshot() as conn:
        changed = set(conn.execute(select(t.reviews.c.decision_id).where(t.reviews.c.outcome != "accepted")).scalars())
        rows = conn.execute(
            select(t.decisions.c.decision_id, t.decisions.c.seq)
            .where(t.decisions.c.name == name, t.decisions.c.version == version, t.decisions.c.adverse.is_(True))
            .order_by(t.decisions.c.seq)
        ).all()
    for decision_id, seq in rows:
        if decision_id not in changed and (ledger.get(seq).data.get("explanation") or {}).get("reason_codes"):
            return str(decision_id)
    raise RuntimeError(f"{name}@{version} has no adverse decision with principal reasons to notify")


def run_report_demo(ledger: Ledger, workdir: Path, step: Step, number: int, facts: dict[str, Any]) -> int:
    step(number, "Regulator-ready reports, each issued in the ledger (PDF + HTML)")
    directory = workdir / "reports"
    directory.mkdir(parents=True, exist_ok=True)
    name, version = facts["model"]
    notified = still_adverse_decision(ledger, name, version)
    try:
        prepare(ledger, BUILDERS["adverse-action"], decision_id=facts["decision_id"])
    except ConflictError as refused:  # overridden to approve on review: no adverse action stands
        out.print(f"adverse-action   refused for {facts['decision_id']}: {refused}", markup=False)
    else:
        raise RuntimeError(f"a notice was made for {facts['decision_id']}, which a person overrode to approve")
    jobs: list[tuple[str, str, dict[str, Any]]] = [
        ("dossier", f"dossier-{name}-{version}", {"name": name, "version": version}),
        ("decision", f"decision-{facts['decision_id']}", {"decision_id": facts["decision_id"]}),
        ("adverse-action", f"adverse-action-{notified}", {"decision_id": notified, **CREDITOR}),
        (
            "bias-audit",
            f"bias-audit-{name}-{version}",
            {"name": name, "version": version, "since": facts["since"], "until": facts["until"]},
        ),
        ("attestation", "attestation", {}),
    ]
    first_pdf: Path | None = None
    for kind, stem, params in jobs:
        rendered, seq = issue(ledger, BUILDERS[kind], actor=facts.get("officer", local_actor()), **params)
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
