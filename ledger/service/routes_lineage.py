"""Datasets, training runs, models, approvals, promotions and reviews: each write is one entry."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import Response
from pydantic import Field

from ledger.access.api_keys import Principal
from ledger.api import Ledger
from ledger.lineage import promotion_reads, queries
from ledger.lineage.schemas import (
    ApprovalRecorded,
    DatasetRegistered,
    Identifier,
    ModelRegistered,
    ShortText,
    Text,
    TrainingRunRecorded,
    UtcTime,
)
from ledger.log.kinds import Payload
from ledger.service.deps import LedgerDep, Reader, json_body_only, writer_of
from ledger.service.params import After, IdPath, Limit, ModelNamePath, TimeRange, VersionPath, time_range
from ledger.service.responses import READ, READ_ONE, WRITE
from ledger.service.stored_json import stored_payload_response
from ledger.wire import (
    AppealRecord,
    ApprovalRecord,
    DatasetRecord,
    DatasetRow,
    ModelRecord,
    Page,
    PromotionAttempt,
    Receipt,
    ReviewRecord,
    RunRecord,
)

__all__ = ["receipt", "router"]

router = APIRouter(prefix="/v1", tags=["lineage"])
JsonBody = Depends(json_body_only())
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


def receipt(ledger: Ledger, kind: str, payload: Payload | dict[str, Any], principal: Principal) -> Receipt:
    """Append one entry exactly as sent (fields the caller left out are not filled in)."""
    data = payload.model_dump(mode="json", exclude_unset=True) if isinstance(payload, Payload) else payload
    written = ledger.append(kind, data, actor=principal.actor)
    return Receipt(seq=written.seq, ts=written.ts, leaf_hash=written.leaf_hash.hex(), kind=kind)


def _read(ledger: Ledger, query: Any, *args: Any, **kwargs: Any) -> Any:
    with ledger.engine.connect() as conn:
        return query(conn, *args, **kwargs)


def _as_page(page: Any) -> dict[str, Any]:
    return {"items": page.items, "next_after": page.next_after}


@router.post(
    "/datasets",
    status_code=status.HTTP_201_CREATED,
    summary="Register a dataset version",
    responses=WRITE,
    dependencies=[JsonBody],
)
def register_dataset(body: DatasetRegistered, ledger: LedgerDep, principal: DatasetWriter) -> Receipt:
    return receipt(ledger, "dataset.registered", body, principal)


@router.get(
    "/datasets",
    response_model=Page[DatasetRow],
    summary="Datasets, oldest first, filtered by the time they were registered",
    responses=READ,
)
def list_datasets(
    ledger: LedgerDep, _caller: Reader, recorded: Recorded, after: After = None, limit: Limit = 100
) -> Response:
    page: queries.Page = _read(
        ledger, queries.list_datasets, since=recorded.since, until=recorded.until, after=after, limit=limit
    )
    return stored_payload_response(Page[DatasetRow], _as_page(page))


@router.get("/datasets/{dataset_id}", response_model=DatasetRecord, summary="One dataset", responses=READ_ONE)
def get_dataset(dataset_id: str, ledger: LedgerDep, _caller: Reader) -> Response:
    return stored_payload_response(DatasetRecord, _read(ledger, queries.get_dataset, dataset_id))


@router.post(
    "/runs",
    status_code=status.HTTP_201_CREATED,
    summary="Record a training run",
    responses=WRITE,
    dependencies=[JsonBody],
)
def record_run(body: TrainingRunRecorded, ledger: LedgerDep, principal: RunWriter) -> Receipt:
    return receipt(ledger, "training_run.recorded", body, principal)


@router.get(
    "/runs",
    response_model=Page[RunRecord],
    summary="Training runs, oldest first, filtered by input dataset and time",
    responses=READ,
)
def list_runs(
    ledger: LedgerDep,
    _caller: Reader,
    recorded: Recorded,
    input_dataset: Annotated[
        str | None, Query(min_length=1, max_length=200, description="only the runs that read this dataset id")
    ] = None,
    after: After = None,
    limit: Limit = 100,
) -> Response:
    page: queries.Page = _read(
        ledger,
        queries.list_runs,
        input_dataset=input_dataset,
        since=recorded.since,
        until=recorded.until,
        after=after,
        limit=limit,
    )
    return stored_payload_response(Page[RunRecord], _as_page(page))


@router.get("/runs/{run_id}", response_model=RunRecord, summary="One training run", responses=READ_ONE)
def get_run(run_id: str, ledger: LedgerDep, _caller: Reader) -> Response:
    return stored_payload_response(RunRecord, _read(ledger, queries.get_run, run_id))


@router.post(
    "/models",
    status_code=status.HTTP_201_CREATED,
    summary="Register a model version",
    responses=WRITE,
    dependencies=[JsonBody],
)
def register_model(body: ModelRegistered, ledger: LedgerDep, principal: ModelWriter) -> Receipt:
    return receipt(ledger, "model.registered", body, principal)


@router.get(
    "/models",
    summary="Model versions, oldest first, filtered by name, stage and time registered",
    response_model=Page[ModelRecord],
    responses=READ,
)
def list_models(
    ledger: LedgerDep,
    _caller: Reader,
    recorded: Recorded,
    name: Annotated[str | None, Query(max_length=120)] = None,
    stage: Literal["registered", "staging", "production", "retired"] | None = None,
    after: After = None,
    limit: Limit = 100,
) -> Response:
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
    return stored_payload_response(Page[ModelRecord], _as_page(page))


@router.get(
    "/models/{name}/{version}",
    response_model=ModelRecord,
    summary="One model version with its stage",
    responses=READ_ONE,
)
def get_model(name: str, version: str, ledger: LedgerDep, _caller: Reader) -> Response:
    return stored_payload_response(ModelRecord, _read(ledger, queries.get_model, name, version))


class PromotionIn(Payload):
    stage: Literal["staging", "production"]
    reason: Text | None = None
    approval_ids: list[Identifier] = Field(default_factory=list, max_length=20)


class RetirementIn(Payload):
    reason: Text


@router.post(
    "/models/{name}/{version}/promotions",
    status_code=status.HTTP_201_CREATED,
    summary="Promote a model version to staging or production",
    responses=WRITE,
    dependencies=[JsonBody],
)
def promote(
    name: ModelNamePath, version: VersionPath, body: PromotionIn, ledger: LedgerDep, principal: PromotionWriter
) -> Receipt:
    """A promotion to production the active policy does not allow is refused (409, the failing
    rules in `errors`), and the refusal is on the record before the answer: a `promotion.refused`
    entry naming the caller (see `GET /v1/models/{name}/{version}/promotions`)."""
    data = {"model": {"name": name, "version": version}, **body.model_dump(mode="json", exclude_unset=True)}
    return receipt(ledger, "model.promoted", data, principal)


@router.get(
    "/models/{name}/{version}/promotions",
    summary="The promotion history of a model version: promotions and the attempts the gate refused, oldest first",
    response_model=Page[PromotionAttempt],
    responses=READ_ONE,
)
def list_promotions(
    name: str, version: str, ledger: LedgerDep, _caller: Reader, after: After = None, limit: Limit = 100
) -> Response:
    page: queries.Page = _read(ledger, promotion_reads.promotion_history, name, version, after=after, limit=limit)
    return stored_payload_response(Page[PromotionAttempt], _as_page(page))


@router.post(
    "/models/{name}/{version}/retirement",
    status_code=status.HTTP_201_CREATED,
    summary="Retire a model version",
    responses=WRITE,
    dependencies=[JsonBody],
)
def retire(
    name: ModelNamePath, version: VersionPath, body: RetirementIn, ledger: LedgerDep, principal: RetirementWriter
) -> Receipt:
    data = {"model": {"name": name, "version": version}, "reason": body.reason}
    return receipt(ledger, "model.retired", data, principal)


@router.post(
    "/approvals",
    status_code=status.HTTP_201_CREATED,
    summary="Record an approval or rejection",
    responses=WRITE,
    dependencies=[JsonBody],
)
def record_approval(body: ApprovalRecorded, ledger: LedgerDep, principal: ApprovalWriter) -> Receipt:
    return receipt(ledger, "approval.recorded", body, principal)


@router.get(
    "/approvals",
    response_model=Page[ApprovalRecord],
    summary="Approvals, oldest first, filtered by model and time",
    responses=READ,
)
def list_approvals(
    ledger: LedgerDep,
    _caller: Reader,
    recorded: Recorded,
    model_name: Annotated[str | None, Query(max_length=120)] = None,
    model_version: Annotated[str | None, Query(max_length=60)] = None,
    after: After = None,
    limit: Limit = 100,
) -> Response:
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
    return stored_payload_response(Page[ApprovalRecord], _as_page(page))


@router.get(
    "/approvals/{approval_id}", response_model=ApprovalRecord, summary="One approval or rejection", responses=READ_ONE
)
def get_approval(approval_id: str, ledger: LedgerDep, _caller: Reader) -> Response:
    return stored_payload_response(ApprovalRecord, _read(ledger, queries.get_approval, approval_id))


class ReviewIn(Payload):
    outcome: Literal["accepted", "overridden", "reversed"]
    override_reason: Text | None = None
    new_decision: ShortText | None = None
    reviewed_at: UtcTime
    appeal_id: Identifier | None = None


@router.post(
    "/decisions/{decision_id}/reviews",
    status_code=status.HTTP_201_CREATED,
    summary="Record a human review of a decision",
    responses=WRITE,
    dependencies=[JsonBody],
)
def review(decision_id: IdPath, body: ReviewIn, ledger: LedgerDep, principal: ReviewWriter) -> Receipt:
    data = {"decision_id": decision_id, **body.model_dump(mode="json", exclude_unset=True)}
    return receipt(ledger, "decision.reviewed", data, principal)


@router.get(
    "/decisions/{decision_id}/reviews",
    summary="The human reviews of a decision, oldest first",
    response_model=Page[ReviewRecord],
    responses=READ_ONE,
)
def list_reviews(
    decision_id: str, ledger: LedgerDep, _caller: Reader, after: After = None, limit: Limit = 100
) -> Response:
    page: queries.Page = _read(ledger, queries.list_reviews, decision_id, after=after, limit=limit)
    return stored_payload_response(Page[ReviewRecord], _as_page(page))


class AppealIn(Payload):
    appeal_id: Identifier
    received_at: UtcTime
    channel: ShortText
    grounds: Text
    requests: list[Literal["human_review", "correction", "explanation"]] = Field(min_length=1, max_length=3)


@router.post(
    "/decisions/{decision_id}/appeals",
    status_code=status.HTTP_201_CREATED,
    summary="Record an appeal against a decision (the review that answers it names its appeal_id)",
    responses=WRITE,
    dependencies=[JsonBody],
)
def appeal(decision_id: IdPath, body: AppealIn, ledger: LedgerDep, principal: AppealWriter) -> Receipt:
    data = {"decision_id": decision_id, **body.model_dump(mode="json", exclude_unset=True)}
    return receipt(ledger, "decision.appealed", data, principal)


@router.get(
    "/decisions/{decision_id}/appeals",
    summary="The appeals against a decision, oldest first",
    response_model=Page[AppealRecord],
    responses=READ_ONE,
)
def list_appeals(
    decision_id: str, ledger: LedgerDep, _caller: Reader, after: After = None, limit: Limit = 100
) -> Response:
    page: queries.Page = _read(ledger, queries.list_appeals, decision_id, after=after, limit=limit)
    return stored_payload_response(Page[AppealRecord], _as_page(page))
