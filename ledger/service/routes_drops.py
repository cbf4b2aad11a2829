"""Dropped decisions: a client that had to give up on decision records says so, on the record.

A scoring service's logger can lose decisions (its queue overflowed, or the service refused a
record and retrying would not help). Gaps in an audit log must never be silent, so the client
appends a `decisions.dropped` entry with how many it dropped, when, and why. Producers write it
(the role that writes decisions), and admins.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from ledger.access.api_keys import Principal
from ledger.lineage.schemas import DecisionsDropped
from ledger.service.deps import LedgerDep, json_body_only, writer_of
from ledger.service.responses import WRITE
from ledger.service.routes_lineage import receipt
from ledger.wire import Receipt

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["decisions"])
DropWriter = Annotated[Principal, Depends(writer_of("decisions.dropped"))]


@router.post(
    "/decisions/dropped",
    status_code=status.HTTP_201_CREATED,
    summary="Record that a client dropped decision records (how many, when, why)",
    responses=WRITE,
    dependencies=[Depends(json_body_only())],
)
def record_dropped(body: DecisionsDropped, ledger: LedgerDep, principal: DropWriter) -> Receipt:
    return receipt(ledger, "decisions.dropped", body, principal)
