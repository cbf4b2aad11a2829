"""`GovledgerClient` against the full service (the composition root's policy and report routers):
publishing policies, recording evaluations that the service re-judges, reports previewed,
issued and looked up. Few reports are rendered (each PDF costs about a second)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest

from ledger.client import (
    ClientError,
    ConflictError,
    EvaluationPage,
    EvaluationReceipt,
    ForbiddenError,
    GovledgerClient,
    InvalidInputError,
    NotFoundError,
    PolicyList,
    PolicyReceipt,
    Report,
)
from policies.loader import load_policy
from tests.client.conftest import LiveServer
from tests.client.helpers import dataset, decision_request, evaluation_request, model, run, sha
from tests.lineage.factories import build_chain

POLICY = load_policy("four-fifths")


def register_credit_model(producer: GovledgerClient) -> None:
    producer.register_dataset(dataset("adult-train"))
    producer.register_dataset(dataset("adult-eval"))
    producer.record_run(run("run-1", ["adult-train"]))
    producer.register_model(model("credit", "1", "run-1"))


def test_policies_and_evaluations_gate_a_promotion(live: LiveServer) -> None:
    producer, approver, ci, auditor = (live.client(r) for r in ("producer", "approver", "ci", "auditor"))
    register_credit_model(producer)

    size = live.ledger.size
    with pytest.raises(InvalidInputError) as bad_yaml:
        approver.publish_policy("rules: [")
    assert "not valid YAML" in bad_yaml.value.message and live.ledger.size == size
    with pytest.raises(ForbiddenError):
        ci.publish_policy(POLICY.text)
    published = approver.publish_policy(POLICY.text)
    assert published == PolicyReceipt(published.seq, POLICY.sha256, "four-fifths", POLICY.policy.version)
    assert published.sha256 == hashlib.sha256(POLICY.text.encode()).hexdigest()
    with pytest.raises(ConflictError):
        approver.publish_policy(POLICY.text)
    listed = auditor.list_policies()
    assert isinstance(listed, PolicyList) and listed.active == POLICY.sha256
    assert [(p["sha256"], p["seq"], p["activate"]) for p in listed.items] == [(POLICY.sha256, published.seq, True)]
    policy = auditor.get_policy(POLICY.sha256)
    assert policy["seq"] == published.seq and policy["data"]["text"] == POLICY.text
    with pytest.raises(NotFoundError):
        auditor.get_policy("0" * 64)

    # what CI asks before evaluating: the ledger's facts about the artifact and the data
    context = ci.evaluation_context(sha("model-bytes"), sha("adult-eval"))
    assert (context["model"]["name"], context["model"]["version"]) == ("credit", "1")
    assert context["evaluation_dataset"]["dataset_id"] == "adult-eval"
    assert [d["dataset_id"] for d in context["training_datasets"]] == ["adult-train"]
    unknown = auditor.evaluation_context("0" * 64, "1" * 64)
    assert unknown["model"] is None and unknown["evaluation_dataset"] is None
    with pytest.raises(InvalidInputError):
        auditor.evaluation_context("not-a-hash", sha("adult-eval"))

    # evaluations: re-judged by the service, idempotent by id, newest first
    size = live.ledger.size
    with pytest.raises(InvalidInputError) as forged:
        ci.record_evaluation(evaluation_request("ev-forged", POLICY.sha256, ratios=(0.5, 0.9), forged=True))
    assert forged.value.errors[0]["type"] == "verdict_mismatch" and live.ledger.size == size
    with pytest.raises(ForbiddenError):
        auditor.record_evaluation(evaluation_request("ev-1", POLICY.sha256))
    blocked = ci.record_evaluation(evaluation_request("ev-blocked", POLICY.sha256, ratios=(0.62, 0.9)))
    # the active policy gates the promotion: refused while the latest evaluation is blocked, and on
    # the record (who asked, why) before the 409 comes back
    refused_at = live.ledger.size
    with pytest.raises(ConflictError) as refused:
        approver.promote("credit", "1", "production", reason="release 1")
    assert refused.value.code == "promotion_blocked" and live.ledger.size == refused_at + 1
    [attempt] = auditor.list_promotions("credit", "1").items
    assert (attempt["seq"], attempt["outcome"], attempt["recorded_by"]["name"]) == (
        refused_at,
        "refused",
        "approver-key",
    )
    assert attempt["data"]["message"] == refused.value.message and attempt["data"]["reason"] == "release 1"
    assert attempt["data"]["evaluation"] == {"evaluation_id": "ev-blocked", "verdict": "blocked"}
    payload = evaluation_request("ev-passed", POLICY.sha256)
    passed = ci.record_evaluation(payload)
    assert passed == EvaluationReceipt(passed.seq, "ev-passed", already_recorded=False) and passed.seq > blocked.seq
    assert ci.record_evaluation(payload) == EvaluationReceipt(passed.seq, "ev-passed", already_recorded=True)
    assert auditor.get_evaluation("ev-passed")["data"] == payload
    assert auditor.get_evaluation("ev-blocked")["data"]["verdict"] == "blocked"
    with pytest.raises(NotFoundError):
        auditor.get_evaluation("ev-nope")
    page = auditor.list_evaluations(name="credit", version="1")
    assert isinstance(page, EvaluationPage) and page.next_before is None
    assert [(e["evaluation_id"], e["verdict"]) for e in page.items] == [
        ("ev-passed", "passed"),
        ("ev-blocked", "blocked"),
    ]
    first = auditor.list_evaluations(limit=1)
    assert [e["evaluation_id"] for e in first.items] == ["ev-passed"] and first.next_before == passed.seq
    older = auditor.list_evaluations(before=first.next_before, limit=1)
    assert [e["evaluation_id"] for e in older.items] == ["ev-blocked"]
    assert [e["evaluation_id"] for e in auditor.iter_evaluations(page_size=1)] == ["ev-passed", "ev-blocked"]
    assert list(auditor.iter_evaluations(name="other")) == []

    # the active policy now gates the promotion: the approval relies on the passing evaluation
    approver.record_approval(
        {
            "approval_id": "appr-1",
            "model": {"name": "credit", "version": "1"},
            "decision": "approve",
            "role": "approver",
            "evaluation_id": "ev-passed",
        }
    )
    promoted = approver.promote("credit", "1", "production", approval_ids=["appr-1"])
    assert promoted.kind == "model.promoted"
    history = auditor.list_promotions("credit", "1")
    assert [(a["seq"], a["outcome"]) for a in history.items] == [(refused_at, "refused"), (promoted.seq, "promoted")]
    with pytest.raises(NotFoundError):
        auditor.list_promotions("credit", "9")


def test_reports_preview_issue_and_lookup(live: LiveServer) -> None:
    producer, approver, auditor = (live.client(r) for r in ("producer", "approver", "auditor"))
    build_chain(live.ledger)
    producer.record_decision(decision_request("d-1"))

    size = live.ledger.size
    preview = auditor.decision_report("d-1", format="html")
    assert isinstance(preview, Report) and not preview.issued and preview.entry is None
    assert preview.content_type.startswith("text/html") and not preview.is_pdf
    assert "d-1" in preview.text and "not issued" in preview.text and len(preview.pdf_sha256) == 64
    assert live.ledger.size == size  # a preview never writes

    issued = approver.issue_attestation_report()
    assert issued.is_pdf and issued.content.startswith(b"%PDF") and issued.entry == size
    assert issued.pdf_sha256 == hashlib.sha256(issued.content).hexdigest()
    assert live.ledger.get(size).data["pdf_sha256"] == issued.pdf_sha256
    with pytest.raises(ValueError, match="no text"):
        _ = issued.text
    found = auditor.report_issued(issued.pdf_sha256.upper())
    assert found["issued"] is True and found["entry"]["seq"] == issued.entry
    with pytest.raises(NotFoundError):
        auditor.report_issued("0" * 64)

    # refusals (checked before anything is rendered) write nothing
    size = live.ledger.size
    with pytest.raises(ForbiddenError):
        auditor.issue_attestation_report()
    with pytest.raises(ForbiddenError):
        producer.attestation_report(format="html")
    since, until = "2026-11-01T00:00:00Z", datetime(2026, 12, 1, tzinfo=UTC)
    refusals: list[Callable[[], Report]] = [
        lambda: auditor.dossier_report("no-such-model", "1"),
        lambda: approver.issue_dossier_report("no-such-model", "1", format="html"),
        lambda: auditor.decision_report("no-such-decision.pdf"),
        lambda: approver.issue_decision_report("no-such-decision"),
        lambda: auditor.adverse_action_notice("no-such-decision", format="html"),
        lambda: approver.issue_adverse_action_notice("no-such-decision"),
        lambda: auditor.bias_audit_report("no-such-model", "1", since=since, until=until),
        lambda: approver.issue_bias_audit_report("no-such-model", "1", since=since, until=until),
    ]
    for refused in refusals:
        with pytest.raises(NotFoundError):
            refused()
    with pytest.raises(InvalidInputError):
        auditor.bias_audit_report("credit", "1", since="yesterday", until=until)
    assert live.ledger.size == size


class Recorder(httpx.BaseTransport):
    """Answers every request with a canned report and remembers what was asked."""

    def __init__(self, *, entry: int | None = None, digest: str | None = "ab" * 32) -> None:
        self.requests: list[httpx.Request] = []
        self.entry, self.digest = entry, digest

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        html = "text/html" in request.headers["accept"]
        headers = {"Content-Type": "text/html; charset=utf-8" if html else "application/pdf"}
        if self.digest is not None:
            headers["X-Govledger-Pdf-Sha256"] = self.digest
        if self.entry is not None:
            headers["X-Govledger-Entry"] = str(self.entry)
        return httpx.Response(200 if self.entry is None else 201, headers=headers, content=b"<p>" if html else b"%PDF")


@pytest.fixture
def recorded() -> Iterator[tuple[GovledgerClient, Recorder]]:
    transport = Recorder(entry=7)
    with GovledgerClient("http://ledger.test", "glk_test", transport=transport) as client:
        yield client, transport


def test_report_requests_name_their_format_in_the_path_or_accept(recorded: tuple[GovledgerClient, Recorder]) -> None:
    client, transport = recorded
    since, until = datetime(2026, 11, 1, tzinfo=UTC), "2026-12-01T00:00:00Z"
    calls: list[tuple[Callable[[], Report], str, str]] = [
        (lambda: client.dossier_report("credit", "1.pdf"), "GET", "/v1/reports/dossier/credit/1.pdf.pdf"),
        (lambda: client.issue_dossier_report("a:b", "2"), "POST", "/v1/reports/dossier/a%3Ab/2/issue"),
        (lambda: client.decision_report("d 1", format="html"), "GET", "/v1/reports/decisions/d%201.html"),
        (lambda: client.issue_decision_report("d-1"), "POST", "/v1/reports/decisions/d-1/issue"),
        (lambda: client.adverse_action_notice("d-1"), "GET", "/v1/reports/adverse-action/d-1.pdf"),
        (lambda: client.issue_adverse_action_notice("d-1"), "POST", "/v1/reports/adverse-action/d-1/issue"),
        (
            lambda: client.bias_audit_report("credit", "1", since=since, until=until),
            "GET",
            "/v1/reports/bias-audit/credit/1.pdf",
        ),
        (
            lambda: client.issue_bias_audit_report("credit", "1", since=since, until=until, format="html"),
            "POST",
            "/v1/reports/bias-audit/credit/1/issue",
        ),
        (lambda: client.attestation_report(format="html"), "GET", "/v1/reports/attestation"),
        (lambda: client.issue_attestation_report(), "POST", "/v1/reports/attestation/issue"),
    ]
    for call, method, path in calls:
        report = call()
        request = transport.requests[-1]
        assert (request.method, request.url.raw_path.split(b"?")[0].decode()) == (method, path)
        assert request.headers["accept"] in ("application/pdf", "text/html") and request.content == b""
        assert report.content_type.startswith(request.headers["accept"])
        assert (report.pdf_sha256, report.entry, report.issued) == ("ab" * 32, 7, True)
    bias = [r for r in transport.requests if "bias-audit" in r.url.path]
    assert all(dict(r.url.params) == {"since": "2026-11-01T00:00:00Z", "until": until} for r in bias)
    with pytest.raises(ValueError, match="format"):
        client.attestation_report(format="docx")  # type: ignore[arg-type]


def test_a_report_answer_without_its_pdf_hash_is_refused() -> None:
    client = GovledgerClient("http://ledger.test", "glk_test", transport=Recorder(digest=None))
    with client, pytest.raises(ClientError) as caught:
        client.attestation_report()
    assert caught.value.code == "invalid_response"
