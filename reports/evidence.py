"""The evidence behind a report: every ledger entry it relies on, with its leaf hash and an
inclusion proof against one signed checkpoint, so a reader can check each statement offline.

Templates cite entries with `evidence.cite(seq, label)`, which returns the short reference to
print in a table ("#123"). The printed appendix lists every cited entry in one compact row (seq,
kind, time, what it is relied on for, leaf hash); the proofs themselves travel in the PDF as an
attached proof pack (`proof_pack()`, the ledger's own `govledger-proof-pack/1` format, built
against the very checkpoint the report names), because a reader checks proofs with a program,
not by eye: printed proof paths made a dossier 13 pages of hashes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ledger.api import Ledger
from ledger.log.checkpoint import SignedCheckpoint
from ledger.log.signing_keys import KeyRing
from ledger.storage.proofs import InclusionProof
from ledger.verification.proofpack import MAX_PURPOSE, build_pack

__all__ = ["PROOF_PACK_NAME", "Evidence", "EvidenceItem"]

PROOF_PACK_NAME = "proofpack.json"  # the attachment's file name; verify-report looks for it


@dataclass(frozen=True)
class EvidenceItem:
    seq: int
    kind: str
    ts: str
    label: str
    leaf_hash: str
    proof: list[str]


class _AtCheckpoint:
    """The ledger as a proof-pack source pinned to one checkpoint: `build_pack` proves against the
    newest checkpoint, and a report's pack must prove against the one its pages name."""

    def __init__(self, ledger: Ledger, signed: SignedCheckpoint) -> None:
        self._ledger, self._signed = ledger, signed

    def get(self, seq: int) -> Any:
        return self._ledger.get(seq)

    def inclusion_proof(self, seq: int, size: int | None = None) -> InclusionProof:
        return self._ledger.inclusion_proof(seq, size)

    def latest_checkpoint(self) -> SignedCheckpoint:
        return self._signed

    def checkpoint(self) -> SignedCheckpoint:
        return self._signed

    def key_ring(self) -> KeyRing:
        return self._ledger.key_ring()


class Evidence:
    """Entries cited by one report, proven against the checkpoint `as_of` (signed once, up front)."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self.checkpoint: SignedCheckpoint = ledger.checkpoint()
        ring = ledger.key_ring()
        self.key = next(v.vkey for v in ring.verifiers_at(self.size) if v.key_id in self.checkpoint.key_ids)
        self._cited: dict[int, str] = {}

    @property
    def ledger(self) -> Ledger:
        """The ledger the evidence is drawn from (the cover reads its actors from it)."""
        return self._ledger

    @property
    def size(self) -> int:
        return self.checkpoint.size

    def cite(self, seq: int, label: str) -> str:
        """Record that the report relies on entry `seq`; returns the reference to print."""
        if seq >= self.checkpoint.size:
            raise ValueError(f"entry {seq} is newer than the report's checkpoint ({self.checkpoint.size})")
        self._cited.setdefault(seq, label)
        return f"#{seq}"

    def items(self) -> list[EvidenceItem]:
        result = []
        for seq in sorted(self._cited):
            entry = self._ledger.get(seq)
            proof = self._ledger.inclusion_proof(seq, self.checkpoint.size)
            proof.verify()  # never print a proof that does not hold
            result.append(
                EvidenceItem(
                    seq, entry.kind, entry.ts, self._cited[seq], proof.leaf_hash.hex(), [h.hex() for h in proof.path]
                )
            )
        return result

    def proof_pack(self, purpose: str) -> bytes:
        """Canonical JSON proof pack of every cited entry against the report's checkpoint, with the
        key entries that let an offline verifier check its signature. A report citing nothing still
        proves entry 0 (log.created), so the checkpoint it names can be checked."""
        seqs = sorted(self._cited) or [0]
        label = _CONTROL.sub(" ", purpose)[:MAX_PURPOSE] or None
        return build_pack(_AtCheckpoint(self._ledger, self.checkpoint), seqs, purpose=label)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
