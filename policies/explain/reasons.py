"""Principal reasons for an adverse decision, from a row's SHAP contributions.

Regulation B § 1002.9(b)(2) asks for the specific principal reasons for adverse action, and the
official commentary treats more than four as unhelpful: the features that pushed this applicant's
score down the most, most damaging first.

A reason may never be a prohibited basis (1002.6(b): race, color, religion, national origin, sex,
marital status, age where not permitted, receipt of public assistance) nor a declared proxy for
one: the caller names those features in `excluded` and they are skipped, whatever their
contribution. The result says which were skipped, so a decision left with no lawful reason can be
referred to a person instead of being given an unlawful one. Which columns are prohibited is the
caller's to declare: this module knows no column names.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from policies.explain.explanation import GlobalExplanation

__all__ = ["MAX_REASONS", "PrincipalReasons", "principal_reasons"]

MAX_REASONS = 4


@dataclass(frozen=True)
class PrincipalReasons:
    """The reasons one row may be given, and the excluded features that lowered its score.

    `reasons`: (feature, negative contribution) pairs, most negative first, at most `max_reasons`.
    `skipped`: every excluded feature with a negative contribution, most negative first: the
    reasons that could not lawfully be given (an audit trail, never text for the applicant).
    """

    reasons: tuple[tuple[str, float], ...]
    skipped: tuple[str, ...]

    @property
    def count(self) -> int:
        """How many reasons remain after the exclusions."""
        return len(self.reasons)


def principal_reasons(
    explanation: GlobalExplanation,
    row: int,
    *,
    max_reasons: int = MAX_REASONS,
    excluded: Collection[str] = frozenset(),
) -> PrincipalReasons:
    """Up to `max_reasons` features with a negative contribution for sampled row `row` (a position
    in `explanation.contributions`), most negative first, ties by feature name, none of them in
    `excluded`.

    A higher score is the favourable outcome, so only features that lowered it can be reasons; a row
    with none (or only excluded ones) gets no reasons.
    """
    if max_reasons < 1:
        raise ValueError(f"max_reasons must be at least 1, got {max_reasons}")
    if not 0 <= row < explanation.sample_size:
        raise IndexError(f"row {row} is not among the {explanation.sample_size} explained rows")
    contributions = explanation.contributions[row]
    negative = [
        (name, float(value)) for name, value in zip(explanation.features, contributions, strict=True) if value < 0
    ]
    negative.sort(key=lambda pair: (pair[1], pair[0]))
    lawful = tuple(pair for pair in negative if pair[0] not in excluded)
    skipped = tuple(name for name, _ in negative if name in excluded)
    return PrincipalReasons(reasons=lawful[:max_reasons], skipped=skipped)
