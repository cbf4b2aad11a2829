"""Policy files: strict schema, shipped packs, and the judge's verdicts (incl. confidence intervals)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from policies.judge import judge, judge_value
from policies.loader import PolicyError, available_packs, load_policy, parse_policy
from policies.results import GroupRow, Measurement
from policies.schema import Rule

MINIMAL = """
name: p
version: "1"
rules:
  - id: ir
    metric: impact_ratio
    by: [sex]
    comparison: ">="
    threshold: 0.8
"""


def test_every_shipped_pack_loads_and_cites_its_law() -> None:
    assert available_packs() == ["ecoa-credit", "eu-ai-act-high-risk", "four-fifths", "nyc-ll144"]
    for name in available_packs():
        loaded = load_policy(name)
        assert loaded.sha256 == hashlib.sha256(loaded.text.encode()).hexdigest()
        assert loaded.text.startswith("#") and loaded.policy.references  # says which rule of law it follows
    assert load_policy("eu-ai-act-high-risk").policy.approvals_required == 2
    nyc = load_policy("nyc-ll144").policy
    assert {tuple(r.by) for r in nyc.rules} == {("sex",), ("race",), ("sex", "race")}
    assert all(r.min_group_share == 0.02 for r in nyc.rules)


def test_a_file_is_hashed_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert load_policy(str(path)).sha256 == hashlib.sha256(MINIMAL.encode()).hexdigest()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [", "not valid YAML"),
        ("- a\n- b\n", "a YAML mapping"),
        (MINIMAL.replace("impact_ratio", "impact_ratioo"), "unknown metric 'impact_ratioo'"),
        (MINIMAL.replace("    by: [sex]\n", ""), "needs `by`"),
        (MINIMAL + "    severty: warn\n", "severty"),  # a typo never turns a rule off
        (MINIMAL.replace('">="', '"=>"'), "comparison"),
        (MINIMAL + "    confidence: 1.5\n", "confidence"),
        (MINIMAL + MINIMAL.split("rules:\n")[1], "distinct"),
        (MINIMAL.replace("metric: impact_ratio\n    by: [sex]", "metric: approvals"), "whole number"),
    ],
)
def test_bad_policies_are_refused_with_the_field_at_fault(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(text)


def test_unknown_file_or_pack() -> None:
    with pytest.raises(PolicyError, match="neither a file nor a shipped pack"):
        load_policy("no-such-pack")


def rule(**extra: object) -> Rule:
    return Rule.model_validate(
        {"id": "r", "metric": "impact_ratio", "by": ["sex"], "comparison": ">=", "threshold": 0.8, **extra}
    )


def test_point_verdicts() -> None:
    assert judge_value(rule(), 0.8, None, None) == "pass"
    assert judge_value(rule(), 0.7999, None, None) == "fail"
    assert judge_value(rule(), None, None, None) == "insufficient_evidence"
    assert judge_value(rule(), float("nan"), None, None) == "insufficient_evidence"
    assert judge_value(rule(), 0.9, None, "group X has 2 positives") == "insufficient_evidence"


def test_confidence_judges_the_whole_interval() -> None:
    confident = rule(confidence=0.95)
    assert judge_value(confident, 0.9, (0.85, 0.95), None) == "pass"
    assert judge_value(confident, 0.6, (0.5, 0.7), None) == "fail"
    assert judge_value(confident, 0.82, (0.75, 0.9), None) == "insufficient_evidence"  # not a pass
    assert judge_value(confident, 0.9, None, None) == "insufficient_evidence"


def test_a_failing_message_names_group_value_threshold_and_exclusions() -> None:
    measurement = Measurement(
        value=0.357,
        worst_group="Female",
        groups=[
            GroupRow("Male", 1000, 0.3, ratio=1.0),
            GroupRow("Female", 500, 0.107, ratio=0.357),
            GroupRow("Other", 12, 0.1, excluded="n=12 < minimum group size 50"),
        ],
    )
    verdict = judge(rule(), measurement)
    assert verdict.verdict == "fail"
    for needle in ("impact_ratio by sex", "0.357", "Female", ">= 0.8", "FAIL", "Other (n=12 < minimum group size 50)"):
        assert needle in verdict.message
