"""Principal reasons for an adverse decision, from a row's SHAP contributions.

Regulation B § 1002.9(b)(2) asks for the specific principal reasons for adverse action, and the
official commentary treats more than four as unhelpful: the features that pushed this applicant's
score down the most, most damaging first.
"""

from __future__ import annotations

from policies.explain.explanation import GlobalExplanation

__all__ = ["MAX_REASONS", "principal_reasons"]

MAX_REASONS = 4


def principal_reasons(
    explanation: GlobalExplanation, row: int, *, max_reasons: int = MAX_REASONS
) -> list[tuple[str, float]]:
    """Up to `max_reasons` (feature, contribution) pairs with a negative contribution for sampled row
    `row` (a position in `explanation.contributions`), most negative first, ties by feature name.

    A higher score is the favourable outcome, so only features that lowered it can be reasons; a row
    with none gets an empty list.
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
    return negative[:max_reasons]
