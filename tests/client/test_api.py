"""`GovledgerClient` against a real service: every endpoint, error mapping, cursors."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from ledger.client import (
    ClientError,
    ConflictError,
    DecisionReceipt,
    ForbiddenError,
    GovledgerClient,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    Receipt,
    ServiceUnavailable,
    UnauthorizedError,
    utc_timestamp,
)
from ledger.log import merkle
from ledger.verification.proofpack import verify_pack
from tests.client.conftest import LiveServer, free_port
from tests.client.helpers import dataset, decision_request, model, run
from tests.lineage.factories import build_chain


def test_every_endpoint_round_trip(live: LiveServer) -> None:
    producer, approver, auditor, admin = (live.client(r) for r in ("producer", "approver", "auditor", "admin"))
    assert auditor.health() is True

    raw = producer.register_dataset(dataset("adult-raw"))
    assert isinstance(raw, Receipt) and raw.kind == "dataset.registered" and len(raw.leaf_hash) == 64
    producer.register_dataset(dataset("adult-clean", derived_from=["adult-raw"]))
    assert producer.record_run(run("run-1", ["adult-clean"])).kind == "training_run.recorded"
    assert producer.register_model(model("credit", "1", "run-1")).kind == "model.registered"
    approval = approver.record_approval(
        {"approval_id": "appr-1", "model": {"name": "credit", "version": "1"}, "decision": "approve", "role": "risk"}
    )
    assert approval.kind == "approval.recorded"
    promoted = approver.promote("credit", "1", "production", reason="validated", approval_ids=["appr-1"])
    assert promoted.kind == "model.promoted" and promoted.seq > approval.seq

    # reads
    assert auditor.get_dataset("adult-clean")["data"]["derived_from"] == ["adult-raw"]
    assert [d["dataset_id"] for d in auditor.list_datasets().items] == ["adult-raw", "adult-clean"]
    assert auditor.get_run("run-1")["data"]["input_datasets"] == ["adult-clean"]
    assert auditor.get_model("credit", "1")["stage"] == "production"
    assert [m["version"] for m in auditor.list_models(name="credit", stage="production").items] == ["1"]
    assert auditor.list_models(stage="retired").items == ()
    assert [a["approval_id"] for a in auditor.list_approvals(model_name="credit", model_version="1").items] == [
        "appr-1"
    ]

    # decisions: one, a batch with a retry in it, reads, review
    single = producer.record_decision(decision_request("d-1"))
    assert isinstance(single, DecisionReceipt) and not single.duplicate and single.leaf_hash is not None
    again = producer.record_decision(decision_request("d-1"))
    assert again == DecisionReceipt("d-1", single.seq, duplicate=True)
    batch = producer.record_decisions(
        [decision_request("d-1"), decision_request("d-2", subject="applicant-2", adverse=False)]
    )
    assert [r.decision_id for r in batch.recorded] == ["d-2"]
    assert batch.duplicates == (DecisionReceipt("d-1", single.seq, duplicate=True),)
    record = auditor.get_decision("d-1")
    assert record["seq"] == single.seq and record["data"]["promotion_seq"] == promoted.seq
    assert "54321" not in str(record["data"])  # the input is sealed
    assert [d["decision_id"] for d in auditor.list_decisions(adverse=True).items] == ["d-1"]
    assert [d["decision_id"] for d in auditor.list_decisions(model="credit@1", subject_ref="applicant-2").items] == [
        "d-2"
    ]
    tomorrow = datetime.now(UTC) + timedelta(days=1)  # since/until filter on the time recorded
    assert auditor.list_decisions(outcome="deny", since=f"{tomorrow:%Y-%m-%d}T00:00:00Z").items == ()
    assert len(auditor.list_decisions(until=tomorrow).items) == 2
    reviewed = approver.review_decision(
        "d-1",
        "overridden",
        reviewed_at=datetime(2026, 11, 24, 10, 0, 0, 123000, tzinfo=timezone(timedelta(hours=1))),
        override_reason="income verified",
        new_decision="approve",
    )
    assert reviewed.kind == "decision.reviewed"
    assert auditor.get_entry(reviewed.seq)["data"]["reviewed_at"] == "2026-11-24T09:00:00.123000Z"
    with pytest.raises(ValueError, match="naive"):
        utc_timestamp(datetime(2026, 1, 1))

    # lineage graphs, models in production, decision traces with their proof pack
    upstream = auditor.lineage_graph("decision", "d-1")
    assert {n["id"] for n in upstream["nodes"]} >= {"decision:d-1", "model:credit@1", "run:run-1", "dataset:adult-raw"}
    downstream = auditor.lineage_graph("dataset", "adult-raw", direction="downstream", decision_limit=10)
    assert {"dataset:adult-clean", "model:credit@1", "decision:d-2"} <= {n["id"] for n in downstream["nodes"]}
    assert auditor.lineage_graph("dataset", "adult-raw", as_of=raw.ts)["nodes"][0]["id"] == "dataset:adult-raw"
    assert [m["id"] for m in auditor.models_in_production()["models"]] == ["model:credit@1"]
    trace = auditor.decision_trace("d-1")
    assert promoted.seq in trace["trace"]["seqs"] and reviewed.seq in trace["trace"]["seqs"]
    pack = auditor.decision_trace_pack("d-1")
    assert [e["seq"] for e in verify_pack(pack).entries] == trace["trace"]["seqs"]

    dropped = producer.record_dropped(
        client_id="scoring-1",
        count=3,
        first_dropped_at="2026-11-24T09:00:00Z",
        last_dropped_at="2026-11-24T09:00:01Z",
        reason="queue full",
    )
    assert dropped.kind == "decisions.dropped"
    assert auditor.get_entry(dropped.seq)["data"]["count"] == 3

    erased = admin.erase_subject("applicant-1", reason="GDPR Art. 17 request", legal_basis="GDPR 17(1)(a)")
    assert erased.kind == "subject.erased"
    retired = approver.retire("credit", "1", reason="superseded")
    assert retired.kind == "model.retired" and auditor.get_model("credit", "1")["stage"] == "retired"
    assert auditor.models_in_production()["models"] == []
    assert [m["id"] for m in auditor.models_in_production(as_of=reviewed.ts)["models"]] == ["model:credit@1"]
    with pytest.raises(NotFoundError):
        auditor.lineage_graph("model", "credit@9")

    # the log: entries with inclusion proofs, checkpoints, consistency
    checkpoint = auditor.checkpoint_latest()
    assert checkpoint["size"] == retired.seq + 1 and checkpoint["keys"]
    entry = auditor.get_entry(single.seq)
    assert entry["checkpoint"] is not None and entry["inclusion_proof"]["seq"] == single.seq
    proof = auditor.inclusion_proof(single.seq, size=checkpoint["size"])
    merkle.verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]),
        single.seq,
        checkpoint["size"],
        [bytes.fromhex(h) for h in proof["path"]],
        bytes.fromhex(checkpoint["root"]),
    )
    assert proof["leaf_hash"] == single.leaf_hash
    consistency = auditor.consistency_proof(promoted.seq + 1, checkpoint["size"])
    merkle.verify_consistency(
        consistency["old_size"],
        consistency["new_size"],
        bytes.fromhex(consistency["old_root"]),
        bytes.fromhex(checkpoint["root"]),
        [bytes.fromhex(h) for h in consistency["path"]],
    )
    assert auditor.consistency_proof(1)["new_size"] == checkpoint["size"]
    kinds = [e["kind"] for e in auditor.list_entries(after=promoted.seq - 1, limit=3).items]
    assert kinds == ["model.promoted", "decision.recorded", "decision.recorded"]
    assert [e["seq"] for e in auditor.list_entries(subject="dataset:adult-raw").items] == [raw.seq]


def test_errors_map_to_one_hierarchy(live: LiveServer) -> None:
    producer, auditor = live.client("producer"), live.client("auditor")
    producer.register_dataset(dataset("ds-1"))

    with pytest.raises(UnauthorizedError) as unauthorized:
        GovledgerClient(live.url, "glk_0000000000000000_" + "A" * 43).list_datasets()
    assert (unauthorized.value.status, unauthorized.value.code) == (401, "unauthorized")
    with pytest.raises(ForbiddenError) as forbidden:
        auditor.register_dataset(dataset("ds-2"))
    assert (forbidden.value.status, forbidden.value.code) == (403, "forbidden")
    assert "auditor" in forbidden.value.message
    with pytest.raises(NotFoundError) as not_found:
        auditor.get_dataset("nope")
    assert (not_found.value.status, not_found.value.code) == (404, "not_found")
    with pytest.raises(ConflictError) as conflict:
        producer.register_dataset(dataset("ds-1"))
    assert conflict.value.status == 409 and "already registered" in conflict.value.message
    with pytest.raises(InvalidInputError) as invalid:
        producer.register_dataset({**dataset("ds-3"), "content_sha256": "not-a-hash", "rows": -1})
    assert (invalid.value.status, invalid.value.code) == (422, "invalid_input")
    assert {tuple(e["loc"])[-1] for e in invalid.value.errors} >= {"content_sha256", "rows"}
    with pytest.raises(InvalidInputError):
        auditor.list_decisions(since="yesterday")
    with pytest.raises(PayloadTooLargeError) as too_large:
        producer.register_dataset({**dataset("ds-4"), "description": "x" * 70_000})
    assert (too_large.value.status, too_large.value.code) == (413, "payload_too_large")
    with pytest.raises(PayloadTooLargeError):  # the batch endpoint has its own (larger) limit
        producer.record_decisions([{**decision_request(f"big-{i}"), "pad": "x" * 1000} for i in range(1100)])
    for error in (unauthorized, forbidden, not_found, conflict, invalid, too_large):
        assert isinstance(error.value, ClientError) and str(error.value).startswith(f"HTTP {error.value.status}")

    nobody = GovledgerClient(f"http://127.0.0.1:{free_port()}", live.tokens["auditor"], timeout=2)
    with pytest.raises(ServiceUnavailable) as unavailable:
        nobody.list_entries()
    assert unavailable.value.status is None and unavailable.value.code == "connection_failed"
    assert nobody.health() is False
    nobody.close()
    with pytest.raises(ValueError, match="identifier"):
        auditor.get_dataset("..")


def test_cursor_iteration_follows_next_after(live: LiveServer) -> None:
    producer, auditor = live.client("producer"), live.client("auditor")
    ids = [f"ds-{i:02d}" for i in range(25)]
    for dataset_id in ids:
        producer.register_dataset(dataset(dataset_id))
    first = auditor.list_datasets(limit=10)
    assert len(first.items) == 10 and first.next_after == first.items[-1]["seq"]
    second = auditor.list_datasets(after=first.next_after, limit=10)
    third = auditor.list_datasets(after=second.next_after, limit=10)
    assert len(third.items) == 5 and third.next_after is None
    assert [d["dataset_id"] for d in (*first.items, *second.items, *third.items)] == ids
    assert [d["dataset_id"] for d in auditor.iter_datasets(page_size=7)] == ids
    assert [d["dataset_id"] for d in auditor.iter_datasets(after=first.next_after, page_size=4)] == ids[10:]
    entries = list(auditor.iter_entries(kind="dataset.registered", page_size=6))
    assert [e["data"]["dataset_id"] for e in entries] == ids
    assert len(list(auditor.iter_entries(page_size=1000))) == live.ledger.size

    facts = build_chain(live.ledger)
    assert facts["model"]["name"] == "credit"
    requests = [decision_request(f"d-{i:03d}", subject=f"s-{i % 3}", adverse=i % 2 == 0) for i in range(40)]
    producer.record_decisions(requests)
    adverse_s1 = [d["decision_id"] for d in auditor.iter_decisions(subject_ref="s-1", adverse=True, page_size=3)]
    assert adverse_s1 == [r["decision_id"] for i, r in enumerate(requests) if i % 3 == 1 and i % 2 == 0]
    assert len(list(auditor.iter_models(page_size=1))) == 1
    assert len(list(auditor.iter_approvals(model_name="credit", page_size=1))) == 1


def test_runs_one_approval_reviews_and_time_ranges(live: LiveServer) -> None:
    producer, approver, auditor = live.client("producer"), live.client("approver"), live.client("auditor")
    producer.register_dataset(dataset("raw"))
    first = producer.record_run(run("run-1", ["raw"]))
    producer.register_model(model("credit", "1", "run-1"))
    approver.record_approval(
        {"approval_id": "appr-1", "model": {"name": "credit", "version": "1"}, "decision": "approve", "role": "risk"}
    )
    time.sleep(0.002)  # the next entries are recorded strictly later
    cut = producer.register_dataset(dataset("clean", derived_from=["raw"]))
    assert cut.ts > auditor.get_entry(cut.seq - 1)["ts"]
    producer.record_run(run("run-2", ["clean"]))
    producer.record_run(run("run-3", ["raw", "clean"]))
    producer.register_model(model("credit", "2", "run-2"))
    approver.record_approval(
        {"approval_id": "appr-2", "model": {"name": "credit", "version": "2"}, "decision": "reject", "role": "risk"}
    )

    assert [r["run_id"] for r in auditor.list_runs().items] == ["run-1", "run-2", "run-3"]
    assert [r["run_id"] for r in auditor.list_runs(input_dataset="raw").items] == ["run-1", "run-3"]
    assert [r["run_id"] for r in auditor.list_runs(input_dataset="clean", since=cut.ts).items] == ["run-2", "run-3"]
    assert [r["run_id"] for r in auditor.list_runs(until=cut.ts).items] == ["run-1"]
    page = auditor.list_runs(limit=1)
    assert page.next_after == first.seq
    assert [r["run_id"] for r in auditor.iter_runs(input_dataset="clean", page_size=1)] == ["run-2", "run-3"]

    moment = datetime.strptime(cut.ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)  # a datetime works too
    assert [d["dataset_id"] for d in auditor.list_datasets(since=moment).items] == ["clean"]
    assert [d["dataset_id"] for d in auditor.iter_datasets(until=moment, page_size=1)] == ["raw"]
    assert [m["version"] for m in auditor.list_models(name="credit", since=cut.ts).items] == ["2"]
    assert [m["version"] for m in auditor.iter_models(until=cut.ts, page_size=1)] == ["1"]
    assert [a["approval_id"] for a in auditor.list_approvals(since=cut.ts).items] == ["appr-2"]
    assert [a["approval_id"] for a in auditor.iter_approvals(until=cut.ts, page_size=1)] == ["appr-1"]
    assert [e["seq"] for e in auditor.list_entries(since=cut.ts, limit=2).items] == [cut.seq, cut.seq + 1]
    later = [e["seq"] for e in auditor.iter_entries(since=cut.ts, page_size=2)]
    assert later == list(range(cut.seq, live.ledger.size))
    assert [e["seq"] for e in auditor.iter_entries(kind="dataset.registered", until=cut.ts)] == [cut.seq - 4]
    with pytest.raises(InvalidInputError) as backwards:
        auditor.list_runs(since=cut.ts, until="2000-01-01T00:00:00Z")
    assert backwards.value.status == 422 and backwards.value.errors[0]["loc"] == ["query", "until"]
    with pytest.raises(InvalidInputError):
        auditor.list_entries(since="2026-02-30T00:00:00Z")

    got = auditor.get_approval("appr-2")
    assert (got["approval_id"], got["decision"], got["version"]) == ("appr-2", "reject", "2")
    with pytest.raises(NotFoundError):
        auditor.get_approval("appr-9")

    approver.promote("credit", "1", "production", approval_ids=["appr-1"])
    producer.record_decision(decision_request("d-1"))
    assert auditor.list_reviews("d-1").items == ()
    for outcome, day in (("overridden", 24), ("reversed", 25)):
        approver.review_decision("d-1", outcome, reviewed_at=f"2026-11-{day}T09:00:00Z", override_reason="appeal")
    reviews = auditor.list_reviews("d-1")
    assert [r["outcome"] for r in reviews.items] == ["overridden", "reversed"] and reviews.next_after is None
    assert [r["outcome"] for r in auditor.iter_reviews("d-1", page_size=1)] == ["overridden", "reversed"]
    assert auditor.list_reviews("d-1", after=reviews.items[0]["seq"]).items == reviews.items[1:]
    with pytest.raises(NotFoundError):
        auditor.list_reviews("d-9")


def test_identifiers_are_escaped_in_paths(live: LiveServer) -> None:
    producer, auditor = live.client("producer"), live.client("auditor")
    for odd in ("team:fraud+v2", "a.b-c_d", "v1+build.7"):
        producer.register_dataset(dataset(odd))
        assert auditor.get_dataset(odd)["dataset_id"] == odd  # "+" and ":" survive the round trip


def test_identifiers_with_a_slash_are_refused_so_every_id_is_one_path_segment(live: LiveServer) -> None:
    with pytest.raises(InvalidInputError):
        live.client("producer").register_dataset(dataset("team/raw"))
    live.client("producer").register_dataset(dataset("team:raw"))
    assert live.client("auditor").get_dataset("team:raw")["dataset_id"] == "team:raw"


def test_client_imports_neither_the_server_nor_the_data_stack() -> None:
    # pydantic is allowed: the client parses answers with the service's wire models (ledger.wire)
    code = (
        "import sys, ledger.client\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'fastapi', 'starlette', 'sqlalchemy', 'pandas', 'numpy', 'uvicorn', 'policies', 'reports'})\n"
        "assert not bad, bad\n"
        "assert 'ledger.wire' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_client_results_are_the_service_wire_models() -> None:
    import ledger.client as client
    import ledger.wire as wire

    for name in ("Receipt", "DecisionReceipt", "BatchResult", "PolicyReceipt", "EvaluationReceipt", "Page"):
        assert getattr(client, name) is getattr(wire, name), name
    assert client.EvaluationPage is wire.NewestFirstPage and client.PolicyList is wire.PolicyList


# Every operation the service publishes -> the client method that calls it (a new endpoint fails here).
COVERAGE: dict[tuple[str, str], str] = {
    ("GET", "/v1/entries/{seq}"): "get_entry",
    ("GET", "/v1/entries"): "list_entries",
    ("GET", "/v1/checkpoints/latest"): "checkpoint_latest",
    ("GET", "/v1/proofs/consistency"): "consistency_proof",
    ("GET", "/v1/proofs/inclusion/{seq}"): "inclusion_proof",
    ("POST", "/v1/datasets"): "register_dataset",
    ("GET", "/v1/datasets"): "list_datasets",
    ("GET", "/v1/datasets/{dataset_id}"): "get_dataset",
    ("POST", "/v1/runs"): "record_run",
    ("GET", "/v1/runs"): "list_runs",
    ("GET", "/v1/runs/{run_id}"): "get_run",
    ("POST", "/v1/models"): "register_model",
    ("GET", "/v1/models"): "list_models",
    ("GET", "/v1/models/{name}/{version}"): "get_model",
    ("POST", "/v1/models/{name}/{version}/promotions"): "promote",
    ("GET", "/v1/models/{name}/{version}/promotions"): "list_promotions",
    ("POST", "/v1/models/{name}/{version}/retirement"): "retire",
    ("POST", "/v1/approvals"): "record_approval",
    ("GET", "/v1/approvals"): "list_approvals",
    ("GET", "/v1/approvals/{approval_id}"): "get_approval",
    ("POST", "/v1/decisions/{decision_id}/reviews"): "review_decision",
    ("GET", "/v1/decisions/{decision_id}/reviews"): "list_reviews",
    ("POST", "/v1/decisions"): "record_decisions",
    ("GET", "/v1/decisions"): "list_decisions",
    ("GET", "/v1/decisions/{decision_id}"): "get_decision",
    ("DELETE", "/v1/subjects/{subject_ref}"): "erase_subject",
    ("GET", "/v1/lineage/{kind}/{object_id}"): "lineage_graph",
    ("GET", "/v1/models-in-production"): "models_in_production",
    ("POST", "/v1/decisions/{decision_id}/appeals"): "appeal_decision",
    ("GET", "/v1/decisions/{decision_id}/appeals"): "list_appeals",
    ("GET", "/v1/decisions/{decision_id}/trace"): "decision_trace",
    ("GET", "/v1/decisions/{decision_id}/trace/pack"): "decision_trace_pack",
    ("POST", "/v1/decisions/dropped"): "record_dropped",
    ("POST", "/v1/policies"): "publish_policy",
    ("GET", "/v1/policies"): "list_policies",
    ("GET", "/v1/policies/{sha256}"): "get_policy",
    ("POST", "/v1/evaluations"): "record_evaluation",
    ("GET", "/v1/evaluations"): "list_evaluations",
    ("GET", "/v1/evaluations/{evaluation_id}"): "get_evaluation",
    ("GET", "/v1/evaluation-context"): "evaluation_context",
    ("GET", "/v1/reports/dossier/{name}/{version}"): "dossier_report",
    ("POST", "/v1/reports/dossier/{name}/{version}/issue"): "issue_dossier_report",
    ("GET", "/v1/reports/decisions/{decision_id}"): "decision_report",
    ("POST", "/v1/reports/decisions/{decision_id}/issue"): "issue_decision_report",
    ("GET", "/v1/reports/adverse-action/{decision_id}"): "adverse_action_notice",
    ("POST", "/v1/reports/adverse-action/{decision_id}/issue"): "issue_adverse_action_notice",
    ("GET", "/v1/reports/bias-audit/{name}/{version}"): "bias_audit_report",
    ("POST", "/v1/reports/bias-audit/{name}/{version}/issue"): "issue_bias_audit_report",
    ("GET", "/v1/reports/attestation"): "attestation_report",
    ("GET", "/v1/reports/attestation.{fmt}"): "attestation_report",  # the same report, format by suffix
    ("POST", "/v1/reports/attestation/issue"): "issue_attestation_report",
    ("GET", "/v1/reports/issued/{pdf_sha256}"): "report_issued",
}


def test_the_client_covers_every_published_operation(live: LiveServer) -> None:
    published = {
        (method.upper(), path)
        for path, operations in live.app.openapi()["paths"].items()
        for method in operations
        if path.startswith("/v1")
    }
    assert published == set(COVERAGE)
    assert all(callable(getattr(GovledgerClient, name, None)) for name in COVERAGE.values())
