"""The log itself: entries with inclusion proofs, checkpoints, consistency proofs (every role reads)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from ledger.errors import NotFoundError
from ledger.lineage import queries
from ledger.service.deps import MAX_SEQ, LedgerDep, Reader
from ledger.service.params import Limit, TimeRange, time_range
from ledger.service.responses import READ, READ_ONE, errors
from ledger.service.stored_json import stored_payload_response
from ledger.wire import Checkpoint, ConsistencyProof, Entry, EntryWithProof, InclusionProof, Page

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["log"])


def _as_page(page: Any) -> dict[str, Any]:
    return {"items": page.items, "next_after": page.next_after}


@router.get(
    "/entries/{seq}",
    summary="One entry, with its inclusion proof against the latest checkpoint",
    response_model=EntryWithProof,
    responses=READ_ONE,
)
def get_entry(seq: Annotated[int, Path(ge=0, le=MAX_SEQ)], ledger: LedgerDep, _caller: Reader) -> Response:
    entry = ledger.get(seq)
    checkpoint = ledger.latest_checkpoint()
    value = entry.as_json()
    if checkpoint is not None and checkpoint.size > seq:
        value["inclusion_proof"] = ledger.inclusion_proof(seq, checkpoint.size).as_json()
        value["checkpoint"] = checkpoint.note
    else:
        value["inclusion_proof"] = None  # not yet covered: ask again within a second
        value["checkpoint"] = None
    return stored_payload_response(EntryWithProof, value)


@router.get(
    "/entries",
    summary="Entries in sequence order, filtered by kind, subject and time recorded",
    response_model=Page[Entry],
    responses=READ,
)
def list_entries(
    ledger: LedgerDep,
    _caller: Reader,
    recorded: Annotated[TimeRange, Depends(time_range)],
    after: Annotated[
        int | None, Query(ge=-1, le=MAX_SEQ, description="cursor: the next_after of the previous page")
    ] = None,
    limit: Limit = 100,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    subject: Annotated[str | None, Query(max_length=256)] = None,
) -> Response:
    with ledger.read_snapshot() as conn:  # the time range's seq bounds and the page from one snapshot
        page = queries.list_entries(
            conn, kind=kind, subject=subject, since=recorded.since, until=recorded.until, after=after, limit=limit
        )
    return stored_payload_response(Page[Entry], _as_page(page))


@router.get(
    "/checkpoints/latest",
    summary="The newest signed checkpoint (C2SP signed note); 404 before the first",
    responses=errors(401, 403, 404),
)
def latest_checkpoint(ledger: LedgerDep, _caller: Reader) -> Checkpoint:
    checkpoint = ledger.latest_checkpoint()
    if checkpoint is None:
        raise NotFoundError("no checkpoint has been signed yet")
    ring = ledger.key_ring()
    return Checkpoint(
        origin=checkpoint.checkpoint.origin,
        size=checkpoint.size,
        root=checkpoint.root.hex(),
        note=checkpoint.note,
        keys=[r.verifier.vkey for r in ring.records],
    )


@router.get(
    "/proofs/consistency",
    summary="Proof that the tree of size old is a prefix of the tree of size new (422 beyond the log)",
    responses=READ,
)
def consistency(
    ledger: LedgerDep,
    _caller: Reader,
    old: Annotated[int, Query(ge=0, le=MAX_SEQ)],
    new: Annotated[int | None, Query(ge=0, le=MAX_SEQ)] = None,
) -> ConsistencyProof:
    return ConsistencyProof.model_validate(ledger.consistency_proof(old, new).as_json())


@router.get(
    "/proofs/inclusion/{seq}", summary="Inclusion proof of one entry in the tree of a given size", responses=READ_ONE
)
def inclusion(
    seq: Annotated[int, Path(ge=0, le=MAX_SEQ)],
    ledger: LedgerDep,
    _caller: Reader,
    size: Annotated[int | None, Query(ge=1, le=MAX_SEQ)] = None,
) -> InclusionProof:
    return InclusionProof.model_validate(ledger.inclusion_proof(seq, size).as_json())
