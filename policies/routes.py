"""HTTP endpoints of the policy engine, mounted on the service by the composition root.

`approver` publishes policies; `ci` records evaluations (computed where the model and data are,
by `govledger gate --server`); every role reads; the writer roles are those each kind declares.
A submitted evaluation is re-judged against the published policy text by the append check of
`evaluation.recorded` (`policies.kinds`), the same on every path, or it is refused (422).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ledger.access.api_keys import Principal
from ledger.api import Ledger
from ledger.errors import NotFoundError
from ledger.lineage.policy_reads import (
    evaluations_page,
    newest_active_policy,
    published_policies,
    published_policy,
    recorded_evaluation,
)
from ledger.lineage.policy_schemas import EvaluationRecorded
from ledger.lineage.queries import MAX_PAGE
from ledger.service.deps import MAX_SEQ, LedgerDep, Reader, json_body_only, writer_of
from ledger.service.responses import READ, READ_ONE, WRITE, errors
from ledger.service.stored_json import stored_payload_response
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
from policies.kinds import check_evaluation
from policies.loader import parse_policy

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["policies"])
Publisher = Annotated[Principal, Depends(writer_of("policy.published"))]
Evaluator = Annotated[Principal, Depends(writer_of("evaluation.recorded"))]


class PublishPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=200_000, description="the policy file's YAML text, exactly")
    activate: bool = Field(default=True, description="make it the policy that gates promotions")


def _entry_data(ledger: Ledger, seq: int) -> Response:
    """The entry's payload as stored (an evaluation's free-form `details` may predate the depth limit)."""
    entry = ledger.get(seq)
    value = {"seq": seq, "recorded_at": entry.ts, "recorded_by": entry.actor.as_json(), "data": entry.data}
    return stored_payload_response(RecordedEntry, {**value, "body": entry.body.decode("utf-8")})


@router.post(
    "/policies",
    status_code=status.HTTP_201_CREATED,
    summary="Publish (and activate) a policy",
    responses=errors(401, 403, 409, 413, 415, 422),
    dependencies=[Depends(json_body_only())],
)
def publish(body: PublishPolicy, ledger: LedgerDep, principal: Publisher) -> PolicyReceipt:
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


@router.get(
    "/policies/{sha256}",
    summary="One published policy, with its full text",
    response_model=RecordedEntry,
    responses=READ_ONE,
)
def get_policy(sha256: str, ledger: LedgerDep, _caller: Reader) -> Response:
    with ledger.engine.connect() as conn:
        row = published_policy(conn, sha256)
        if row is None:
            raise NotFoundError(f"no policy with SHA-256 {sha256[:64]!r} is published")
    return _entry_data(ledger, row.seq)


@router.post(
    "/evaluations",
    status_code=status.HTTP_201_CREATED,
    summary="Record an evaluation (re-judged against its published policy)",
    responses=WRITE,
    dependencies=[Depends(json_body_only())],
)
def record(body: EvaluationRecorded, ledger: LedgerDep, principal: Evaluator) -> EvaluationReceipt:
    with ledger.engine.connect() as conn:
        existing = recorded_evaluation(conn, body.evaluation_id)
        if existing is not None:  # the same inputs give the same entry: answer with it, once re-judged
            check_evaluation(conn, body)
            return EvaluationReceipt(existing.seq, body.evaluation_id, already_recorded=True)
    written = ledger.append(  # re-judged by the kind's append check (policies.kinds), as on every path
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


@router.get(
    "/evaluations/{evaluation_id}",
    summary="One evaluation with every rule's result",
    response_model=RecordedEntry,
    responses=READ_ONE,
)
def get_evaluation(evaluation_id: str, ledger: LedgerDep, _caller: Reader) -> Response:
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
