"""Ledger integrity attestation: the attesting officer, the period since the previous
attestation, the log's size and root, its signed checkpoint and key, the result of a deep
verification, consistency with the previous attestation, and witness statements.

The attesting officer is the actor who issues the attestation (the cover's "Prepared by",
read from their API key: name, role, organisation). Findings are derived from the deep
verification: each problem is a failing finding, each warning a warning, so the summary reads
"No findings" only for a log that verified without remark.
"""

from __future__ import annotations

from typing import Any

from ledger.api import Ledger
from ledger.lineage.report_reads import latest_report_seq
from ledger.log import merkle
from reports.checklist import ChecklistItem
from reports.document import Content
from reports.evidence import Evidence
from reports.findings import Finding, Findings

__all__ = ["CHECKLIST", "build_attestation"]


def _previous(ledger: Ledger, before: int) -> dict[str, Any] | None:
    with ledger.engine.connect() as conn:
        seq = latest_report_seq(conn, "attestation", before=before)
    return None if seq is None else {"seq": seq, **ledger.get(seq).data}


def _findings(report: Any) -> Findings:
    items = [Finding("fail", "Deep verification found a problem", p.message) for p in report.problems[:20]]
    items += [Finding("warn", "Deep verification warning", w) for w in report.warnings[:20]]
    return Findings(tuple(items))


def _outcome(ok: bool, size: int, previous: dict[str, Any] | None) -> str:
    state = "is intact: deep verification found no problem" if ok else "FAILED deep verification"
    if previous is None:
        tail = "; this is the first attestation of this ledger"
    else:
        old = int(previous["as_of_size"])
        tail = f", and is consistent with the previous attestation (#{previous['seq']}, log size {old:,})"
    return f"The log of {size:,} entries {state}{tail}."


def build_attestation(ledger: Ledger, evidence: Evidence) -> Content:
    size = evidence.size
    report = ledger.verify(deep=True, against=evidence.checkpoint.note)
    previous = _previous(ledger, size)
    consistency: dict[str, Any] | None = None
    first_ts = ledger.get(0).ts
    period_start = first_ts
    if previous is not None:
        evidence.cite(previous["seq"], "the previous attestation")
        period_start = ledger.get(int(previous["as_of_size"]) - 1).ts
        old_size = int(previous["as_of_size"])
        proof = ledger.consistency_proof(old_size, size)
        old_root = ledger.root(old_size)
        merkle.verify_consistency(old_size, size, old_root, evidence.checkpoint.checkpoint.root, proof.path)
        consistency = {
            "previous_seq": previous["seq"],
            "old_size": old_size,
            "old_root": old_root.hex(),
            "proof": [h.hex() for h in proof.path],
            "previous_ts": ledger.get(previous["seq"]).ts,
        }
    period_end = ledger.get(size - 1).ts
    ring = ledger.key_ring()
    keys = [
        {"vkey": r.verifier.vkey, "introduced_at": r.introduced_at, "retired_at": r.retired_at} for r in ring.records
    ]
    for record in ring.records:
        evidence.cite(record.introduced_at, "checkpoint key introduced (log.created or key.rotated)")
    context = {
        "size": size,
        "root": evidence.checkpoint.checkpoint.root.hex(),
        "verification": {
            "ok": report.ok,
            "entries_checked": report.entries_checked,
            "checkpoints_checked": report.checkpoints_checked,
            "log_size": report.size,
            "problems": [p.message for p in report.problems[:20]],
            "warnings": report.warnings[:20],
        },
        "consistency": consistency,
        "keys": keys,
        "period_start": period_start,
        "period_end": period_end,
    }
    return Content(
        kind="attestation",
        kind_label="Ledger integrity attestation",
        title=f"Ledger integrity attestation: {size:,} entries",
        subject=f"ledger {evidence.checkpoint.checkpoint.origin} at size {size}",
        template="attestation.html.j2",
        context=context,
        outcome=_outcome(report.ok, size, previous),
        findings=_findings(report),
        period=f"{period_start[:10]} to {period_end[:10]}"
        + (" (since the previous attestation)" if previous is not None else " (since the log was created)"),
    )


CHECKLIST = [
    ChecklistItem("log-size", "Log size (entries)", "REGULATORY.md model report 11 (integrity appendix: ledger range)"),
    ChecklistItem("root", "Merkle root", "integrity appendix: head hash"),
    ChecklistItem("checkpoint", "Signed checkpoint", "integrity appendix: signed checkpoint"),
    ChecklistItem("deep-verify", "Deep verification", "issue 5: result of a deep verification"),
    ChecklistItem("consistency", "Consistency with the previous attestation", "issue 5: consistency"),
    ChecklistItem("officer", "Attesting officer", "issue 12: the attesting officer (name, role)"),
    ChecklistItem("witnesses", "Witness statements", "issue 12: witness statements once they exist"),
    ChecklistItem("instructions", "How to verify", "integrity appendix: verification instructions"),
]
