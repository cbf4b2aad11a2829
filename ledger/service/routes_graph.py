"""Lineage graphs (also as of a past time), models in production, and decision traces with the
proof pack that lets a reader check every entry offline. Every role reads."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response

from ledger.lineage.graph import DEFAULT_DECISION_LIMIT, lineage_graph, models_in_production
from ledger.lineage.trace import decision_trace
from ledger.service.deps import LedgerDep, Reader
from ledger.service.params import UTC_PATTERN, IdPath
from ledger.service.responses import READ, READ_ONE
from ledger.verification.proofpack import build_pack
from ledger.wire import DecisionTrace, LineageGraph, ModelsInProduction, ProductionModel, ProofPack

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["lineage graph and traces"])
AsOf = Annotated[
    str | None,
    Query(
        pattern=UTC_PATTERN,
        description="UTC time YYYY-MM-DDTHH:MM:SS[.ffffff]Z: answer as the log stood then",
        json_schema_extra={"format": "date-time"},
    ),
]


@router.get(
    "/lineage/{kind}/{object_id:path}",
    summary="The lineage graph of a dataset, run, model (name@version) or decision",
    responses=READ_ONE,
)
def graph(
    kind: Literal["dataset", "run", "model", "decision"],
    object_id: Annotated[
        str,
        Path(
            min_length=1,
            max_length=200,
            pattern=r"^[A-Za-z0-9][A-Za-z0-9._:+-]*(@[A-Za-z0-9][A-Za-z0-9._+-]*)?$",
            description="the object's id; a model's is name@version",
        ),
    ],
    ledger: LedgerDep,
    _caller: Reader,
    direction: Literal["upstream", "downstream"] = "upstream",
    as_of: AsOf = None,
    decision_limit: Annotated[int, Query(ge=1, le=100_000)] = DEFAULT_DECISION_LIMIT,
) -> LineageGraph:
    with ledger.read_snapshot() as conn:
        result = lineage_graph(conn, kind, object_id, direction=direction, as_of=as_of, decision_limit=decision_limit)
    return LineageGraph.model_validate(result, from_attributes=True)


@router.get(
    "/models-in-production",
    summary="Which model versions were in production (now, or as of a time)",
    responses=READ,
)
def production(ledger: LedgerDep, _caller: Reader, as_of: AsOf = None) -> ModelsInProduction:
    with ledger.read_snapshot() as conn:
        models = [ProductionModel.model_validate(m) for m in models_in_production(conn, as_of)]
    return ModelsInProduction(as_of=as_of, models=models)


@router.get(
    "/decisions/{decision_id}/trace",
    summary="Everything behind one decision, with a proof pack",
    response_model=DecisionTrace,
    responses=READ_ONE,
)
def trace(decision_id: IdPath, ledger: LedgerDep, _caller: Reader) -> Response:
    """The trace JSON plus `pack`, the proof pack of every entry in it. The trace holds the lineage,
    the model's evaluations and their policies, approvals, stage changes, reviews and the erasure,
    with edges; every node carries its seq and leaf hash. The pack's canonical bytes are embedded
    verbatim, but a JSON parser re-encodes them: to check it with `govledger verify-pack`, download
    `/trace/pack` (or re-encode `pack` with RFC 8785); `--trace` checks the trace against it."""
    with ledger.read_snapshot() as conn:
        found = decision_trace(conn, decision_id, kinds=ledger.registry)
    pack = build_pack(ledger, found.seqs, purpose=f"trace of decision {decision_id}")
    body = b'{"pack":' + pack + b',"trace":' + json.dumps(found.as_json(), ensure_ascii=False).encode() + b"}"
    return Response(body, media_type="application/json")


@router.get(
    "/decisions/{decision_id}/trace/pack",
    summary="The proof pack of a decision's trace, as a file (its exact canonical bytes)",
    response_class=JSONResponse,
    response_model=ProofPack,
    responses=READ_ONE,
)
def trace_pack(decision_id: IdPath, ledger: LedgerDep, _caller: Reader) -> Response:
    with ledger.read_snapshot() as conn:
        found = decision_trace(conn, decision_id, kinds=ledger.registry)
    pack = build_pack(ledger, found.seqs, purpose=f"trace of decision {decision_id}")
    disposition = f'attachment; filename="trace-{decision_id.replace(chr(34), "_")}.govpack.json"'
    return Response(pack, media_type="application/json", headers={"Content-Disposition": disposition})
