"""`verify-report`: is this PDF, byte for byte, one the ledger issued, and do its proofs hold?

Two checks. (1) Issued: the PDF's SHA-256 is looked up among `report.issued` entries; the
entry's inclusion in the latest signed checkpoint is then proven, so the answer rests on the log,
not on the table (needs the ledger). (2) Proofs: every report PDF carries its proof pack as the
attached file `proofpack.json` (reports.evidence); `check_proofs` extracts it and verifies it with
`ledger.verification.proofpack.verify_pack` against keys the caller trusts: the ledger's own key
ring when it has the ledger, or a verifier key held out of band (an auditor with nothing but the
PDF and the key). This needs no database, no server and no PDF library: the attachment is the one
PDF stream of `/Type /EmbeddedFile` holding a proof pack, read with the standard library.
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from dataclasses import dataclass
from typing import Any

from ledger.api import Ledger
from ledger.lineage.report_reads import issued_report_seq
from ledger.log.note import Verifier
from ledger.verification.proofpack import FORMAT, PackError, PackReport, verify_pack

__all__ = ["ProofCheck", "ReportCheck", "check_proofs", "check_report", "check_report_hash", "extract_proof_pack"]

_EMBEDDED = re.compile(rb"/Type\s*/EmbeddedFile\b")
_STREAM = re.compile(rb">>\s*stream\r?\n")
_LENGTH = re.compile(rb"/Length\s+(\d+)(?!\s+\d+\s+R)")
_FLATE = re.compile(rb"/Filter\s*/FlateDecode")


def _embedded_streams(pdf: bytes) -> list[bytes]:
    """The decoded contents of every embedded-file stream of the PDF (undecodable ones skipped)."""
    found = []
    for match in _EMBEDDED.finditer(pdf):
        opened = _STREAM.search(pdf, match.end())
        if opened is None:
            continue
        head, start = pdf[max(0, pdf.rfind(b" obj", 0, match.start())) : opened.end()], opened.end()
        length = _LENGTH.search(head)
        raw = pdf[start : start + int(length.group(1))] if length else pdf[start:]
        if _FLATE.search(head):
            try:
                raw = zlib.decompressobj().decompress(raw)
            except zlib.error:
                raise PackError("the attached proof pack is damaged (its compressed stream does not decode)") from None
        found.append(raw)
    return found


def _is_pack(data: bytes) -> bool:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict) and value.get("format") == FORMAT


def extract_proof_pack(pdf: bytes) -> bytes | None:
    """The bytes of the proof pack attached to the PDF; None if it carries none. PackError if
    the attachment cannot be read or there is more than one (which would be ambiguous)."""
    packs = [data for data in _embedded_streams(pdf) if _is_pack(data)]
    if len(packs) > 1:
        raise PackError(f"the PDF carries {len(packs)} proof packs; a report carries exactly one")
    return packs[0] if packs else None


@dataclass(frozen=True)
class ProofCheck:
    """The verdict on the attached proofs: `attached` False for a PDF without a pack (a report
    rendered before template reports-2, or not a report); `problem` names the first failure."""

    attached: bool
    ok: bool
    problem: str | None = None
    pack: PackReport | None = None

    def as_json(self) -> dict[str, Any]:
        pack = self.pack
        return {
            "attached": self.attached,
            "ok": self.ok,
            "problem": self.problem,
            "origin": pack.origin if pack else None,
            "checkpoint_size": pack.size if pack else None,
            "root": pack.root.hex() if pack else None,
            "entries": [e["seq"] for e in pack.entries] if pack else [],
            "pinned": pack.pinned if pack else False,
            "signed_by": list(pack.signed_by) if pack else [],
        }


def check_proofs(pdf: bytes, trusted_keys: list[Verifier]) -> ProofCheck:
    """Verify the PDF's attached proof pack against `trusted_keys` (at least one must be in the
    pack's key ring, else the pack would only be self-consistent). Verdicts are data."""
    if not trusted_keys:
        raise ValueError("check_proofs needs at least one trusted key")
    try:
        data = extract_proof_pack(pdf)
        if data is None:
            return ProofCheck(attached=False, ok=False, problem="the PDF carries no proof pack")
        return ProofCheck(attached=True, ok=True, pack=verify_pack(data, trusted_keys=trusted_keys))
    except PackError as exc:
        return ProofCheck(attached=True, ok=False, problem=str(exc))


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
