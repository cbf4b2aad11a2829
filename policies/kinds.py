"""The policy kinds, declared by the policy engine: `policy.published` and `evaluation.recorded`.

An evaluation is re-judged against its published policy when it is appended, whatever the path
(HTTP, `govledger gate`, `govledger append`, the Python API): this is the append check of
`evaluation.recorded`, run in the append's transaction before the entry is projected. Its rules
must be exactly the policy's evaluated rules, each with the policy's metric, comparison,
threshold, severity, groups and confidence; every rule verdict must follow from the recorded value
(`policies.judge.judge_value`); a rule may be `not_evaluated` only if it is over a protected
class the recorded mapping leaves out, and every other rule must be evaluated; and the overall
verdict must follow from the rule verdicts and the policy's class requirements
(`policies.judge.overall_verdict`, `policies.protected.coverage`). Otherwise it is refused (422)
and nothing is written. So
promotion, which trusts the stored verdicts, cannot be fooled by a record that skipped the gate.

The payload models, the projections and the read of the published policy text are `ledger`'s
(`ledger.lineage.policy_schemas`, `ledger.lineage.policy_projector`); `ledger` never imports this.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ledger.access.roles import Role
from ledger.errors import InvalidInputError, NotFoundError
from ledger.kinds.spec import KindSpec, TraceRole
from ledger.lineage.kinds import model_subject
from ledger.lineage.policy_projector import project_evaluation, project_policy
from ledger.lineage.policy_reads import published_policy, published_policy_text
from ledger.lineage.policy_schemas import EvaluationRecorded, PolicyPublished
from ledger.log.entry import SealedEntry
from ledger.storage.db import Connection
from policies.judge import NOT_EVALUATED, judge_value, overall_verdict
from policies.loader import PolicyError, parse_policy
from policies.protected import coverage
from policies.schema import Policy, Rule

__all__ = ["POLICY_KINDS", "check_evaluation", "rejudge_evaluation"]


@lru_cache(maxsize=64)
def _parsed(text: str) -> tuple[Policy, tuple[Rule, ...]]:
    """The policy and the rules an evaluation under it must report (approval rules are the ledger's)."""
    policy = parse_policy(text, source="the published policy").policy
    return policy, tuple(rule for rule in policy.rules if rule.category != "approval")


def _mismatch(message: str, problems: list[dict[str, Any]], kind: str) -> InvalidInputError:
    return InvalidInputError(message, [{**p, "type": kind} for p in problems])


def rejudge_evaluation(conn: Connection, entry: SealedEntry, payload: EvaluationRecorded) -> None:
    """The append check of `evaluation.recorded` (see the module doc)."""
    check_evaluation(conn, payload)


def check_evaluation(conn: Connection, payload: EvaluationRecorded) -> None:
    """Refuse an evaluation whose verdicts do not follow from its published policy (InvalidInputError,
    422), or whose policy is not published (NotFoundError, 404)."""
    published = published_policy(conn, payload.policy.sha256)
    if published is None:
        raise NotFoundError(
            f"policy {payload.policy.sha256[:12]} is not published; a risk officer must publish it first"
        )
    try:
        policy, expected = _parsed(published_policy_text(conn, published))
    except PolicyError as exc:
        raise InvalidInputError(f"policy {published.name} version {published.version} cannot be read: {exc}") from None
    if [r.id for r in expected] != [r.rule_id for r in payload.rules]:
        raise _mismatch(
            "the evaluation's rules are not the policy's rules",
            [{"loc": ["rules"], "msg": f"expected rules {[r.id for r in expected]}"}],
            "policy_mismatch",
        )
    # Evaluations recorded before protected classes were mapped named columns; all their classes count as mapped.
    used = payload.protected_classes
    mapped = set(used.mapping) if used is not None else set(policy.sensitive_attributes)
    requirements = policy.protected_classes
    covered = coverage(
        policy.sensitive_attributes,
        requirements.required,
        requirements.at_least,
        mapped,
        policy=f"policy {policy.name}",
    )
    expected_verdict = overall_verdict(((r.severity, r.verdict) for r in payload.rules), shortfall=covered.shortfall)
    if payload.verdict != expected_verdict:
        message = f"verdict {payload.verdict!r} does not follow from the rule verdicts ({expected_verdict!r})"
        raise _mismatch(message, [{"loc": ["data", "verdict"], "msg": message}], "verdict_mismatch")
    problems: list[dict[str, Any]] = []
    for rule, result in zip(expected, payload.rules, strict=True):
        declared = (result.metric, result.comparison, result.threshold, result.severity, result.by, result.confidence)
        if declared != (rule.metric, rule.comparison, rule.threshold, rule.severity, rule.by, rule.confidence):
            problems.append({"loc": ["rules", rule.id], "msg": "metric, threshold or severity differ from the policy"})
            continue
        unmapped = [name for name in rule.by if name not in mapped]
        if unmapped or result.verdict == NOT_EVALUATED:
            if not (unmapped and result.verdict == NOT_EVALUATED):
                should = "not_evaluated" if unmapped else "evaluated"
                problems.append({"loc": ["rules", rule.id], "msg": f"the recorded class mapping says it is {should}"})
            continue
        interval = (result.interval[0], result.interval[1]) if result.interval else None
        verdict = judge_value(rule, result.value, interval, result.details.get("insufficient"))
        if verdict != result.verdict:
            problems.append({"loc": ["rules", rule.id], "msg": f"the policy gives {verdict!r}, not {result.verdict!r}"})
    if problems:
        raise _mismatch(
            "the evaluation's verdicts do not follow from the published policy", problems, "verdict_mismatch"
        )


def _policy_subject(payload: PolicyPublished) -> str:
    return f"policy:{payload.name}@{payload.version}"


POLICY_KINDS: tuple[KindSpec, ...] = (
    KindSpec(
        kind="policy.published",
        payload=PolicyPublished,
        # risk officers own the policy that gates promotion; a CI key must not be able to weaken it
        writers=frozenset({Role.APPROVER}),
        subject=_policy_subject,
        checks=(),
        projection=project_policy,
        trace_role=TraceRole(node="policy", member="policies"),
    ),
    KindSpec(
        kind="evaluation.recorded",
        payload=EvaluationRecorded,
        writers=frozenset({Role.CI}),
        subject=model_subject,
        checks=(rejudge_evaluation,),
        projection=project_evaluation,
        trace_role=TraceRole(node="evaluation", member="evaluations"),
    ),
)
