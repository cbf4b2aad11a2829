"""Datasets, training runs, models, approvals, promotions and reviews: each write is one entry."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, status
from pydantic import Field

from ledger.access.api_keys import Principal
from ledger.api import Ledger
from ledger.lineage import queries
from ledger.lineage.schemas import (
    ApprovalRecorded,
    DatasetRegistered,
    ModelRegistered,
    TrainingRunRecorded,
)
from ledger.log.kinds import Payload
from ledger.service.deps import LedgerDep, Reader, writer_of
from ledger.service.params import After, Limit, TimeRange, time_range

__all__ = ["receipt", "router"]

router = APIRouter(prefix="/v1", tags=["lineage"])
# each write route admits the writers its kind declares (ledger.kinds.spec.KindSpec.writers)
DatasetWriter = Annotated[Principal, Depends(writer_of("dataset.registered"))]
RunWriter = Annotated[Principal, Depends(writer_of("training_run.recorded"))]
ModelWriter = Annotated[Principal, Depends(writer_of("model.registered"))]
PromotionWriter = Annotated[Principal, Depends(writer_of("model.promoted"))]
RetirementWriter = Annotated[Principal, Depends(writer_of("model.retired"))]
ApprovalWriter = Annotated[Principal, Depends(writer_of("approval.recorded"))]
ReviewWriter = Annotated[Principal, Depends(writer_of("decision.reviewed"))]
AppealWriter = Annotated[Principal, Depends(writer_of("decision.appealed"))]
Recorded = Annotated[TimeRange, Depends(time_range)]


def receipt(ledger: Ledger, kind: str, payload: Payload | dict[str, Any], principal: Principal) -> dict[str, Any]:
    """Append one entry exactly as sent (fields the caller left out are not filled in)."""
    data = payload.model_dump(mode="json", exclude_unset=True) if isinstance(payload, Payload) else payload
    written = ledger.append(kind, data, actor=principal.actor)
    return {"seq": written.seq, "ts": written.ts, "leaf_hash": written.leaf_hash.hex(), "kind": kind}


def _read(ledger: Ledger, query: Any, *args: Any, **kwargs: Any) -> Any:
    with ledger.engine.connect() as conn:
        return query(conn, *args, **kwargs)


@router.post("/datasets", status_code=status.HTTP_201_CREATED, summary="Register a dataset version")
def register_dataset(body: DatasetRegistered, ledger: LedgerDep, principal: DatasetWriter) -> dict[str, Any]:
    return receipt(ledger, "dataset.registered", body, principal)


@router.get("/datasets", summary="Datasets, oldest first, filtered by the time they were registered")
def list_datasets(
    ledger: LedgerDep, _caller: Reader, recorded: Recorded, after: After = None, limit: Limit = 100
) -> dict[str, Any]:
    page: queries.Page = _read(
        ledger, queries.list_datasets, since=recorded.since, until=recorded.until, after=after, limit=limit
    )
    return page.as_json()


@router.get("/datasets/{dataset_id}", summary="One dataset")
def get_dataset(dataset_id: str, ledger: LedgerDep, _caller: Reader) -> dict[str, Any]:
    result: dict[str, Any] = _read(ledger, queries.get_dataset, dataset_id)
    return result


@router.post("/runs", status_code=status.HTTP_201_CREATED, summary="Record a training run")
def record_run(body: TrainingRunRecorded, ledger: LedgerDep, principal: RunWriter) -> dict[str, Any]:
    return receipt(ledger, "training_run.recorded", body, principal)


@router.get("/runs", summary="Training runs, oldest first, filtered by input dataset and time")
def list_runs(
    ledger: LedgerDep,
    _caller: Reader,
    recorded: Recorded,
    input_dataset: Annotated[
        str | None, Query(min_length=1, max_length=200, description="only the runs that read this dataset id")
    ] = None,
    after: After = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    page: queries.Page = _read(
        ledger,
        queries.list_runs,
        input_dataset=input_dataset,
        since=recorded.since,
        until=recorded.until,
        after=after,
        limit=limit,
    )
    return page.as_json()


@router.get("/runs/{run_id}", summary="One training run")
def get_run(run_id: str, ledger: LedgerDep, _caller: Reader) -> dict[str, Any]:
    result: dict[str, Any] = _read(ledger, queries.get_run, run_id)
    return result


@router.post("/models", status_code=status.HTTP_201_CREATED, summary="Register a model version")
def register_model(body: ModelRegistered, ledger: LedgerDep, principal: ModelWriter) -> dict[str, Any]:
    return receipt(ledger, "model.registered", body, principal)


@router.get("/models", summary="Model versions, oldest first, filtered by name, stage and time registered")
def list_models(
    ledger: LedgerDep,
    _caller: Reader,
    recorded: Recorded,
    name: Annotated[str | None, Query(max_length=120)] = None,
    stage: Literal["registered", "staging", "production", "retired"] | None = None,
    after: After = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    page: queries.Page = _read(
        ledger,
        queries.list_models,
        name=name,
        stage=stage,
        since=recorded.since,
        until=recorded.until,
        after=after,
        limit=limit,
    )
    return page.as_json()


@router.get("/models/{name}/{version}", summary="One model version with its stage")
def get_model(name: str, version: str, ledger: LedgerDep, _caller: Reader) -> dict[str, Any]:
    result: dict[str, Any] = _read(ledger, queries.get_model, name, version)
    return result


class PromotionIn(Payload):
    stage: Literal["staging", "production"]
    reason: Annotated[str, Field(min_length=1, max_length=5000)] | None = None
    approval_ids: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default_factory=list, max_length=20)


class RetirementIn(Payload):
    reason: Annotated[str, Field(min_length=1, max_length=5000)]


@router.post(
    "/models/{name}/{version}/promotions",
    status_code=status.HTTP_201_CREATED,
    summary="Promote a model version to staging or production",
)
def promote(
    name: str, version: str, body: PromotionIn, ledger: LedgerDep, principal: PromotionWriter
) -> dict[str, Any]:
    data = {"model": {"name": name, "version": version}, **body.model_dump(mode="json", exclude_unset=True)}
    return receipt(ledger, "model.promoted", data, principal)


@router.post(
    "/models/{name}/{version}/retirement", status_code=status.HTTP_201_CREATED, summary="Retire a model version"
)
def retire(
    name: str, version: str, body: RetirementIn, ledger: LedgerDep, principal: RetirementWriter
) -> dict[str, Any]:
    data = {"model": {"name": name, "version": version}, "reason": body.reason}
    return receipt(ledger, "model.retired", data, principal)


@router.post("/approvals", status_code=status.HTTP_201_CREATED, summary="Record an approval or rejection")
def record_approval(body: ApprovalRecorded, ledger: LedgerDep, principal: ApprovalWriter) -> dict[str, Any]:
    return receipt(ledger, "approval.recorded", body, principal)


@router.get("/approvals", summary="Approvals, oldest first, filtered by model and time")
def list_approvals(
    ledger: LedgerDep,
    _caller: Reader,
    recorded: Recorded,
    model_name: Annotated[str | None, Query(max_length=120)] = None,
    model_version: Annotated[str | None, Query(max_length=60)] = None,
    after: After = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    page: queries.Page = _read(
        ledger,
        queries.list_approvals,
        name=model_name,
        version=model_version,
        since=recorded.since,
        until=recorded.until,
        after=after,
        limit=limit,
    )
    return page.as_json()


@router.get("/approvals/{approval_id}", summary="One approval or rejection")
def get_approval(approval_id: str, ledger: LedgerDep, _caller: Reader) -> dict[str, Any]:
    result: dict[str, Any] = _read(ledger, queries.get_approval, approval_id)
    return result


class ReviewIn(Payload):
    outcome: Literal["accepted", "overridden", "reversed"]
    override_reason: Annotated[str, Field(min_length=1, max_length=5000)] | None = None
    new_decision: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    reviewed_at: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")]
    appeal_id: Annotated[str, Field(min_length=1, max_length=200)] | None = None


@router.post(
    "/decisions/{decision_id}/reviews",
    status_code=status.HTTP_201_CREATED,
    summary="Record a human review of a decision",
)
def review(decision_id: str, body: ReviewIn, ledger: LedgerDep, principal: ReviewWriter) -> dict[str, Any]:
    data = {"decision_id": decision_id, **body.model_dump(mode="json", exclude_unset=True)}
    return receipt(ledger, "decision.reviewed", data, principal)


@router.get("/decisions/{decision_id}/reviews", summary="The human reviews of a decision, oldest first")
def list_reviews(
    decision_id: str, ledger: LedgerDep, _caller: Reader, after: After = None, limit: Limit = 100
) -> dict[str, Any]:
    page: queries.Page = _read(ledger, queries.list_reviews, decision_id, after=after, limit=limit)
    return page.as_json()


class AppealIn(Payload):
    appeal_id: Annotated[str, Field(min_length=1, max_length=200)]
    received_at: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")]
    channel: Annotated[str, Field(min_length=1, max_length=200)]
    grounds: Annotated[str, Field(min_length=1, max_length=5000)]
    requests: list[Literal["human_review", "correction", "explanation"]] = Field(min_length=1, max_length=3)


@router.post(
    "/decisions/{decision_id}/appeals",
    status_code=status.HTTP_201_CREATED,
    summary="Record an appeal against a decision (the review that answers it names its appeal_id)",
)
def appeal(decision_id: str, body: AppealIn, ledger: LedgerDep, principal: AppealWriter) -> dict[str, Any]:
    data = {"decision_id": decision_id, **body.model_dump(mode="json", exclude_unset=True)}
    return receipt(ledger, "decision.appealed", data, principal)


@router.get("/decisions/{decision_id}/appeals", summary="The appeals against a decision, oldest first")
def list_appeals(
    decision_id: str, ledger: LedgerDep, _caller: Reader, after: After = None, limit: Limit = 100
) -> dict[str, Any]:
    page: queries.Page = _read(ledger, queries.list_appeals, decision_id, after=after, limit=limit)
    return page.as_json()
