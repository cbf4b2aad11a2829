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
    """One finding. `seq` is the first sequence number affected when verification can pin it
    (None when it cannot, or when the finding is not about entries). `span` is the range of
    entries it concerns, first and last inclusive: for a pinned finding it starts at `seq`
    (truncation: the removed entries); for an unpinned one it bounds where the change is.

    Why both: a body changed with the chain, subtree hashes and head recomputed leaves every
    row consistent; only a signed root disagrees, and a root covers every entry below it. The
    change is then somewhere between the last checkpoint that still matches and the first that
    does not, and naming that checkpoint's last entry as "the first bad entry" was wrong."""

    seq: int | None
    code: str
    message: str
    span: tuple[int, int] | None = None

    @property
    def pinned(self) -> bool:
        return self.seq is not None

    def as_json(self) -> dict[str, Any]:
        span = list(self.span) if self.span is not None else None
        return {"seq": self.seq, "code": self.code, "message": self.message, "pinned": self.pinned, "range": span}


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
    matched_sizes: list[int] = field(default_factory=list)  # checkpoints whose signature and root held

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        """The first entry verification can name as changed, missing or forged (None if none can be)."""
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None

    @property
    def first_bad_range(self) -> tuple[int, int] | None:
        """The earliest range a change is bounded to, when no pinned finding comes before it."""
        spans = [p.span for p in self.problems if p.seq is None and p.span is not None]
        first = min(spans) if spans else None
        pinned = self.first_bad_seq
        return first if first is not None and (pinned is None or first[0] < pinned) else None

    @property
    def headline(self) -> str | None:
        """One line saying what went wrong first: the entry when it is known, else the range."""
        if self.ok:
            return None
        bounded = self.first_bad_range
        if bounded is not None:
            return f"an entry in {bounded[0]}..{bounded[1]} was changed; the chain was recomputed"
        pinned = self.first_bad_seq
        if pinned is None:
            return self.problems[0].message
        removed = next((p.span for p in self.problems if p.seq == pinned and p.code == "truncated"), None)
        if removed is not None and removed[1] > removed[0]:
            return f"entries {removed[0]}..{removed[1]} were removed from the end of the log"
        return f"first bad entry {pinned}"

    def add(self, seq: int | None, code: str, message: str, *, span: tuple[int, int] | None = None) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(seq, code, message, span))

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "deep": self.deep,
            "size": self.size,
            "root": self.root.hex(),
            "entries_checked": self.entries_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "latest_checkpoint_size": self.latest_checkpoint_size,
            "headline": self.headline,
            "first_bad_seq": self.first_bad_seq,
            "first_bad_range": list(bounded) if (bounded := self.first_bad_range) is not None else None,
            "problems": [p.as_json() for p in self.problems],
            "warnings": self.warnings,
            "against": self.against,
        }
