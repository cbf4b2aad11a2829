"""Lineage graphs (also as of a past time), models in production, and decision traces with the
proof pack that lets a reader check every entry offline. Every role reads."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from ledger.lineage.graph import DEFAULT_DECISION_LIMIT, lineage_graph, models_in_production
from ledger.lineage.trace import decision_trace
from ledger.service.deps import LedgerDep, Reader
from ledger.verification.proofpack import build_pack

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["lineage graph and traces"])
AsOf = Annotated[str | None, Query(description="RFC 3339 UTC time: answer as the log stood then")]


@router.get("/lineage/{kind}/{object_id:path}", summary="The lineage graph of a dataset, run, model or decision")
def graph(
    kind: Literal["dataset", "run", "model", "decision"],
    object_id: str,
    ledger: LedgerDep,
    _caller: Reader,
    direction: Literal["upstream", "downstream"] = "upstream",
    as_of: AsOf = None,
    decision_limit: Annotated[int, Query(ge=1, le=100_000)] = DEFAULT_DECISION_LIMIT,
) -> dict[str, Any]:
    with ledger.read_snapshot() as conn:
        result = lineage_graph(conn, kind, object_id, direction=direction, as_of=as_of, decision_limit=decision_limit)
    return result.as_json()


@router.get("/models-in-production", summary="Which model versions were in production (now, or as of a time)")
def production(ledger: LedgerDep, _caller: Reader, as_of: AsOf = None) -> dict[str, Any]:
    with ledger.read_snapshot() as conn:
        return {"as_of": as_of, "models": models_in_production(conn, as_of)}


@router.get("/decisions/{decision_id}/trace", summary="Everything behind one decision, with a proof pack")
def trace(decision_id: str, ledger: LedgerDep, _caller: Reader) -> Response:
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


@router.get("/decisions/{decision_id}/trace/pack", summary="The proof pack of a decision's trace, as a file")
def trace_pack(decision_id: str, ledger: LedgerDep, _caller: Reader) -> Response:
    with ledger.read_snapshot() as conn:
        found = decision_trace(conn, decision_id, kinds=ledger.registry)
    pack = build_pack(ledger, found.seqs, purpose=f"trace of decision {decision_id}")
    disposition = f'attachment; filename="trace-{decision_id.replace(chr(34), "_")}.govpack.json"'
    return Response(pack, media_type="application/json", headers={"Content-Disposition": disposition})
