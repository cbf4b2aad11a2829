"""Ledger integrity attestation: the log's size and root, its signed checkpoint and key, the
result of a deep verification, and consistency with the previous attestation."""

from __future__ import annotations

from typing import Any

from ledger.api import Ledger
from ledger.lineage.report_reads import latest_report_seq
from ledger.log import merkle
from reports.checklist import ChecklistItem
from reports.document import Content
from reports.evidence import Evidence

__all__ = ["CHECKLIST", "build_attestation"]


def _previous(ledger: Ledger, before: int) -> dict[str, Any] | None:
    with ledger.engine.connect() as conn:
        seq = latest_report_seq(conn, "attestation", before=before)
    return None if seq is None else {"seq": seq, **ledger.get(seq).data}


def build_attestation(ledger: Ledger, evidence: Evidence) -> Content:
    size = evidence.size
    report = ledger.verify(deep=True, against=evidence.checkpoint.note)
    previous = _previous(ledger, size)
    consistency: dict[str, Any] | None = None
    if previous is not None:
        evidence.cite(previous["seq"], "the previous attestation")
        old_size = int(previous["as_of_size"])
        proof = ledger.consistency_proof(old_size, size)
        old_root = ledger.root(old_size)
        merkle.verify_consistency(old_size, size, old_root, evidence.checkpoint.checkpoint.root, proof.path)
        consistency = {
            "previous_seq": previous["seq"],
            "old_size": old_size,
            "old_root": old_root.hex(),
            "proof": [h.hex() for h in proof.path],
        }
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
    }
    return Content(
        kind="attestation",
        kind_label="Ledger integrity attestation",
        title=f"Ledger integrity attestation: {size:,} entries",
        subject=f"ledger {evidence.checkpoint.checkpoint.origin} at size {size}",
        template="attestation.html.j2",
        context=context,
    )


CHECKLIST = [
    ChecklistItem("log-size", "Log size (entries)", "REGULATORY.md model report 11 (integrity appendix: ledger range)"),
    ChecklistItem("root", "Merkle root", "integrity appendix: head hash"),
    ChecklistItem("checkpoint", "Signed checkpoint", "integrity appendix: signed checkpoint"),
    ChecklistItem("deep-verify", "Deep verification", "issue 5: result of a deep verification"),
    ChecklistItem("consistency", "Consistency with the previous attestation", "issue 5: consistency"),
    ChecklistItem("instructions", "How to check this report", "integrity appendix: verification instructions"),
]
