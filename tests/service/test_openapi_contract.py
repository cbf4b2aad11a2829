"""The OpenAPI description is a contract generated clients can trust: every operation needs the
bearer key and says so, declares its success body and every error status it can return with the
one error body, lists are pages, and time parameters give their pattern and format."""

from __future__ import annotations

from typing import Any

import pytest

from govledger.registry import full_registry
from govledger.service import service_routers
from ledger.log.entry import UTC_PATTERN
from ledger.service import create_app
from reports.period import DAY_OR_UTC_PATTERN

DOCUMENTS = ("/v1/reports/", "/trace/pack")  # PDF/HTML reports and the proof pack file


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return create_app(routers=service_routers(), registry=full_registry()).openapi()


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def test_every_operation_needs_the_bearer_key_and_documents_401_and_403(spec: dict[str, Any]) -> None:
    assert spec["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "an API key: `Authorization: Bearer glk_...`",
    }
    for method, path, op in operations(spec):
        assert op.get("security") == [{"HTTPBearer": []}], (method, path)
        assert {"401", "403"} <= set(op["responses"]), (method, path)
        assert "WWW-Authenticate" in op["responses"]["401"]["headers"], (method, path)


def test_every_error_answer_is_the_one_error_body(spec: dict[str, Any]) -> None:
    for method, path, op in operations(spec):
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)


def test_writes_document_conflicts_size_and_media_type(spec: dict[str, Any]) -> None:
    for method, path, op in operations(spec):
        if method == "POST" and "requestBody" in op:
            assert {"409", "413", "415", "422"} <= set(op["responses"]), (method, path)


def test_every_success_has_a_declared_body(spec: dict[str, Any]) -> None:
    for method, path, op in operations(spec):
        successes = {s: r for s, r in op["responses"].items() if s.startswith("2")}
        assert successes, (method, path)
        for response in successes.values():
            content = response["content"]
            if any(part in path for part in DOCUMENTS):
                continue
            schema = content["application/json"]["schema"]
            assert schema not in ({}, {"type": "object"}), (method, path)
            assert schema.get("additionalProperties") is not True, (method, path)


def test_lists_are_pages_with_their_cursor(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    pages = [name for name in schemas if name.startswith(("Page_", "NewestFirstPage_"))]
    assert len(pages) >= 9
    for name in pages:
        cursor = "next_before" if name.startswith("NewestFirst") else "next_after"
        assert set(schemas[name]["required"]) == {"items", cursor}, name


def test_time_parameters_give_pattern_and_date_time_format(spec: dict[str, Any]) -> None:
    seen = 0
    for method, path, op in operations(spec):
        for parameter in op.get("parameters", []):
            if parameter["name"] in ("since", "until", "as_of"):
                outer = parameter["schema"]  # optional ones: anyOf [string, null], format beside it
                string = next(s for s in outer.get("anyOf", [outer]) if s.get("type") == "string")
                if path.startswith("/v1/reports/"):  # a report period: a plain day or a time (reports.period)
                    assert string["pattern"] == DAY_OR_UTC_PATTERN, (method, path)
                else:
                    assert outer["format"] == "date-time" and string["pattern"] == UTC_PATTERN, (method, path)
                seen += 1
    assert seen >= 16


def test_wire_models_keep_every_field_the_service_had() -> None:
    """Pydantic drops what a response model does not declare: a projection column or a JSON field
    added without its wire field would silently vanish from the API. Compare them here."""
    from ledger.lineage import tables as t
    from ledger.lineage.graph_results import Edge, Graph, Node
    from ledger.log.entry import Actor, Entry
    from ledger.storage.proofs import ConsistencyProof, InclusionProof
    from ledger.wire import (
        AppealRecord,
        ApprovalRecord,
        DatasetRecord,
        DatasetRow,
        DecisionRecord,
        EvaluationSummary,
        GraphEdge,
        GraphNode,
        LineageGraph,
        ModelRecord,
        ReviewRecord,
        RunRecord,
    )
    from ledger.wire import ConsistencyProof as WireConsistency
    from ledger.wire import Entry as WireEntry
    from ledger.wire import InclusionProof as WireInclusion

    entry = {"recorded_at", "recorded_by", "data"}
    for table, model, added in [
        (t.datasets, DatasetRow, entry),
        (t.datasets, DatasetRecord, entry),
        (t.runs, RunRecord, entry),
        (t.models, ModelRecord, entry),
        (t.approvals, ApprovalRecord, entry),
        (t.decisions, DecisionRecord, entry),
        (t.reviews, ReviewRecord, entry),
        (t.appeals, AppealRecord, entry),
        (t.evaluations, EvaluationSummary, set()),
    ]:
        assert {c.name for c in table.columns} | added == set(model.model_fields), model.__name__
    node = Node("dataset:a", "dataset", 1, "2026-01-01T00:00:00.000000Z")
    edge = Edge("run:r", "dataset:a", "trained_on")
    domain = [
        (InclusionProof(1, 2, b"\0" * 32, [], b"\0" * 32).as_json(), WireInclusion),
        (ConsistencyProof(1, 2, b"\0" * 32, b"\0" * 32, []).as_json(), WireConsistency),
        (Graph("dataset:a", "upstream", [node], [edge]).as_json(), LineageGraph),
        (node.as_json(), GraphNode),
        (edge.as_json(), GraphEdge),
    ]
    actor = Actor("system", "govledger")
    stored = Entry(0, "2026-01-01T00:00:00.000000Z", "log.created", None, actor, {}, "00", b"{}", b"\0" * 32)
    domain.append((stored.as_json(), WireEntry))
    for shape, model in domain:
        assert set(shape) == set(model.model_fields), model.__name__
    assert set(actor.as_json()) == {"id", "name"}
