"""Findings: what a report's executive summary states first, derived from the ledger, never typed.

Every builder returns the findings its evidence supports (a failing or warning rule, evidence
that was insufficient, a group excluded for size, review coverage short of what the intended use
promises, a refused promotion, a reason withheld, an open appeal). The summary says "No findings"
only when `checks_complete` is true and the list is empty: a report whose checks did not all run
says which did not, rather than reading as clean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["SEVERITY_ORDER", "Finding", "Findings", "Severity"]

Severity = Literal["fail", "warn", "insufficient", "info"]
SEVERITY_ORDER: dict[Severity, int] = {"fail": 0, "insufficient": 1, "warn": 2, "info": 3}


@dataclass(frozen=True)
class Finding:
    """One finding: its severity, a one-line statement, the detail, and the entries it rests on."""

    severity: Severity
    title: str
    detail: str = ""
    cites: tuple[int, ...] = ()  # ledger sequence numbers; the builder also cites them in the Evidence


@dataclass(frozen=True)
class Findings:
    """The findings of one report, in the order a reader should meet them (most severe first)."""

    items: tuple[Finding, ...] = ()
    checks_complete: bool = True
    not_run: tuple[str, ...] = field(default=())  # checks that could not run, named for the summary

    def sorted(self) -> tuple[Finding, ...]:
        return tuple(sorted(self.items, key=lambda f: SEVERITY_ORDER[f.severity]))

    @property
    def clean(self) -> bool:
        """True only when every check ran and none found anything."""
        return self.checks_complete and not self.not_run and not self.items
