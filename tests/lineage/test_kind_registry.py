"""The entry kind is the unit of extension: every kind is declared once, completely, and the
ledger, the service and the traces ask that declaration.

A test-only kind, `flag.raised` (an auditor flags a decision), is declared in ONE place below
(`FLAG`) and registered into a registry built for the test. Nothing else is edited, yet it is
appendable by its writers only, validated, checked and projected in the append's transaction,
placed in decision traces, and verified offline; a registry without it refuses it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, status
from pydantic import Field
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, insert, select

from govledger.registry import full_registry
from govledger.service import service_routers
from ledger.access.api_keys import Principal, create_api_key
from ledger.access.roles import Role
from ledger.api import Ledger, local_actor
from ledger.config import Settings
from ledger.errors import InvalidInputError, NotFoundError
from ledger.kinds import (
    CALLER_SUBJECT,
    NO_PROJECTION,
    NOT_IN_TRACES,
    SYSTEM_ONLY,
    KindRegistry,
    KindSpec,
    TraceRole,
    UnknownKindError,
)
from ledger.kinds.spec import TraceItem
from ledger.lineage import open_governance_ledger, rebuild_projections
from ledger.lineage import tables as t
from ledger.lineage.schemas import Identifier
from ledger.lineage.trace import trace_with_pack
from ledger.log.canonical import canonical_json
from ledger.log.entry import SealedEntry
from ledger.log.kinds import Payload
from ledger.service import create_app
from ledger.service.deps import LedgerDep, writer_of
from ledger.storage.sequencer import CheckpointPolicy
from ledger.verification.proofpack import PackError
from ledger.verification.trace_check import verify_trace
from tests.lineage.factories import SCORING_SERVICE, build_chain, decision

EXPECTED_KINDS = {
    "log.created",
    "key.rotated",
    "note.recorded",
    "access.key_created",
    "access.key_revoked",
    "dataset.registered",
    "training_run.recorded",
    "model.registered",
    "approval.recorded",
    "model.promoted",
    "promotion.refused",
    "model.retired",
    "decision.recorded",
    "decision.reviewed",
    "decision.appealed",
    "subject.erased",
    "decisions.dropped",
    "policy.published",
    "evaluation.recorded",
    "report.issued",
}


def test_every_kind_is_declared_completely() -> None:
    registry = full_registry()
    assert set(registry.kinds) == EXPECTED_KINDS
    for spec in registry:
        assert issubclass(spec.payload, Payload), spec.kind
        assert spec.writers is SYSTEM_ONLY or (
            isinstance(spec.writers, frozenset) and all(isinstance(r, Role) for r in spec.writers)
        ), spec.kind
        assert spec.subject is CALLER_SUBJECT or callable(spec.subject), spec.kind
        assert isinstance(spec.checks, tuple) and all(callable(c) for c in spec.checks), spec.kind
        assert spec.projection is NO_PROJECTION or callable(spec.projection), spec.kind
        assert spec.trace_role is NOT_IN_TRACES or isinstance(spec.trace_role, TraceRole), spec.kind
    assert registry.spec("evaluation.recorded").checks, "evaluations are re-judged at append"
    assert registry.spec("decision.recorded").bulk_projection is not None, "decisions keep their bulk path"
    system = {k for k in registry.kinds if registry.is_system_kind(k)}
    assert system == {"log.created", "key.rotated", "promotion.refused"}  # the last: the gate's own record


# -- the test-only kind, declared once ----------------------------------------------------------

flags_metadata = MetaData()
flags = Table(
    "test_flags",
    flags_metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("decision_id", String(200), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("ts", String(40), nullable=False),
)


class FlagRaised(Payload):
    decision_id: Identifier
    reason: Annotated[str, Field(min_length=1, max_length=200)]


def flag_subject(payload: FlagRaised) -> str:
    return f"decision:{payload.decision_id}"


def decision_exists(conn: Connection, entry: SealedEntry, payload: FlagRaised) -> None:
    """The append check: a flag names a recorded decision (it sees the validated model)."""
    assert isinstance(payload, FlagRaised)
    found = conn.execute(select(t.decisions.c.seq).where(t.decisions.c.decision_id == payload.decision_id)).first()
    if found is None:
        raise NotFoundError(f"decision {payload.decision_id!r} is not recorded")


def project_flag(conn: Connection, entry: SealedEntry) -> None:
    conn.execute(
        insert(flags).values(
            seq=entry.seq, decision_id=entry.data["decision_id"], reason=entry.data["reason"], ts=entry.ts
        )
    )


def collect_flags(conn: Connection, decision_id: str, decision_seq: int) -> list[TraceItem]:
    rows = conn.execute(select(flags).where(flags.c.decision_id == decision_id).order_by(flags.c.seq))
    return [TraceItem(row.seq, row.ts, {"reason": row.reason}) for row in rows]


FLAG = KindSpec(
    kind="flag.raised",
    payload=FlagRaised,
    writers=frozenset({Role.AUDITOR}),
    subject=flag_subject,
    checks=(decision_exists,),
    projection=project_flag,
    trace_role=TraceRole(node="flag", member="flags", collect=collect_flags, relation="flagged"),
)
FIELDS = ("kind", "payload", "writers", "subject", "checks", "projection", "trace_role")


@pytest.mark.parametrize("field", FIELDS)
def test_a_spec_missing_a_part_is_refused(field: str) -> None:
    parts = {f.name: getattr(FLAG, f.name) for f in dataclasses.fields(FLAG)}
    with pytest.raises(TypeError, match=field):
        KindSpec(**{name: value for name, value in parts.items() if name != field})
    with pytest.raises(ValueError, match=r"flag\.raised|kind must"):
        KindSpec(**{**parts, field: None})


def test_a_kind_declared_twice_is_refused() -> None:
    registry = full_registry()
    with pytest.raises(ValueError, match="declared twice"):
        registry.register(dataclasses.replace(registry.spec("dataset.registered")))
    with pytest.raises(ValueError, match="declared twice"):
        KindRegistry([FLAG, FLAG])
    with pytest.raises(TypeError, match="KindSpec"):
        KindRegistry([("flag.raised", FlagRaised)])  # type: ignore[list-item]


def test_a_trace_role_says_how_its_nodes_are_found() -> None:
    with pytest.raises(ValueError, match="needs collect and relation"):
        TraceRole(node="flag", member="flags")
    with pytest.raises(ValueError, match="filled by the trace builder"):
        TraceRole(node="flag", member="reviews", collect=collect_flags, relation="flagged")


# -- the kind in use ----------------------------------------------------------------------------

ROLES = ("admin", "producer", "ci", "approver", "auditor")
router = APIRouter(prefix="/v1")


@router.post("/flags", status_code=status.HTTP_201_CREATED)
def raise_flag(
    body: dict[str, Any], ledger: LedgerDep, principal: Annotated[Principal, Depends(writer_of("flag.raised"))]
) -> dict[str, int]:
    """Passes the body on unvalidated: validation is the registry's."""
    return {"seq": ledger.append("flag.raised", body, actor=principal.actor).seq}


@pytest.fixture
def flagged(db_url: str, home: Path) -> Iterator[Ledger]:
    """A governance ledger whose registry is the full one plus `FLAG`, with credit@1 deciding d-1."""
    registry = KindRegistry([*full_registry(), FLAG])
    settings = Settings(database_url=db_url, home=home)
    ledger = open_governance_ledger(
        settings, registry=registry, policy=CheckpointPolicy(after_batch=True, max_delay_s=None)
    )
    flags_metadata.create_all(ledger.engine)
    ledger.init(origin="kinds.example/log")
    facts = build_chain(ledger)
    ledger.append("decision.recorded", decision("d-1", facts), actor=SCORING_SERVICE)
    try:
        yield ledger
    finally:
        ledger.close()


def flag_rows(ledger: Ledger) -> list[tuple[Any, ...]]:
    with ledger.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(select(flags.c.seq, flags.c.decision_id).order_by(flags.c.seq))]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_a_kind_declared_once_is_written_by_its_writers_only_validated_and_projected(flagged: Ledger) -> None:
    tokens = {role: create_api_key(flagged, name=f"{role}-key", role=role, actor=local_actor())[0] for role in ROLES}
    app = create_app(ledger=flagged, routers=[*service_routers(), router])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:

        async def post(role: str, body: dict[str, Any]) -> httpx.Response:
            return await client.post("/v1/flags", json=body, headers={"Authorization": f"Bearer {tokens[role]}"})

        size = flagged.size
        for role in ("producer", "ci", "approver"):
            refused = await post(role, {"decision_id": "d-1", "reason": "odd score"})
            assert refused.status_code == 403, (role, refused.text)
            assert "flag.raised" in refused.json()["error"]["message"]
        bad = await post("auditor", {"decision_id": "d-1"})  # no reason: the registry validates
        assert bad.status_code == 422 and bad.json()["error"]["errors"][0]["loc"][-1] == "reason"
        unknown = await post("auditor", {"decision_id": "d-9", "reason": "odd score"})  # the check refuses
        assert unknown.status_code == 404
        assert flagged.size == size and flag_rows(flagged) == []  # nothing written, nothing projected
        auditor = await post("auditor", {"decision_id": "d-1", "reason": "odd score"})
        admin = await post("admin", {"decision_id": "d-1", "reason": "checked"})
        assert auditor.status_code == admin.status_code == 201
    seqs = [auditor.json()["seq"], admin.json()["seq"]]
    assert flag_rows(flagged) == [(seqs[0], "d-1"), (seqs[1], "d-1")]  # projected in the append's transaction
    assert flagged.get(seqs[0]).subject == "decision:d-1"  # the subject rule
    with pytest.raises(InvalidInputError, match="written by govledger itself"):
        flagged.append("log.created", {"origin": "x", "key": "k", "software": "s"}, actor=local_actor())


def test_a_kind_declared_once_is_placed_in_traces(flagged: Ledger) -> None:
    seq = flagged.append("flag.raised", {"decision_id": "d-1", "reason": "odd score"}, actor=local_actor()).seq
    result = trace_with_pack(flagged, "d-1")
    trace = result["trace"]
    assert [(n["id"], n["kind"], n["seq"]) for n in trace["flags"]] == [(f"flag:{seq}", "flag", seq)]
    assert trace["flags"][0]["attributes"] == {"reason": "odd score"}
    assert {"source": f"flag:{seq}", "target": "decision:d-1", "relation": "flagged"} in trace["edges"]
    assert seq in trace["seqs"]
    pack = canonical_json(result["pack"])
    assert verify_trace(pack, trace, kinds=flagged.registry).size >= seq + 1
    forged = {**trace, "flags": [{**trace["flags"][0], "id": "flag:1"}]}
    with pytest.raises(PackError, match="flag:1"):
        verify_trace(pack, forged, kinds=flagged.registry)
    with pytest.raises(PackError, match="unknown members: flags"):  # the trace roles are the registry's
        verify_trace(pack, trace, kinds=full_registry())


def test_a_registry_without_the_kind_refuses_it(flagged: Ledger, db_url: str, home: Path) -> None:
    flagged.append("flag.raised", {"decision_id": "d-1", "reason": "odd score"}, actor=local_actor())
    with open_governance_ledger(Settings(database_url=db_url, home=home), registry=full_registry()) as other:
        size = other.size
        with pytest.raises(InvalidInputError, match=r"unknown kind 'flag\.raised'"):
            other.append("flag.raised", {"decision_id": "d-1", "reason": "again"}, actor=local_actor())
        assert other.size == size
        assert other.get(size - 1).kind == "flag.raised"  # reading it still works
        with pytest.raises(UnknownKindError, match="registry does not declare"):
            rebuild_projections(other, check=True)  # a rebuild never skips what it cannot project
