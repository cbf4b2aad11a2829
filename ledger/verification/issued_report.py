"""What verification returns: findings (`Problem`) and the report that holds them (`VerifyReport`).

Why a module of their own: the deep scan, the checkpoint checks and the CLI and reports all read
and write these; verification records a finding and goes on rather than raising, so the report
caps how many it keeps (MAX_PROBLEMS).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ledger.log import merkle

__all__ = ["MAX_PROBLEMS", "Problem", "Progress", "VerifyReport"]

MAX_PROBLEMS = 50
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Problem:
    """One finding. `seq` is the first sequence number affected (None when not tied to one)."""

    seq: int | None
    code: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "code": self.code, "message": self.message}


@dataclass
class VerifyReport:
    deep: bool
    size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    entries_checked: int = 0
    checkpoints_checked: int = 0
    latest_checkpoint_size: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    against: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None

    def add(self, seq: int | None, code: str, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(seq, code, message))

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "deep": self.deep,
            "size": self.size,
            "root": self.root.hex(),
            "entries_checked": self.entries_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "latest_checkpoint_size": self.latest_checkpoint_size,
            "first_bad_seq": self.first_bad_seq,
            "problems": [p.as_json() for p in self.problems],
            "warnings": self.warnings,
            "against": self.against,
        }
