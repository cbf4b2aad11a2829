"""The arithmetic of a NYC Local Law 144 bias audit (6 RCNY 5-301), on plain records.

One record per assessed individual: their sex and race/ethnicity categories (None when unknown),
whether they were selected, and their score if one was recorded. Per dimension (sex,
race/ethnicity, and the intersection sex × race/ethnicity):
- selection rate = selected / n per category; impact ratio = rate / the highest rate among the
  categories not excluded (5-301(b));
- scoring-type variant: the median score of the full sample, the scoring rate (share scoring
  above the median) per category and its impact ratio (5-301(c));
- a category under 2% of the individuals whose category is known may be excluded from the impact
  ratios (5-301(d)); it is still listed with its count and rate;
- an impact ratio below 0.8 is flagged (the four-fifths rule of 29 CFR 1607.4(D); LL144 itself
  sets no threshold), and each category's rate is compared with the reference (most-selected)
  category's by a two-proportion z-test (normal approximation).

Ratios and the 2% and four-fifths comparisons are exact (fractions of integers), so a ratio of
exactly 0.800 is not flagged through a rounding error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

__all__ = [
    "BOTH",
    "EXCLUSION_SHARE",
    "FOUR_FIFTHS",
    "RACE",
    "SEX",
    "TIED_MEDIAN_SHARE",
    "AuditRecord",
    "CategoryRow",
    "DimensionTable",
    "ScoringAudit",
    "audit_dimension",
    "intersection",
    "scoring_audit",
    "selection_audit",
    "two_proportion_p",
]

EXCLUSION_SHARE = Fraction(2, 100)  # 6 RCNY 5-301(d)
FOUR_FIFTHS = Fraction(4, 5)  # 29 CFR 1607.4(D)
# 5-301(c) defines the scoring rate against the median of the full sample and gives no other
# statistic. When half the scores or more sit exactly on the median, the rule's rate is still
# computed as written, and the audit says the median is not meaningful and points to the
# selection rates (5-301(b)), which the rule allows for any AEDT that outputs a selection.
TIED_MEDIAN_SHARE = 0.5


@dataclass(frozen=True)
class AuditRecord:
    sex: str | None
    race: str | None
    selected: bool
    score: float | None


@dataclass(frozen=True)
class CategoryRow:
    category: str
    n: int
    hits: int  # selected (selection-type) or scored above the median (scoring-type)
    rate: float
    share: float  # of the individuals whose category is known in this dimension
    excluded: bool  # under 2%: left out of the impact ratios (5-301(d))
    impact_ratio: float | None  # None when excluded or when no category has any hit
    reference: bool  # the most-selected (highest-scoring) category: the denominator
    below_four_fifths: bool
    z: float | None
    p_value: float | None  # two-sided, vs the reference category; None for the reference itself


@dataclass(frozen=True)
class DimensionTable:
    dimension: str
    known: int
    unknown: int
    reference: str | None
    rows: list[CategoryRow]

    @property
    def excluded(self) -> list[CategoryRow]:
        return [row for row in self.rows if row.excluded]

    @property
    def flagged(self) -> list[CategoryRow]:
        return [row for row in self.rows if row.below_four_fifths]


@dataclass(frozen=True)
class ScoringAudit:
    median: float
    scored: int  # individuals with a score (the full sample of the median)
    unscored: int
    tables: list[DimensionTable]
    tie_share: float = 0.0  # share of the scores exactly equal to the median

    @property
    def tied(self) -> bool:
        """At least half the scores equal the median: "above the median" then means "above a mass point",
        and the scoring rate measures only the tail above it (`TIED_MEDIAN_SHARE`)."""
        return self.tie_share >= TIED_MEDIAN_SHARE


def two_proportion_p(hits_a: int, n_a: int, hits_b: int, n_b: int) -> tuple[float | None, float | None]:
    """(z, two-sided p) of the pooled two-proportion z-test of a vs b; (None, None) when undefined."""
    if n_a == 0 or n_b == 0:
        return None, None
    pooled = (hits_a + hits_b) / (n_a + n_b)
    variance = pooled * (1 - pooled) * (1 / n_a + 1 / n_b)
    if variance <= 0:  # both rates 0 or both 1: no difference to test
        return 0.0, 1.0
    z = (hits_a / n_a - hits_b / n_b) / math.sqrt(variance)
    return z, math.erfc(abs(z) / math.sqrt(2))


def _order(counts: pd.DataFrame) -> pd.DataFrame:
    """Largest categories first, then by name: a stable, meaningful order."""
    return counts.assign(_neg=-counts["n"]).sort_values(["_neg", "category"], kind="mergesort").drop(columns="_neg")


def audit_dimension(dimension: str, categories: Sequence[str | None], hits: Sequence[bool]) -> DimensionTable:
    """Per-category counts, rates, impact ratios, exclusions, four-fifths flags and z-tests."""
    if len(categories) != len(hits):
        raise ValueError("categories and hits differ in length")
    frame = pd.DataFrame({"category": list(categories), "hit": [bool(h) for h in hits]})
    known_frame = frame[frame["category"].notna()]
    known = len(known_frame)
    unknown = len(frame) - known
    if known == 0:
        return DimensionTable(dimension, 0, unknown, None, [])
    grouped = known_frame.groupby("category", sort=True)["hit"]
    counts = _order(pd.DataFrame({"n": grouped.size(), "hits": grouped.sum()}).reset_index())
    items = [(str(c), int(n), int(h)) for c, n, h in zip(counts["category"], counts["n"], counts["hits"], strict=True)]

    excluded = {c for c, n, _ in items if Fraction(n, known) < EXCLUSION_SHARE}
    included = [(c, n, h) for c, n, h in items if c not in excluded]
    reference: tuple[str, int, int] | None = None
    for item in included:  # highest rate; ties go to the earlier (larger) category
        if reference is None or Fraction(item[2], item[1]) > Fraction(reference[2], reference[1]):
            reference = item
    best = Fraction(reference[2], reference[1]) if reference is not None else Fraction(0)

    rows = []
    for category, n, h in items:
        rate = Fraction(h, n)
        ratio = rate / best if category not in excluded and best > 0 else None
        z, p = (None, None)
        is_reference = reference is not None and category == reference[0]
        if reference is not None and not is_reference:
            z, p = two_proportion_p(h, n, reference[2], reference[1])
        rows.append(
            CategoryRow(
                category=category,
                n=n,
                hits=h,
                rate=float(rate),
                share=n / known,
                excluded=category in excluded,
                impact_ratio=None if ratio is None else float(ratio),
                reference=is_reference,
                below_four_fifths=ratio is not None and ratio < FOUR_FIFTHS,
                z=z,
                p_value=p,
            )
        )
    return DimensionTable(dimension, known, unknown, None if reference is None else reference[0], rows)


def intersection(sex: str | None, race: str | None) -> str | None:
    return None if sex is None or race is None else f"{sex} × {race}"


SEX, RACE, BOTH = "Sex", "Race/ethnicity", "Intersectional (sex × race/ethnicity)"


def selection_audit(records: Sequence[AuditRecord]) -> list[DimensionTable]:
    hits = [r.selected for r in records]
    return [
        audit_dimension(SEX, [r.sex for r in records], hits),
        audit_dimension(RACE, [r.race for r in records], hits),
        audit_dimension(BOTH, [intersection(r.sex, r.race) for r in records], hits),
    ]


def scoring_audit(records: Sequence[AuditRecord]) -> ScoringAudit | None:
    """5-301(c) on the records that carry a score; None when no score was recorded."""
    scored = [r for r in records if r.score is not None]
    if not scored:
        return None
    scores = np.array([float(r.score) for r in scored if r.score is not None], dtype=float)
    median = float(np.median(scores))
    above = [bool(s > median) for s in scores]
    return ScoringAudit(
        median=median,
        scored=len(scored),
        unscored=len(records) - len(scored),
        tie_share=float(np.mean(scores == median)),
        tables=[
            audit_dimension(SEX, [r.sex for r in scored], above),
            audit_dimension(RACE, [r.race for r in scored], above),
            audit_dimension(BOTH, [intersection(r.sex, r.race) for r in scored], above),
        ],
    )
