"""Decisions: one or a batch (JSON object, JSON array or NDJSON; up to 10,000, one transaction),
reads with filters, and the erasure of a subject's personal data."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from ledger.access.api_keys import Principal
from ledger.lineage import queries
from ledger.lineage.decisions import MAX_BATCH, record_decisions
from ledger.lineage.schemas import DecisionRecorded, Identifier, Sha256Hex, ShortText
from ledger.privacy.sealing import erase_subject
from ledger.service.batch_turns import BatchTurns
from ledger.service.deps import LedgerDep, Reader, json_body_only, writer_of
from ledger.service.group_commit import DecisionBatcher
from ledger.service.json_body import parse_json, parse_ndjson
from ledger.service.params import After, IdPath, Limit, TimeRange, time_range
from ledger.service.responses import READ, READ_ONE, WRITE, errors
from ledger.service.stored_json import stored_payload_response
from ledger.wire import BatchResult, DecisionReceipt, DecisionRecord, ErasureReceipt, Page

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["decisions"])
DecisionWriter = Annotated[Principal, Depends(writer_of("decision.recorded"))]
ErasureWriter = Annotated[Principal, Depends(writer_of("subject.erased"))]


class DecisionRequest(DecisionRecorded):
    """A decision as a producer sends it: the `decision.recorded` payload without the lineage
    fields the service fills in from the log (artifact, run, datasets, promotion), and with the
    raw `input` (any JSON value, sealed on arrival under the subject's key, with its
    `input_schema_version`). Only documents the body: the route parses it itself (orjson, NDJSON)."""

    model_artifact_sha256: Sha256Hex | None = None  # type: ignore[assignment]
    training_run_id: Identifier | None = None  # type: ignore[assignment]
    dataset_ids: list[Identifier] | None = Field(default=None, min_length=1, max_length=100)  # type: ignore[assignment]
    promotion_seq: int | None = Field(default=None, ge=0)  # type: ignore[assignment]
    input: Any = None
    input_schema_version: ShortText | None = None


def _inlined(schema: Any, defs: dict[str, Any]) -> Any:
    """`schema` with every `#/$defs/...` reference replaced by its definition (the OpenAPI
    request body is written by hand here, so it cannot point into `components`)."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inlined(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inlined(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inlined(v, defs) for v in schema]
    return schema


def _decision_body() -> dict[str, Any]:
    raw = DecisionRequest.model_json_schema()
    one = _inlined(raw, raw.get("$defs", {}))
    # an input (not null) comes with the version of its schema (`ledger.lineage.decisions`)
    one["if"] = {"required": ["input"], "properties": {"input": {"not": {"type": "null"}}}}
    one["then"] = {"required": ["input_schema_version"], "properties": {"input_schema_version": {"type": "string"}}}
    many = {"type": "array", "items": one, "minItems": 1, "maxItems": MAX_BATCH}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"oneOf": [one, many]}},
                "application/x-ndjson": {"schema": {"type": "string", "description": "one decision per line"}},
            },
        }
    }


_DECISION_BODY = _decision_body()
# A single decision answers its receipt, a batch (array or NDJSON) a BatchResult: 201 when
# anything was recorded, 200 when every decision was a retry of a recorded one.
_DECISION_ANSWERS: dict[int | str, dict[str, Any]] = {
    201: {"model": DecisionReceipt | BatchResult, "description": "recorded (a receipt, or a batch result)"},
    200: {"model": DecisionReceipt | BatchResult, "description": "nothing new: every decision was already recorded"},
}


def _parse(raw: bytes, content_type: str) -> tuple[list[Any], bool]:
    """(decisions, whether the request was a single object)."""
    if "ndjson" in content_type:
        return parse_ndjson(raw), False
    value = parse_json(raw)
    return ([value], True) if isinstance(value, dict) else (value if isinstance(value, list) else [value], False)


def _as_page(page: Any) -> dict[str, Any]:
    return {"items": page.items, "next_after": page.next_after}


@router.post(
    "/decisions",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_DECISION_BODY,
    summary="Record one decision, or a batch (JSON array or NDJSON) in one transaction",
    response_model=None,
    responses={**_DECISION_ANSWERS, **WRITE},
    dependencies=[Depends(json_body_only("application/x-ndjson"))],
)
async def post_decisions(request: Request, ledger: LedgerDep, principal: DecisionWriter) -> Response:
    decisions, single = _parse(await request.body(), request.headers.get("content-type", ""))
    if single:  # group commit: concurrent single POSTs share one transaction
        batcher: DecisionBatcher = request.app.state.decision_batcher
        result = await batcher.submit(decisions[0], principal.actor)
    else:
        turns: BatchTurns = request.app.state.batch_turns
        result = await turns.run(record_decisions, ledger, decisions, actor=principal.actor)
    code = status.HTTP_201_CREATED if result["recorded"] else status.HTTP_200_OK
    if single:
        body = result["recorded"][0] if result["recorded"] else {**result["duplicates"][0], "duplicate": True}
        return JSONResponse(body, status_code=code)
    # orjson: a 1,000-receipt answer is encoded ~10x faster than by JSONResponse's json.dumps
    return Response(orjson.dumps(result), status_code=code, media_type="application/json")


@router.get(
    "/decisions",
    response_model=Page[DecisionRecord],
    summary="Decisions filtered by model, subject, outcome and time",
    responses=READ,
)
def list_decisions(
    ledger: LedgerDep,
    _caller: Reader,
    recorded: Annotated[TimeRange, Depends(time_range)],
    model: Annotated[str | None, Query(max_length=200, description="name or name@version")] = None,
    subject_ref: Annotated[str | None, Query(max_length=200)] = None,
    outcome: Annotated[str | None, Query(max_length=200)] = None,
    adverse: bool | None = None,
    after: After = None,
    limit: Limit = 100,
) -> Response:
    model_filter = None
    if model is not None:
        name, _, version = model.partition("@")
        model_filter = (name, version or None)
    with ledger.engine.connect() as conn:
        page = queries.list_decisions(
            conn,
            model=model_filter,
            subject_ref=subject_ref,
            outcome=outcome,
            adverse=adverse,
            since=recorded.since,
            until=recorded.until,
            after=after,
            limit=limit,
        )
    return stored_payload_response(Page[DecisionRecord], _as_page(page))


@router.get(
    "/decisions/{decision_id}",
    response_model=DecisionRecord,
    summary="One decision record (its input stays sealed)",
    responses=READ_ONE,
)
def get_decision(decision_id: str, ledger: LedgerDep, _caller: Reader) -> Response:
    with ledger.engine.connect() as conn:
        return stored_payload_response(DecisionRecord, queries.get_decision(conn, decision_id))


@router.delete(
    "/subjects/{subject_ref}",
    summary="Erase a subject's personal data (crypto-shredding)",
    responses=errors(401, 403, 404, 409, 422),
)
def erase(
    subject_ref: IdPath,
    ledger: LedgerDep,
    principal: ErasureWriter,
    reason: Annotated[str, Query(min_length=1, max_length=1000)],
    legal_basis: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> ErasureReceipt:
    written = erase_subject(ledger, subject_ref, reason=reason, actor=principal.actor, legal_basis=legal_basis)
    return ErasureReceipt(
        seq=written.seq,
        ts=written.ts,
        leaf_hash=written.leaf_hash.hex(),
        subject_ref=subject_ref,
        purged=written.purged,
        purge_detail=written.purge_detail,
    )
