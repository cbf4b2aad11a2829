"""Compare a measurement with its rule: pass, fail, or insufficient evidence.

With `confidence`, the rule is judged on the bootstrap interval: it passes only if the whole
interval is on the passing side, fails only if the whole interval is on the failing side, and
otherwise the data cannot support a verdict at that confidence (insufficient evidence, which is
not a pass). Every recorded evaluation is re-judged with this same function when it is appended
(`policies.kinds`), so the CLI, the HTTP API and the Python API give the same verdict for the
same policy.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from policies.results import Measurement
from policies.schema import Comparison, Rule

__all__ = [
    "NOT_EVALUATED",
    "Judgement",
    "compare",
    "judge",
    "judge_value",
    "not_evaluated",
    "overall_verdict",
]

NOT_EVALUATED = "not_evaluated"

_OPERATORS: dict[Comparison, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": lambda a, b: math.isclose(a, b, rel_tol=0.0, abs_tol=1e-12),
}


@dataclass(frozen=True)
class Judgement:
    verdict: str  # "pass" | "fail" | "insufficient_evidence" | "not_evaluated"
    message: str


def compare(value: float, comparison: Comparison, threshold: float) -> bool:
    return _OPERATORS[comparison](value, threshold)


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def judge_value(rule: Rule, value: float | None, interval: tuple[float, float] | None, insufficient: str | None) -> str:
    """The verdict alone, from recorded numbers (used to re-check a submitted evaluation)."""
    if insufficient is not None or value is None or not math.isfinite(value):
        return "insufficient_evidence"
    if rule.confidence is not None:
        if interval is None:
            return "insufficient_evidence"
        low, high = interval
        low_ok, high_ok = compare(low, rule.comparison, rule.threshold), compare(high, rule.comparison, rule.threshold)
        if low_ok and high_ok:
            return "pass"
        if not low_ok and not high_ok:
            return "fail"
        return "insufficient_evidence"
    return "pass" if compare(value, rule.comparison, rule.threshold) else "fail"


def overall_verdict(rule_verdicts: Iterable[tuple[str, str]], *, shortfall: str | None = None) -> str:
    """The evaluation's verdict from its rules' (severity, verdict): blocked if any blocking rule
    failed; else insufficient evidence if any blocking rule could not be judged, if the policy's
    protected classes are not mapped as it requires (`shortfall`), or if no rule could be evaluated
    at all (every one over an unmapped class); else passed. Warnings and rules not evaluated never
    pass a model on their own. The one place this is computed: the gate uses it to report, and
    the `evaluation.recorded` append check uses it to refuse a record that claims otherwise."""
    verdicts = list(rule_verdicts)
    blocking = [verdict for severity, verdict in verdicts if severity == "block"]
    if "fail" in blocking:
        return "blocked"
    if shortfall is not None or "insufficient_evidence" in blocking:
        return "insufficient_evidence"
    if verdicts and all(verdict == NOT_EVALUATED for _, verdict in verdicts):
        return "insufficient_evidence"
    return "passed"


def not_evaluated(rule: Rule, unmapped: list[str]) -> Judgement:
    """The judgement of a rule over a protected class the user did not map to a column."""
    subject = rule.metric + f" by {' × '.join(rule.by)}"
    names = ", ".join(unmapped)
    return Judgement(
        NOT_EVALUATED,
        f"{subject}: not evaluated: protected class {names} is not mapped to a column "
        f"(--sensitive {unmapped[0]}=COLUMN)",
    )


def judge(rule: Rule, measurement: Measurement) -> Judgement:
    verdict = judge_value(rule, measurement.value, measurement.interval, measurement.insufficient)
    subject = rule.metric + (f" by {' × '.join(rule.by)}" if rule.by else "")
    where = f" (worst group: {measurement.worst_group})" if measurement.worst_group else ""
    required = f"required {rule.comparison} {_fmt(rule.threshold)}"
    if verdict == "insufficient_evidence":
        reason = measurement.insufficient
        if reason is None and measurement.interval is not None and measurement.value is not None:
            low, high = measurement.interval
            reason = (
                f"the {rule.confidence:.0%} interval [{_fmt(low)}, {_fmt(high)}] straddles the threshold"
                if rule.confidence is not None
                else "undefined value"
            )
        message = f"{subject}: insufficient evidence: {reason or 'the metric is undefined'}; {required}"
    else:
        shown = _fmt(measurement.value) if measurement.value is not None else "n/a"
        interval = ""
        if rule.confidence is not None and measurement.interval is not None:
            interval = (
                f", {rule.confidence:.0%} interval [{_fmt(measurement.interval[0])}, {_fmt(measurement.interval[1])}]"
            )
        message = f"{subject} = {shown}{where}{interval}; {required}: {'pass' if verdict == 'pass' else 'FAIL'}"
    if verdict == "fail":
        message += _named(measurement.details)
    excluded = [g for g in measurement.groups if g.excluded]
    if excluded:
        message += "; excluded: " + ", ".join(f"{g.group} ({g.excluded})" for g in excluded[:10])
    return Judgement(verdict, message)


def _named(details: dict[str, Any]) -> str:
    """What a failing count is made of, by name: the features or fields at fault."""
    problems = details.get("problems") or []
    ranked = details.get("in_top_k") or []
    named = [str(p) for p in problems] or [f"{r['feature']} ranks {r['rank']}" for r in ranked]
    if not named:
        return ""
    more = f" and {len(named) - 5} more" if len(named) > 5 else ""
    return " (" + "; ".join(named[:5]) + more + ")"
