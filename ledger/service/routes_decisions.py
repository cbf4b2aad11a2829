"""Decisions: one or a batch (JSON object, JSON array or NDJSON; up to 10,000, one transaction),
reads with filters, and the erasure of a subject's personal data."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import JSONResponse, Response

from ledger.access.api_keys import Principal
from ledger.lineage import queries
from ledger.lineage.decisions import MAX_BATCH, record_decisions
from ledger.privacy.sealing import erase_subject
from ledger.service.batch_turns import BatchTurns
from ledger.service.deps import LedgerDep, Reader, writer_of
from ledger.service.group_commit import DecisionBatcher
from ledger.service.json_body import parse_json, parse_ndjson
from ledger.service.params import After, Limit, TimeRange, time_range

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["decisions"])
DecisionWriter = Annotated[Principal, Depends(writer_of("decision.recorded"))]
ErasureWriter = Annotated[Principal, Depends(writer_of("subject.erased"))]

_DECISION_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}, "maxItems": MAX_BATCH}]
                }
            },
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


def _parse(raw: bytes, content_type: str) -> tuple[list[Any], bool]:
    """(decisions, whether the request was a single object)."""
    if "ndjson" in content_type:
        return parse_ndjson(raw), False
    value = parse_json(raw)
    return ([value], True) if isinstance(value, dict) else (value if isinstance(value, list) else [value], False)


@router.post(
    "/decisions",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_DECISION_BODY,
    summary="Record one decision, or a batch (JSON array or NDJSON) in one transaction",
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


@router.get("/decisions", summary="Decisions filtered by model, subject, outcome and time")
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
) -> dict[str, Any]:
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
    return page.as_json()


@router.get("/decisions/{decision_id}", summary="One decision record (its input stays sealed)")
def get_decision(decision_id: str, ledger: LedgerDep, _caller: Reader) -> dict[str, Any]:
    with ledger.engine.connect() as conn:
        return queries.get_decision(conn, decision_id)


@router.delete("/subjects/{subject_ref}", summary="Erase a subject's personal data (crypto-shredding)")
def erase(
    subject_ref: str,
    ledger: LedgerDep,
    principal: ErasureWriter,
    reason: Annotated[str, Query(min_length=1, max_length=1000)],
    legal_basis: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> dict[str, Any]:
    written = erase_subject(ledger, subject_ref, reason=reason, actor=principal.actor, legal_basis=legal_basis)
    return {"seq": written.seq, "ts": written.ts, "leaf_hash": written.leaf_hash.hex(), "subject_ref": subject_ref}
