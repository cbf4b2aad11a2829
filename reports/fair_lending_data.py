"""The arithmetic of a fair-lending analysis (ECOA / Regulation B disparate impact), on plain records.

Per protected class, each group's approval rate (approved / applicants), and against the control
group (a declared one, or else the most-favoured supported group: the highest approval rate):
- the adverse impact ratio (AIR) = group rate / control rate, flagged under 0.8 (the four-fifths
  screen regulators and lenders use, 29 CFR 1607.4(D) by analogy; ECOA itself sets no number),
  with a 95% confidence interval (Katz log method for a ratio of two proportions);
- Fisher's exact test of the 2×2 table (approved / denied × group / control), two-sided, so that
  a small group's p-value is exact rather than a normal approximation;
- the standardized mean difference of the model's scores, (mean group − mean control) / the
  root of the two groups' mean variance (Cohen's d), when scores were recorded.

A group with fewer than `min_group` applicants, or under `min_share` of the applicants whose group
is known, is not supported by the data: it is listed with its count and rate and left out of the
ratios (1607.4(D): "differences ... based on small numbers"), and so cannot be the control group.
These are the limits of the shipped four-fifths pack, so the production figures are comparable
with the evaluation's.
A class with fewer than two supported groups has no ratio at all, and says why.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

__all__ = [
    "FOUR_FIFTHS",
    "MIN_GROUP",
    "MIN_SHARE",
    "ClassAnalysis",
    "GroupRow",
    "air_interval",
    "analyse_class",
    "band_label",
    "standardized_mean_difference",
]

FOUR_FIFTHS = Fraction(4, 5)
MIN_GROUP = 50  # the four-fifths pack's min_group_size; 1607.4(D) small numbers
MIN_SHARE = Fraction(2, 100)  # the four-fifths pack's min_group_share (the line 6 RCNY 5-301(d) draws)
Z_95 = 1.959963984540054


@dataclass(frozen=True)
class GroupRow:
    group: str
    n: int
    approved: int
    rate: float
    supported: bool  # at least min_group applicants
    control: bool
    air: float | None
    interval: tuple[float, float] | None
    p_value: float | None  # Fisher's exact, two-sided, vs the control group
    mean_score: float | None
    smd: float | None
    below_four_fifths: bool


@dataclass(frozen=True)
class ClassAnalysis:
    name: str  # the protected class
    known: int
    unknown: int
    control: str | None
    declared_control: bool
    rows: list[GroupRow]
    no_ratio_reason: str | None

    @property
    def unsupported(self) -> list[GroupRow]:
        return [row for row in self.rows if not row.supported]

    @property
    def flagged(self) -> list[GroupRow]:
        return [row for row in self.rows if row.below_four_fifths]

    @property
    def lowest(self) -> GroupRow | None:
        rated = [row for row in self.rows if row.air is not None and not row.control]
        return min(rated, key=lambda row: (row.air, row.group)) if rated else None


def band_label(value: float, edges: Sequence[float]) -> str:
    """The band of a numeric value, cut at `edges` (each edge starts a band): "under 62", "62 and over"."""
    cuts = sorted(edges)
    if not cuts or value < cuts[0]:
        return f"under {cuts[0]:g}" if cuts else f"{value:g}"
    for low, high in itertools.pairwise(cuts):
        if low <= value < high:
            return f"{low:g} to under {high:g}"
    return f"{cuts[-1]:g} and over"


def air_interval(a: int, n1: int, c: int, n2: int) -> tuple[float, float] | None:
    """95% interval of (a/n1)/(c/n2), Katz log method; None when either count of approvals is 0."""
    if a == 0 or c == 0 or n1 == 0 or n2 == 0:
        return None
    ratio = (a / n1) / (c / n2)
    se = math.sqrt(max(0.0, 1 / a - 1 / n1 + 1 / c - 1 / n2))
    return ratio * math.exp(-Z_95 * se), ratio * math.exp(Z_95 * se)


def _fisher(a: int, n1: int, c: int, n2: int) -> float:
    from scipy.stats import fisher_exact

    _, p = fisher_exact([[a, n1 - a], [c, n2 - c]], alternative="two-sided")
    return float(p)


def standardized_mean_difference(group: Sequence[float], control: Sequence[float]) -> float | None:
    """Cohen's d of group vs control; None with fewer than two scores in either, or no spread."""
    if len(group) < 2 or len(control) < 2:
        return None
    spread = math.sqrt((statistics.variance(group) + statistics.variance(control)) / 2)
    if spread == 0:
        return None
    return (statistics.fmean(group) - statistics.fmean(control)) / spread


def analyse_class(
    name: str,
    categories: Sequence[str | None],
    approved: Sequence[bool],
    scores: Sequence[float | None],
    *,
    min_group: int = MIN_GROUP,
    min_share: Fraction = MIN_SHARE,
    control: str | None = None,
) -> ClassAnalysis:
    """AIR, interval, Fisher's p and SMD per group of one class (None: the applicant's group is unknown)."""
    if not len(categories) == len(approved) == len(scores):
        raise ValueError("categories, approved and scores differ in length")
    groups: dict[str, tuple[list[bool], list[float]]] = {}
    unknown = 0
    for category, ok, score in zip(categories, approved, scores, strict=True):
        if category is None:
            unknown += 1
            continue
        outcomes, scored = groups.setdefault(category, ([], []))
        outcomes.append(bool(ok))
        if score is not None:
            scored.append(float(score))
    counts = {g: (len(o), sum(o)) for g, (o, _) in groups.items()}
    order = sorted(counts, key=lambda g: (-counts[g][0], g))
    known = sum(n for n, _ in counts.values())
    supported = [g for g in order if counts[g][0] >= min_group and Fraction(counts[g][0], known) >= min_share]
    chosen: str | None = None
    reason: str | None = None
    if control is not None and control in supported:
        chosen = control
    elif control is not None:
        reason = f"the declared control group {control!r} is too small to compare with (or has no applicant)"
    elif supported:
        chosen = max(supported, key=lambda g: (Fraction(counts[g][1], counts[g][0]), -order.index(g)))
    if not groups:
        reason = "no applicant's group is known for this class"
    elif reason is None and len(supported) < 2:
        reason = f"fewer than two groups have {min_group} or more applicants and {float(min_share):.0%} of the known"
    elif chosen is not None and counts[chosen][1] == 0:
        reason = "the control group has no approval, so no ratio is defined"
    rows = []
    for group in order:
        n, hits = counts[group]
        mean = statistics.fmean(groups[group][1]) if groups[group][1] else None
        is_control = group == chosen
        air = interval = p = smd = None
        flagged = False
        if reason is None and chosen is not None and group in supported and not is_control:
            cn, ch = counts[chosen]
            ratio = Fraction(hits, n) / Fraction(ch, cn)
            air = float(ratio)
            flagged = ratio < FOUR_FIFTHS
            interval = air_interval(hits, n, ch, cn)
            p = _fisher(hits, n, ch, cn)
            smd = standardized_mean_difference(groups[group][1], groups[chosen][1])
        rows.append(
            GroupRow(
                group=group,
                n=n,
                approved=hits,
                rate=hits / n,
                supported=group in supported,
                control=is_control,
                air=1.0 if is_control and reason is None else air,
                interval=interval,
                p_value=p,
                mean_score=mean,
                smd=smd,
                below_four_fifths=flagged,
            )
        )
    return ClassAnalysis(name, known, unknown, chosen, control is not None, rows, reason)
