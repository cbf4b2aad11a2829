"""Groups for by-group metrics: one label per row, which groups are too small to compare, and
each group's counts.

Exclusion is decided here, once, from the whole evaluation set, so performance and fairness
rules agree on which groups count. Excluded groups are left out of the comparison but are still
reported with their size and rate: a regulator (NYC LL144, 6 RCNY 5-301(d)) allows leaving a
category under 2% of the data out of the impact ratios, not out of the audit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from policies.metrics._common import IntArray, Need, need_problem
from policies.results import MetricInputError

__all__ = ["SEPARATOR", "Partition", "exclusions", "group_labels", "partition"]

SEPARATOR = " × "


def group_labels(sensitive: pd.DataFrame) -> pd.Series:
    """One label per row; several columns make intersectional groups, their values joined with
    " × " in column order (e.g. "Female × Black")."""
    if isinstance(sensitive, pd.Series):
        sensitive = sensitive.to_frame()
    if not isinstance(sensitive, pd.DataFrame):
        raise MetricInputError(f"sensitive attributes must be a DataFrame, got {type(sensitive).__name__}")
    if sensitive.shape[1] == 0:
        raise MetricInputError("the sensitive frame has no columns; name at least one sensitive attribute")
    columns = [sensitive.iloc[:, i] for i in range(sensitive.shape[1])]
    for column in columns:
        missing = int(column.isna().sum())
        if missing:
            raise MetricInputError(
                f"sensitive column {column.name!r} has {missing} missing values; "
                "fill them with an explicit category (e.g. 'Unknown') or drop those rows"
            )
    parts = [column.astype(str) for column in columns]
    labels = parts[0]
    for part in parts[1:]:
        labels = labels + SEPARATOR + part
    if len(parts) > 1 and labels.nunique() != len(sensitive.drop_duplicates()):
        raise MetricInputError(
            f"sensitive values contain {SEPARATOR.strip()!r}, so intersectional labels would merge distinct groups"
        )
    return labels.rename(SEPARATOR.join(str(column.name) for column in columns))


def _percent(share: float, minimum: float) -> tuple[str, str]:
    """Both shares with enough decimals that a share just under the minimum never prints as equal."""
    for decimals in range(1, 6):
        shown, limit = f"{share:.{decimals}%}", f"{minimum:.{decimals}%}"
        if shown != limit:
            return shown, limit
    return f"{share:.6%}", f"{minimum:.6%}"


def exclusions(labels: pd.Series, *, min_group_size: int, min_group_share: float) -> dict[str, str]:
    """Groups left out of the comparison, each with a reason a reader can check: too few rows
    (`min_group_size`) or too small a share of all rows (`min_group_share`)."""
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, int) or min_group_size < 0:
        raise MetricInputError(f"min_group_size must be a non-negative integer, got {min_group_size!r}")
    if not 0.0 <= min_group_share < 1.0:
        raise MetricInputError(f"min_group_share must be in [0, 1), got {min_group_share!r}")
    total = len(labels)
    reasons: dict[str, str] = {}
    for group, count in sorted(labels.value_counts(sort=False).items(), key=lambda item: str(item[0])):
        why: list[str] = []
        if count < min_group_size:
            why.append(f"n={count} < minimum group size {min_group_size}")
        share = count / total
        if share < min_group_share:
            shown, limit = _percent(share, min_group_share)
            why.append(f"{shown} of rows < {limit} minimum share (6 RCNY 5-301(d))")
        if why:
            reasons[str(group)] = "; ".join(why)
    return reasons


@dataclass(frozen=True)
class Partition:
    """Rows split into groups (names sorted, as fairlearn orders them) with per-group counts."""

    labels: pd.Series  # one label per row
    names: list[str]
    codes: IntArray  # per row, index into `names`
    counts: IntArray
    positives: IntArray  # actual positives (y_true == 1)
    selected: IntArray  # predicted positives (y_pred == 1)
    excluded: dict[str, str]

    @property
    def included(self) -> list[int]:
        return [i for i, name in enumerate(self.names) if name not in self.excluded]

    @property
    def negatives(self) -> IntArray:
        return self.counts - self.positives

    def problems(self, needs: frozenset[Need], metric: str, min_positives: int = 1) -> list[str]:
        """Why `metric` cannot be judged on some included group (raises for a group without any
        positives or negatives the metric needs: see `need_problem`)."""
        found = (
            need_problem(
                needs,
                metric,
                self.names[g],
                count=int(self.counts[g]),
                positives=int(self.positives[g]),
                selected=int(self.selected[g]),
                min_positives=min_positives,
            )
            for g in self.included
        )
        return [problem for problem in found if problem is not None]

    def included_rows(self) -> tuple[npt.NDArray[np.bool_], IntArray]:
        """Which rows belong to included groups, and their group numbered 0..k-1 among those."""
        included = self.included
        renumber = np.full(len(self.names), -1, dtype=np.int64)
        renumber[included] = np.arange(len(included))
        mask = np.isin(self.codes, included)
        return mask, renumber[self.codes[mask]]


def partition(
    sensitive: pd.DataFrame,
    y_true: IntArray,
    y_pred: IntArray,
    *,
    min_group_size: int,
    min_group_share: float,
) -> Partition:
    """Label every row, count each group, and decide the exclusions."""
    labels = group_labels(sensitive)
    if len(labels) != len(y_true):
        raise MetricInputError(
            f"inputs have different numbers of rows: sensitive has {len(labels)}, y_true has {len(y_true)}"
        )
    codes, uniques = pd.factorize(labels.to_numpy(dtype=object), sort=True)
    names = [str(u) for u in uniques]
    size = len(names)
    return Partition(
        labels=labels,
        names=names,
        codes=codes.astype(np.int64),
        counts=np.bincount(codes, minlength=size).astype(np.int64),
        positives=np.bincount(codes, weights=y_true, minlength=size).astype(np.int64),
        selected=np.bincount(codes, weights=y_pred, minlength=size).astype(np.int64),
        excluded=exclusions(labels, min_group_size=min_group_size, min_group_share=min_group_share),
    )
