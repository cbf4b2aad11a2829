"""The model compliance dossier on the governed ledger (SQLite and PostgreSQL), and the charts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from ledger.api import local_actor
from ledger.errors import NotFoundError, PromotionBlockedError
from ledger.lineage import tables as t
from reports.charts import Panel, Series, bar_chart_svg, curve_panels_svg
from reports.document import prepare, render
from reports.dossier import CHECKLIST, SR_CITATION, build_dossier
from tests.reports.conftest import DECISIONS, Governed

DATASETS = ("adult-raw-train", "adult-raw-test", "adult-train", "adult-eval")


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "dossier.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def flat(text: str) -> str:
    return " ".join(text.split())


def assert_complete(text: str) -> None:
    missing = [item.marker for item in CHECKLIST if item.marker not in flat(text)]
    assert not missing, f"checklist items missing from the PDF: {missing}"


def test_dossier_is_deterministic_complete_and_cites_the_ledger(governed: Governed, tmp_path: Path) -> None:
    ledger = governed.ledger
    name, version = governed.model
    first = render(prepare(ledger, build_dossier, name=name, version=version), issue_seq=None)
    second = render(prepare(ledger, build_dossier, name=name, version=version), issue_seq=None)
    assert first.html == second.html
    assert first.pdf == second.pdf
    text = pdf_text(first.pdf, tmp_path)
    words = flat(text)
    assert_complete(text)

    with ledger.engine.connect() as conn:
        model = conn.execute(select(t.models).where(t.models.c.name == name, t.models.c.version == version)).one()
        evaluation_seq = conn.execute(
            select(t.evaluations.c.seq).where(t.evaluations.c.artifact_sha256 == model.artifact_sha256)
        ).scalar_one()
        hashes = dict(conn.execute(select(t.datasets.c.dataset_id, t.datasets.c.content_sha256)).all())
    evaluation = ledger.get(evaluation_seq).data
    assert model.artifact_sha256[:16] in text and f"#{model.seq}" in text
    assert evaluation["evaluation_id"] in text and f"#{evaluation_seq}" in text
    assert evaluation["policy"]["sha256"][:12] in text
    for dataset_id in DATASETS:  # the training data and, through derived_from, its raw sources
        assert dataset_id in text and hashes[dataset_id][:16] in text
    for rule in evaluation["rules"]:  # the recorded values, as printed (4 significant digits)
        if rule["verdict"] == "not_evaluated":  # a class the data lacks: named, with no value
            assert rule["rule_id"] in first.html and "NOT EVALUATED" in first.html
            continue
        assert rule["rule_id"] in text and f"{rule['value']:.4g}" in text and rule["worst_group"] in text
        for group in rule["groups"]:
            assert f"{group['count']:,}" in text
    excluded = [g for r in evaluation["rules"] for g in r["groups"] if g.get("excluded")]
    assert words.count("excluded:") >= len(excluded) > 0  # small groups listed as excluded, with the reason
    for group in excluded:
        assert f"{group['group']} (excluded)" in words  # the chart's label
    assert "PASSED" in text and "stage production since" in words
    assert SR_CITATION in words
    assert "No explainability rule was evaluated on this artifact" in words
    assert "rui (risk officer)" in words and "dana (data scientist)" in words  # approver vs run recorder
    assert "refuses an approval by the key that recorded the training run" in words
    assert "cites the latest evaluation" in words
    assert f"{DECISIONS} decisions" in words and "1 overridden" in words
    assert "Appendix: evidence and how to verify" in text


def test_dossier_of_a_blocked_an_undocumented_and_an_unknown_model(governed: Governed, tmp_path: Path) -> None:
    ledger = governed.ledger
    name, version = governed.blocked_model
    text = pdf_text(render(prepare(ledger, build_dossier, name=name, version=version), issue_seq=None).pdf, tmp_path)
    words = flat(text)
    assert_complete(text)
    assert "BLOCKED" in text and "FAIL" in text and "Open findings" in text
    assert "Not deployed" in words and "No approval of this version is recorded" in words
    assert "This version has logged no decision" in words
    assert "None: no promotion of this version was refused by the gate" in words

    # the gate refuses its promotion: the refusal is on the record, and in the promotion history
    officer = next(e.actor for e in ledger.entries(kind="approval.recorded"))
    with pytest.raises(PromotionBlockedError) as refused:
        ledger.append(
            "model.promoted", {"model": {"name": name, "version": version}, "stage": "production"}, actor=officer
        )
    refusal = ledger.get(refused.value.recorded_seq or 0).data
    document = render(prepare(ledger, build_dossier, name=name, version=version), issue_seq=None)
    assert f"#{refused.value.recorded_seq}" in flat(pdf_text(document.pdf, tmp_path))
    html = flat(document.html)  # table cells wrap in the PDF's text
    assert "Refused promotions" in html and "promotion to production refused by the gate" in html
    assert "<td>production</td><td>rui (risk officer)</td>" in html
    assert f"failed: {', '.join(refusal['failed_rules'])}" in html and refusal["failed_rules"]
    assert f"evaluation {refusal['evaluation']['evaluation_id']} blocked" in html

    # A second version of the promoted model, registered without documentation or evaluation.
    run = ledger.entries(kind="training_run.recorded")[-1].data
    ledger.append(
        "training_run.recorded",
        {**run, "run_id": "run-mitigated-2", "artifact_sha256": "ab" * 32},
        actor=local_actor(),
    )
    second = {"name": governed.model[0], "version": "2"}
    ledger.append(
        "model.registered",
        {"model": second, "artifact_sha256": "ab" * 32, "run_id": "run-mitigated-2"},
        actor=local_actor(),
    )
    text = pdf_text(render(prepare(ledger, build_dossier, **second), issue_seq=None).pdf, tmp_path)
    words = flat(text)
    assert_complete(text)
    assert "2 (this version)" in words and "abababababababab" in text
    assert "Not recorded: the registration" in words and "no limitations" in words and "no monitoring plan" in words
    assert "No evaluation of this artifact is recorded" in words
    assert "No evaluation of this artifact under it: a promotion would be refused" in words

    with pytest.raises(NotFoundError):
        prepare(ledger, build_dossier, name="no-such-model", version="1")
    with pytest.raises(NotFoundError):
        prepare(ledger, build_dossier, name=governed.model[0], version="99")


def test_bar_chart_svg_is_deterministic_and_inlinable() -> None:
    args = (["Female", "Male", "Other (excluded)"], [0.8606, 1.0, None])
    first = bar_chart_svg(*args, title="impact-ratio-sex", threshold=0.8, xlabel="impact ratio")
    bar_chart_svg(["a", "b"], [3.0, 4.0], title="something else in between")
    second = bar_chart_svg(*args, title="impact-ratio-sex", threshold=0.8, xlabel="impact ratio")
    assert first == second
    assert first.startswith("<svg") and "<?xml" not in first and "<!DOCTYPE" not in first
    assert "dc:date" not in first and "Female" in first and "threshold 0.8" in first and "n/a" in first
    with pytest.raises(ValueError, match="labels"):
        bar_chart_svg(["a"], [1.0, 2.0], title="mismatch")


def test_curve_panels_svg_is_deterministic_with_distinct_ids() -> None:
    calibration = Panel(
        "Calibration", "predicted", "observed", [Series("model", [0.1, 0.5, 0.9], [0.2, 0.4, 0.95])], "ideal"
    )
    roc = Panel("ROC", "FPR", "TPR", [Series("a", [0, 0.2, 1], [0, 0.7, 1]), Series("b", [0, 1], [0, 1])], "chance")
    first = curve_panels_svg([calibration, roc], id_prefix="one")
    assert first == curve_panels_svg([calibration, roc], id_prefix="one")
    assert first.startswith("<svg") and "dc:date" not in first and "Calibration" in first and "chance" in first
    other = curve_panels_svg([roc], id_prefix="two")
    ids = set(re.findall(r'id="([^"]+)"', first)) & set(re.findall(r'id="([^"]+)"', other))
    assert not ids  # two charts inline in one document without clashing ids
    with pytest.raises(ValueError, match="x values"):
        curve_panels_svg([Panel("bad", "x", "y", [Series("s", [0.1], [0.1, 0.2])], "ideal")])
    with pytest.raises(ValueError, match="no panel"):
        curve_panels_svg([])
