"""The decision trace report and the adverse-action notice, on the governed ledger (SQLite and
PostgreSQL): complete against their checklists, byte-for-byte deterministic, citing every entry
they rely on, and never printing personal data."""

from __future__ import annotations

import html
import re
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from govledger.demo.fair_lending import EXCLUDED_FROM_REASONS, REASON_MAP_VERSION, REASON_TEXT
from ledger.api import Ledger, local_actor
from ledger.errors import ConflictError, NotFoundError
from ledger.lineage import tables as t
from ledger.lineage.decisions import record_decisions
from ledger.privacy.sealing import ErasedInput, erase_subject, read_decision_input
from policies.artifacts import load_model
from policies.decision_log import NO_LAWFUL_REASON, decision_requests
from reports.adverse_action import CHECKLIST as NOTICE_CHECKLIST
from reports.adverse_action import build_adverse_action, derived_notice_id
from reports.decision import CHECKLIST as TRACE_CHECKLIST
from reports.decision import build_decision
from reports.document import prepare, render, render_document_html
from tests.conftest import AdultModels
from tests.lineage.factories import RISK_OFFICER
from tests.reports.conftest import Governed, key_actor


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def flat(text: str) -> str:
    return " ".join(text.split())


def plain(markup: str) -> str:
    """The text of an HTML page, whitespace collapsed (for phrases a PDF table may wrap)."""
    return flat(html.unescape(re.sub(r"<[^>]+>", " ", markup)))


def decision_data(ledger: Ledger, decision_id: str) -> tuple[int, dict[str, Any]]:
    with ledger.read_snapshot() as conn:
        seq = conn.execute(select(t.decisions.c.seq).where(t.decisions.c.decision_id == decision_id)).scalar_one()
    return seq, ledger.get(seq).data


def find_decision(
    ledger: Ledger, *, adverse: bool, explained: bool | None = None, reviewed: bool | None = None
) -> str | None:
    """The first decision that is adverse or not, explained (with reasons) or not, reviewed or not."""
    with ledger.read_snapshot() as conn:
        rows = conn.execute(
            select(t.decisions.c.decision_id, t.decisions.c.seq)
            .where(t.decisions.c.adverse == adverse)
            .order_by(t.decisions.c.seq)
        ).all()
        reviewed_ids = set(conn.execute(select(t.reviews.c.decision_id)).scalars()) if reviewed is not None else set()
    for decision_id, seq in rows:
        data = ledger.get(seq).data
        has_reasons = bool((data.get("explanation") or {}).get("reason_codes"))
        if explained is not None and has_reasons != explained:
            continue
        if reviewed is not None and (decision_id in reviewed_ids) != reviewed:
            continue
        return str(decision_id)
    return None


def html_of(ledger: Ledger, builder: Any, **params: Any) -> str:
    return flat(render_document_html(prepare(ledger, builder, **params), issue_seq=None))


def test_decision_trace_report(governed: Governed, tmp_path: Path) -> None:
    ledger = governed.ledger
    decision_id = governed.decision_id
    seq, data = decision_data(ledger, decision_id)

    first_draft = prepare(ledger, build_decision, decision_id=decision_id)
    tick = time.perf_counter()
    first = render(first_draft, issue_seq=None)
    elapsed = time.perf_counter() - tick
    second = render(prepare(ledger, build_decision, decision_id=decision_id), issue_seq=None)
    assert first.html == second.html and first.pdf == second.pdf
    print(f"decision trace PDF rendered in {elapsed:.2f} s ({len(first.pdf):,} bytes)")

    text = flat(pdf_text(first.pdf, tmp_path))
    words = plain(first.html)
    for item in TRACE_CHECKLIST:
        assert item.marker in text, item
    # the decision record
    assert f"Decision {decision_id} is recorded as ledger entry #{seq}" in words
    assert data["request_id"] in text and data["trace_id"] in text
    assert data["ts_start"] in text and data["ts_end"] in text
    artifact = data["model_artifact_sha256"]
    assert f"{artifact[:8]} {artifact[8:16]}" in text  # printed whole, in groups of 8
    assert data["model_artifact_sha256"] in text.replace(" ", "")  # in full in section 12
    assert data["input"]["commitment"][:16] in text
    assert "sealed under the subject's own key" in words and f"no erasure of subject {data['subject_ref']}" in words
    assert f"Not applicable: {data['not_applicable']['reference_database_id']}" in words
    assert f"Not applicable: {data['not_applicable']['notice']}" in words
    retention = data["retention"]
    assert f"class {retention['retention_class']}, earliest purge {retention['earliest_purge']}" in words
    assert f"with a score of {float(data['output']['score']):.4f} (range 0 to 1)" in words
    # principal reasons, in order, and the explanation metadata
    reasons = data["explanation"]["reason_codes"]
    assert 1 <= len(reasons) <= 4
    for rank, reason in enumerate(reasons, start=1):
        assert f"{rank} {reason['text']} {reason['code']} {reason['contribution']:.4f}" in text
    assert f"{data['explanation']['explainer']} {data['explanation']['explainer_version']}" in words
    assert data["explanation"]["baseline_sha256"][:16] in text
    # the human review: the reviewer is the review entry's actor
    with ledger.read_snapshot() as conn:
        review_seq = conn.execute(select(t.reviews.c.seq).where(t.reviews.c.decision_id == decision_id)).scalar_one()
    review = ledger.get(review_seq)
    assert review.actor.name in words and "overridden" in text
    assert review.data["override_reason"] in words and f"#{review_seq}" in text
    assert f"Outcome after human review: approve (overridden, #{review_seq})" in words
    # the lineage: promotion, evaluation and approval, run, datasets back to the raw file
    assert "Promotion to production" in words and f"#{data['promotion_seq']}" in text
    assert "approval-1" in words and "four-fifths gate passed" in words
    with ledger.read_snapshot() as conn:
        evaluation = conn.execute(
            select(t.evaluations).where(t.evaluations.c.artifact_sha256 == data["model_artifact_sha256"])
        ).one()
        datasets = conn.execute(select(t.datasets.c.dataset_id, t.datasets.c.content_sha256)).all()
    assert f"{evaluation.evaluation_id}" in text and "passed" in text
    rules = ledger.get(evaluation.seq).data["rules"]
    for rule in rules:
        if rule["verdict"] == "not_evaluated":  # a protected class the data lacks
            assert rule["rule_id"] in text.replace(" ", "")
            continue
        assert f"{rule['rule_id']} {rule['value']:.4f} {rule['verdict']}" in words
    hashes = dict(datasets)
    for dataset_id in ("adult-train", "adult-raw-train"):
        assert hashes[dataset_id][:12] in text and hashes[dataset_id] in text.replace(" ", "")
    assert "adult-eval" in text  # the evaluation data
    assert "run-mitigated" in text and "adult-train (training input)" in words
    assert "derived from adult-raw-train" in words

    # every entry the report relies on is in the evidence appendix, proven against the checkpoint
    cited = {item.seq for item in first_draft.evidence.items()}
    assert {seq, review_seq, data["promotion_seq"], evaluation.seq} <= cited
    assert ledger.get(evaluation.seq).kind == "evaluation.recorded"

    # no personal data: the clear input's distinctive values never appear
    with ledger.read_snapshot() as conn:
        clear = read_decision_input(conn, data["subject_ref"], decision_id, data["input"])
    assert not isinstance(clear, ErasedInput)
    for field in ("workclass", "occupation", "marital_status", "native_country"):
        value = clear.get(field)
        if isinstance(value, str) and len(value) >= 6:
            assert value not in first.html, field

    # the decision of the erased subject: its input is no longer readable
    with ledger.read_snapshot() as conn:
        erased_id = conn.execute(
            select(t.decisions.c.decision_id).where(t.decisions.c.subject_ref == governed.erased_subject)
        ).scalar_one()
    erased = html_of(ledger, build_decision, decision_id=erased_id)
    assert "The subject was erased" in erased and "no longer readable" in erased
    assert "No human review of this decision is recorded" in erased
    # the summary: derived from the decision and the model's review promise
    assert first_draft.content.outcome == (
        f"income-mitigated@1 decided deny on {data['ts_start'][:10]}; "
        "a person's review (overridden) changed it to approve."
    )
    assert not [f for f in first_draft.content.findings.items if f.severity == "fail"]
    severity = {
        f.title: f.severity for f in prepare(ledger, build_decision, decision_id=erased_id).content.findings.items
    }
    assert severity["No human review recorded"] == "fail"  # adverse, and the intended use promises review
    assert severity["The subject was erased: the input is unreadable"] == "info"

    with pytest.raises(NotFoundError):
        prepare(ledger, build_decision, decision_id="no-such-decision")


def adverse_request(governed: Governed, adult_models: AdultModels, prefix: str) -> dict[str, Any]:
    """A fresh explained adverse decision of the governed model (not yet recorded)."""
    fitted = load_model(adult_models.mitigated)
    requests = decision_requests(
        fitted,
        pd.read_csv(adult_models.prepared.eval.path).head(40),
        model_ref={"name": governed.model[0], "version": governed.model[1]},
        features=[str(f) for f in fitted.feature_names_in_],
        start=datetime(2026, 11, 4, 9, 0, tzinfo=UTC),
        excluded=EXCLUDED_FROM_REASONS,
        reason_text=REASON_TEXT,
        reason_map_version=REASON_MAP_VERSION,
        prefix=prefix,
    )
    return next(r for r in requests if r["output"]["adverse"] and r["explanation"]["reason_codes"])


def letter_pages(pdf: bytes, tmp_path: Path) -> tuple[list[str], str]:
    """The letter's pages (before the creditor's-file page) and the creditor's-file page."""
    pages = [flat(page) for page in pdf_text(pdf, tmp_path).split("\f") if page.strip()]
    at = next(i for i, page in enumerate(pages) if "For the creditor's file" in page)
    return pages[:at], " ".join(pages[at:])


def test_adverse_action_notice(governed: Governed, tmp_path: Path) -> None:
    ledger = governed.ledger
    decision_id = find_decision(ledger, adverse=True, explained=True, reviewed=False)
    assert decision_id is not None
    _, data = decision_data(ledger, decision_id)
    first = render(prepare(ledger, build_adverse_action, decision_id=decision_id), issue_seq=None)
    second = render(prepare(ledger, build_adverse_action, decision_id=decision_id), issue_seq=None)
    assert first.html == second.html and first.pdf == second.pdf

    text = flat(pdf_text(first.pdf, tmp_path))
    letter, file_page = letter_pages(first.pdf, tmp_path)
    assert 1 <= len(letter) <= 2, f"the letter runs {len(letter)} pages"
    body = " ".join(letter)
    for item in NOTICE_CHECKLIST:
        assert item.marker in text, item
    assert (
        "The Federal Equal Credit Opportunity Act prohibits creditors from discriminating against credit applicants "
        "on the basis of race, color, religion, national origin, sex, marital status, age (provided the applicant "
        "has the capacity to enter into a binding contract); because all or part of the applicant's income derives "
        "from any public assistance program; or because the applicant has in good faith exercised any right under "
        "the Consumer Credit Protection Act. The Federal agency that administers compliance with this law "
        "concerning this creditor is Consumer Financial Protection Bureau, 1700 G Street NW, Washington, DC 20552."
    ) in body
    # the creditor is the deployer the decision records; no address is invented, and the file page says so
    assert data["deployment"]["deployer"] in body and "1 Example Street" not in text
    assert "No creditor address" in file_page
    # addressed without the pseudonymous reference, and no ledger material in the letter itself
    assert "Dear Applicant," in body and data["subject_ref"] not in body
    for jargon in ("ledger", "entry", "#", "sha", "SHA", "artifact", "commitment", "Not applicable"):
        assert jargon not in body.replace(data["deployment"]["deployer"], "creditor"), jargon
    assert data["subject_ref"] in file_page and data["model_artifact_sha256"] in file_page.replace(" ", "")
    assert derived_notice_id(decision_id) in body
    reasons = [r["text"] for r in data["explanation"]["reason_codes"]]
    assert 1 <= len(reasons) <= 4 and " ".join(f"{i}. {r}" for i, r in enumerate(reasons, start=1)) in body
    assert f"Your score {float(data['output']['score']):.4f}" in body and "Range of possible scores 0 to 1" in body
    assert "ask for a person to review it" in body and "contest the decision" in body

    # the recorded options: a differently addressed creditor and agency, a named score range
    other = html_of(
        ledger,
        build_adverse_action,
        decision_id=decision_id,
        creditor_name="Acme Credit",
        creditor_address="2 Main St",
        agency="Federal Trade Commission, Washington, DC 20580",
        score_range="300 to 850",
    )
    assert "Acme Credit, 2 Main St" in other and "concerning this creditor is Federal Trade Commission" in other
    assert "300 to 850" in other and "No creditor address" not in other

    # an erased subject's notice is addressed "Dear Applicant" and its file page names the erasure
    with ledger.read_snapshot() as conn:
        erased_id = conn.execute(
            select(t.decisions.c.decision_id).where(t.decisions.c.subject_ref == governed.erased_subject)
        ).scalar_one()
    erased = html_of(ledger, build_adverse_action, decision_id=erased_id)
    assert "Dear Applicant," in erased and "the subject was erased on" in erased

    # an adverse decision recorded without reasons: the right-to-reasons disclosure instead
    unexplained = find_decision(ledger, adverse=True, explained=False)
    if unexplained is not None:
        html = html_of(ledger, build_adverse_action, decision_id=unexplained)
        assert "right to a statement of specific reasons" in html and "within 60 days" in html

    with pytest.raises(NotFoundError):
        prepare(ledger, build_adverse_action, decision_id="no-such-decision")


def test_notice_is_refused_for_a_favourable_decision_and_one_approved_on_review(governed: Governed) -> None:
    ledger = governed.ledger
    approved = find_decision(ledger, adverse=False)
    assert approved is not None
    with pytest.raises(ConflictError, match=f"decision {approved} was not adverse"):
        prepare(ledger, build_adverse_action, decision_id=approved)
    # the fixture's chosen decision was denied by the model and overridden to approve by a person
    _, data = decision_data(ledger, governed.decision_id)
    assert data["output"]["adverse"]
    with pytest.raises(ConflictError, match=r"overridden on human review .* now 'approve'.*no longer stands"):
        prepare(ledger, build_adverse_action, decision_id=governed.decision_id)
    # a review that accepts the denial leaves the notice owed; a later reversal withdraws it
    other = find_decision(ledger, adverse=True, explained=True, reviewed=False)
    assert other is not None
    review = {"decision_id": other, "outcome": "accepted", "reviewed_at": "2026-11-02T11:00:00Z"}
    ledger.append("decision.reviewed", review, actor=RISK_OFFICER)
    assert "checked by a member of our staff" in html_of(ledger, build_adverse_action, decision_id=other)
    reversal = {
        **review,
        "outcome": "reversed",
        "override_reason": "appeal upheld",
        "reviewed_at": "2026-11-03T09:00:00Z",
    }
    ledger.append("decision.reviewed", reversal, actor=RISK_OFFICER)
    with pytest.raises(ConflictError, match="reversed on human review"):
        prepare(ledger, build_adverse_action, decision_id=other)


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("sex", "the column mapped to the prohibited basis sex"),
        ("sex_Female", "the column mapped to the prohibited basis sex"),  # a one-hot column of it
        ("Marital-Status", "the prohibited basis marital_status"),
    ],
)
def test_notice_is_refused_when_a_reason_is_a_prohibited_basis(
    governed: Governed, adult_models: AdultModels, code: str, why: str
) -> None:
    ledger = governed.ledger
    request = adverse_request(governed, adult_models, prefix="unlawful")
    request["explanation"]["reason_codes"][-1] = {"code": code, "text": "Your personal characteristics"}
    record_decisions(ledger, [request], actor=key_actor(ledger, "producer", "scoring service 3"))
    size = ledger.size
    with pytest.raises(ConflictError, match=f"prohibited basis: {code} \\({why}\\)"):
        prepare(ledger, build_adverse_action, decision_id=request["decision_id"])
    assert ledger.size == size  # nothing written


def test_notice_is_addressed_by_the_name_in_the_sealed_input(governed: Governed, adult_models: AdultModels) -> None:
    ledger = governed.ledger
    request = adverse_request(governed, adult_models, prefix="named")
    request["input"] = {**request["input"], "full_name": "Jane  Q. Applicant"}
    record_decisions(ledger, [request], actor=key_actor(ledger, "producer", "scoring service 4"))
    html = html_of(ledger, build_adverse_action, decision_id=request["decision_id"])
    assert "Dear Jane Q. Applicant," in html and "name from the sealed input" in html
    erase_subject(ledger, request["subject_ref"], reason="GDPR Art. 17 request", actor=local_actor())
    html = html_of(ledger, build_adverse_action, decision_id=request["decision_id"])
    assert "Dear Applicant," in html and "Jane" not in html


def test_decision_report_lists_appeals_and_the_review_that_answers_one(governed: Governed) -> None:
    ledger = governed.ledger
    decision_id = governed.decision_id
    assert "No appeal against this decision is recorded" in html_of(ledger, build_decision, decision_id=decision_id)
    appeal = {
        "appeal_id": "apl-7",
        "decision_id": decision_id,
        "received_at": "2026-12-01T09:30:00Z",
        "channel": "letter",
        "grounds": "my income was entered wrongly",
        "requests": ["human_review", "correction"],
    }
    appealed = ledger.append("decision.appealed", appeal, actor=RISK_OFFICER)
    findings = prepare(ledger, build_decision, decision_id=decision_id).content.findings
    assert [f.severity for f in findings.items if f.title == "Appeal apl-7 is open"] == ["warn"]
    review = {
        "decision_id": decision_id,
        "outcome": "reversed",
        "override_reason": "income corrected from the payslip",
        "new_decision": "approve",
        "reviewed_at": "2026-12-02T10:00:00Z",
        "appeal_id": "apl-7",
    }
    ledger.append("decision.reviewed", review, actor=RISK_OFFICER)
    html = html_of(ledger, build_decision, decision_id=decision_id)
    assert "Appeals (GDPR 22(3); C.R.S. 6-1-1703(4))" in html
    assert "apl-7" in html and "my income was entered wrongly" in html and "human review, correction" in html
    assert f"#{appealed.seq}" in html  # cited, so the evidence appendix proves it
    assert "answers appeal apl-7" in html
    findings = prepare(ledger, build_decision, decision_id=decision_id).content.findings
    assert not [f for f in findings.items if f.title.startswith("Appeal")]  # answered by the review


def test_a_decision_referred_for_review_gets_a_notice_that_names_no_reason(
    governed: Governed, adult_models: AdultModels
) -> None:
    """Every feature declared excluded: each adverse decision is referred, and its notice says so
    instead of giving a reason (the referral text names no prohibited basis)."""
    ledger = governed.ledger
    fitted = load_model(adult_models.mitigated)
    features = [str(f) for f in fitted.feature_names_in_]
    requests = decision_requests(
        fitted,
        pd.read_csv(adult_models.prepared.eval.path).head(20),
        model_ref={"name": governed.model[0], "version": governed.model[1]},
        features=features,
        start=datetime(2026, 11, 3, 9, 0, tzinfo=UTC),
        excluded=set(features),
        reason_text=REASON_TEXT,
        reason_map_version=REASON_MAP_VERSION,
        prefix="referred",
    )
    record_decisions(ledger, requests, actor=key_actor(ledger, "producer", "scoring service 2"))
    referred = next(r for r in requests if r["output"]["adverse"])
    assert referred["explanation"]["review_required"] and referred["explanation"]["reason_codes"] == []
    notice = html_of(ledger, build_adverse_action, decision_id=referred["decision_id"])
    assert f"none: {NO_LAWFUL_REASON}" in notice  # on the creditor's-file page
    assert "right to a statement of specific reasons" in notice
    assert not [text for text in REASON_TEXT.values() if text in notice]
    trace = html_of(ledger, build_decision, decision_id=referred["decision_id"])
    assert NO_LAWFUL_REASON in trace
