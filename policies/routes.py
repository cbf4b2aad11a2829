"""HTTP endpoints of the policy engine, mounted on the service by the composition root.

`approver` publishes policies; `ci` records evaluations (computed where the model and data are,
by `govledger gate --server`); every role reads. A submitted evaluation is re-judged here
against the published policy text with the same `judge` the CLI uses: its rules must be exactly
the policy's evaluated rules, and every verdict must follow from the recorded value, or it is
refused (422). So the CLI, the HTTP API and the Python API cannot disagree on a verdict.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field

from ledger.access.api_keys import Principal, Role
from ledger.api import Ledger
from ledger.errors import InvalidInputError, NotFoundError
from ledger.lineage.policy_reads import (
    evaluations_page,
    newest_active_policy,
    published_policies,
    published_policy,
    recorded_evaluation,
)
from ledger.lineage.policy_schemas import EvaluationRecorded
from ledger.lineage.queries import MAX_PAGE
from ledger.service.deps import MAX_SEQ, LedgerDep, Reader, json_body_only, require_roles
from ledger.service.responses import READ, READ_ONE, WRITE, errors
from ledger.storage.db import Connection
from ledger.wire import (
    EvaluationContext,
    EvaluationReceipt,
    EvaluationSummary,
    NewestFirstPage,
    PolicyList,
    PolicyReceipt,
    PolicySummary,
    RecordedEntry,
)
from policies.facts import lineage_facts
from policies.judge import judge_value
from policies.loader import parse_policy

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["policies"])
Approver = Annotated[Principal, Depends(require_roles(Role.APPROVER))]
Evaluator = Annotated[Principal, Depends(require_roles(Role.CI))]


class PublishPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=200_000, description="the policy file's YAML text, exactly")
    activate: bool = Field(default=True, description="make it the policy that gates promotions")


def _entry_data(ledger: Ledger, seq: int) -> RecordedEntry:
    entry = ledger.get(seq)
    return RecordedEntry.model_validate(
        {"seq": seq, "recorded_at": entry.ts, "recorded_by": entry.actor.as_json(), "data": entry.data}
    )


@router.post(
    "/policies",
    status_code=status.HTTP_201_CREATED,
    summary="Publish (and activate) a policy",
    responses=errors(401, 403, 409, 413, 415, 422),
    dependencies=[Depends(json_body_only())],
)
def publish(body: PublishPolicy, ledger: LedgerDep, principal: Approver) -> PolicyReceipt:
    loaded = parse_policy(body.text, source="request body")
    written = ledger.append(
        "policy.published",
        {
            "name": loaded.policy.name,
            "version": loaded.policy.version,
            "sha256": loaded.sha256,
            "text": loaded.text,
            "activate": body.activate,
            "approvals_required": loaded.policy.approvals_required,
        },
        actor=principal.actor,
    )
    return PolicyReceipt(written.seq, loaded.sha256, loaded.policy.name, loaded.policy.version)


@router.get(
    "/policies", summary="Published policies, oldest first, and which one is active", responses=errors(401, 403)
)
def list_policies(ledger: LedgerDep, _caller: Reader) -> PolicyList[PolicySummary]:
    with ledger.engine.connect() as conn:
        rows = published_policies(conn)
        active = newest_active_policy(conn)
    items = [
        {c: getattr(row, c) for c in ("sha256", "seq", "name", "version", "activate", "approvals_required")}
        for row in rows
    ]
    return PolicyList[PolicySummary].model_validate(
        {"items": items, "active": None if active is None else active.sha256}
    )


@router.get("/policies/{sha256}", summary="One published policy, with its full text", responses=READ_ONE)
def get_policy(sha256: str, ledger: LedgerDep, _caller: Reader) -> RecordedEntry:
    with ledger.engine.connect() as conn:
        row = published_policy(conn, sha256)
        if row is None:
            raise NotFoundError(f"no policy with SHA-256 {sha256[:64]!r} is published")
    return _entry_data(ledger, row.seq)


def _rejudge(ledger: Ledger, conn: Connection, body: EvaluationRecorded) -> None:
    row = published_policy(conn, body.policy.sha256)
    if row is None:
        raise NotFoundError(f"policy {body.policy.sha256[:12]} is not published; a risk officer must publish it first")
    policy = parse_policy(ledger.get(row.seq).data["text"]).policy
    expected = [r for r in policy.rules if r.category != "approval"]
    if [r.id for r in expected] != [r.rule_id for r in body.rules]:
        raise InvalidInputError(
            "the evaluation's rules are not the policy's rules",
            [{"loc": ["rules"], "msg": f"expected rules {[r.id for r in expected]}", "type": "policy_mismatch"}],
        )
    problems = []
    for rule, result in zip(expected, body.rules, strict=True):
        declared = (result.metric, result.comparison, result.threshold, result.severity, result.by, result.confidence)
        if declared != (rule.metric, rule.comparison, rule.threshold, rule.severity, rule.by, rule.confidence):
            problems.append({"loc": ["rules", rule.id], "msg": "metric, threshold or severity differ from the policy"})
            continue
        interval = (result.interval[0], result.interval[1]) if result.interval else None
        verdict = judge_value(rule, result.value, interval, result.details.get("insufficient"))
        if verdict != result.verdict:
            problems.append({"loc": ["rules", rule.id], "msg": f"the policy gives {verdict!r}, not {result.verdict!r}"})
    if problems:
        for p in problems:
            p["type"] = "verdict_mismatch"
        raise InvalidInputError("the evaluation's verdicts do not follow from the published policy", problems)


@router.post(
    "/evaluations",
    status_code=status.HTTP_201_CREATED,
    summary="Record an evaluation (re-judged against its published policy)",
    responses=WRITE,
    dependencies=[Depends(json_body_only())],
)
def record(body: EvaluationRecorded, ledger: LedgerDep, principal: Evaluator) -> EvaluationReceipt:
    with ledger.engine.connect() as conn:
        _rejudge(ledger, conn, body)
        existing = recorded_evaluation(conn, body.evaluation_id)
    if existing is not None:  # the same inputs give the same entry: answer with it
        return EvaluationReceipt(existing.seq, body.evaluation_id, already_recorded=True)
    written = ledger.append(
        "evaluation.recorded", body.model_dump(mode="json", exclude_unset=True), actor=principal.actor
    )
    return EvaluationReceipt(written.seq, body.evaluation_id, already_recorded=False)


@router.get("/evaluations", summary="Evaluations, newest first, filtered by model", responses=READ)
def list_evaluations(
    ledger: LedgerDep,
    _caller: Reader,
    name: Annotated[str | None, Query(max_length=120)] = None,
    version: Annotated[str | None, Query(max_length=60)] = None,
    before: Annotated[int | None, Query(ge=0, le=MAX_SEQ, description="cursor: next_before of the last page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="items per page (1 to 1000)")] = 100,
) -> NewestFirstPage[EvaluationSummary]:
    with ledger.engine.connect() as conn:
        page = evaluations_page(conn, name=name, version=version, before=before, limit=limit)
    return NewestFirstPage[EvaluationSummary].model_validate({"items": page.items, "next_before": page.next_before})


@router.get("/evaluations/{evaluation_id}", summary="One evaluation with every rule's result", responses=READ_ONE)
def get_evaluation(evaluation_id: str, ledger: LedgerDep, _caller: Reader) -> RecordedEntry:
    with ledger.engine.connect() as conn:
        row = recorded_evaluation(conn, evaluation_id)
        if row is None:
            raise NotFoundError(f"evaluation {evaluation_id[:200]!r} is not recorded")
    return _entry_data(ledger, row.seq)


@router.get(
    "/evaluation-context",
    summary="What the ledger knows of a model artifact and an evaluation dataset",
    responses=READ,
)
def evaluation_context(
    ledger: LedgerDep,
    _caller: Reader,
    artifact_sha256: Annotated[str, Query(pattern=r"^[0-9a-f]{64}$")],
    data_sha256: Annotated[str, Query(pattern=r"^[0-9a-f]{64}$")],
) -> EvaluationContext:
    with ledger.engine.connect() as conn:
        return EvaluationContext.model_validate(
            lineage_facts(conn, artifact_sha256=artifact_sha256, data_sha256=data_sha256), from_attributes=True
        )
