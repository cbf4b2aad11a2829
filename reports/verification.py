"""`verify-report`: is this PDF, byte for byte, one the ledger issued?

The PDF's SHA-256 is looked up among `report.issued` entries; the entry's inclusion in the
latest signed checkpoint is then proven, so the answer rests on the log, not on the table.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from ledger.api import Ledger
from ledger.lineage.report_reads import issued_report_seq

__all__ = ["ReportCheck", "check_report", "check_report_hash"]


@dataclass(frozen=True)
class ReportCheck:
    pdf_sha256: str
    issued: bool
    seq: int | None = None
    entry: dict[str, Any] | None = None
    checkpoint_size: int | None = None
    inclusion_proof: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "pdf_sha256": self.pdf_sha256,
            "issued": self.issued,
            "seq": self.seq,
            "entry": self.entry,
            "checkpoint_size": self.checkpoint_size,
        }


def check_report(ledger: Ledger, pdf: bytes) -> ReportCheck:
    return check_report_hash(ledger, hashlib.sha256(pdf).hexdigest())


def check_report_hash(ledger: Ledger, digest: str) -> ReportCheck:
    """The same check for a PDF known only by its SHA-256 (lower-case hex)."""
    with ledger.engine.connect() as conn:
        seq = issued_report_seq(conn, digest)
    if seq is None:
        return ReportCheck(digest, issued=False)
    entry = ledger.get(seq)
    if entry.data.get("pdf_sha256") != digest:  # the projection must agree with the log itself
        return ReportCheck(digest, issued=False)
    checkpoint = ledger.checkpoint()
    proof = ledger.inclusion_proof(seq, checkpoint.size)
    proof.verify()
    return ReportCheck(digest, True, seq, entry.as_json(), checkpoint.size, proof.as_json())
