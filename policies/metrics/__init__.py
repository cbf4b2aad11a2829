"""Measurements for policy rules: model performance and group fairness.

These modules measure and never judge: `policies.judge` compares a `Measurement` with a rule's
threshold. Bad input raises `MetricInputError`; too little evidence is a `Measurement` whose
`insufficient` says why.
"""

from policies.metrics._common import MetricInfo
from policies.metrics.fairness import FAIRNESS_METRICS, measure_fairness
from policies.metrics.groups import exclusions, group_labels
from policies.metrics.performance import PERFORMANCE_METRICS, measure_performance

__all__ = [
    "FAIRNESS_METRICS",
    "PERFORMANCE_METRICS",
    "MetricInfo",
    "exclusions",
    "group_labels",
    "measure_fairness",
    "measure_performance",
]
