"""The evidence behind a report: every ledger entry it relies on, with its leaf hash and an
inclusion proof against one signed checkpoint, so a reader can check each statement offline.

Templates cite entries with `evidence.cite(seq, label)`, which returns the short reference to
print in a table ("#123"); the appendix lists every cited entry in full.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.api import Ledger
from ledger.log.checkpoint import SignedCheckpoint

__all__ = ["Evidence", "EvidenceItem"]


@dataclass(frozen=True)
class EvidenceItem:
    seq: int
    kind: str
    label: str
    leaf_hash: str
    proof: list[str]


class Evidence:
    """Entries cited by one report, proven against the checkpoint `as_of` (signed once, up front)."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self.checkpoint: SignedCheckpoint = ledger.checkpoint()
        ring = ledger.key_ring()
        self.key = next(v.vkey for v in ring.verifiers_at(self.size) if v.key_id in self.checkpoint.key_ids)
        self._cited: dict[int, str] = {}

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
                EvidenceItem(seq, entry.kind, self._cited[seq], proof.leaf_hash.hex(), [h.hex() for h in proof.path])
            )
        return result
