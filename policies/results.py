"""What a metric computation returns, before any threshold is applied.

The metric modules (performance, fairness, explainability, data) measure; `policies.judge`
compares with thresholds. Keeping the two apart lets the service re-judge a recorded
evaluation against the published policy and get the same verdict as the CLI did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger.errors import InvalidInputError

__all__ = ["GroupRow", "InsufficientEvidence", "Measurement", "MetricInputError"]


class MetricInputError(InvalidInputError, ValueError):
    """The data cannot be evaluated at all (missing column, non-binary target, NaNs, empty file,
    features that do not match the model): a usage error, exit 2 / HTTP 422, nothing recorded."""


class InsufficientEvidence(Exception):  # noqa: N818 - a verdict, not a bug
    """The data cannot support a verdict for one rule (too few members or positives in a group,
    an undefined metric, fewer than two groups left to compare). Not a pass."""


@dataclass(frozen=True)
class GroupRow:
    """One group's line in a per-group table. `group` joins intersectional values with " × "
    (e.g. "Female × Black"); `excluded` says why a group was left out of the comparison."""

    group: str
    count: int
    value: float | None
    selected: int | None = None  # predicted positives
    positives: int | None = None  # actual positives (labels)
    ratio: float | None = None  # this group's value over the reference group's (impact ratio)
    excluded: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "count": self.count,
            "value": self.value,
            "selected": self.selected,
            "positives": self.positives,
            "ratio": self.ratio,
            "excluded": self.excluded,
        }


@dataclass(frozen=True)
class Measurement:
    """A metric's value (None when undefined), its bootstrap interval when one was asked for,
    the group at which it was worst (for by-group metrics), per-group rows, and notes."""

    value: float | None
    interval: tuple[float, float] | None = None
    worst_group: str | None = None
    groups: list[GroupRow] = field(default_factory=list)
    insufficient: str | None = None  # why no verdict is possible, if so
    details: dict[str, Any] = field(default_factory=dict)
