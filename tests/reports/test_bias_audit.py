"""The NYC Local Law 144 bias audit: the worked example of docs/regulatory-checklists.md rebuilt
as ledger decisions (exact rates, impact ratios, the 2% exclusion, the unknown category, the
scoring-type variant), and the governed fixture's report rendered to PDF and read back."""

from __future__ import annotations

import hashlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from govledger.registry import open_ledger
from ledger.api import Ledger, local_actor
from ledger.config import Settings
from ledger.errors import ConflictError, InvalidInputError, NotFoundError
from ledger.lineage import tables as t
from ledger.lineage.decisions import record_decisions
from ledger.log.entry import Actor
from ledger.privacy.sealing import erase_subject
from ledger.storage.sequencer import CheckpointPolicy
from reports.bias_audit import CHECKLIST, FAIR_LENDING_CHECKLIST, build_bias_audit
from reports.bias_audit_data import AuditRecord, audit_dimension, scoring_audit, two_proportion_p
from reports.document import prepare, render
from reports.fair_lending_data import air_interval, analyse_class, standardized_mean_difference
from tests.reports.conftest import Governed

WIDE = {"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"}
SCIENTIST = Actor("key:ds1", "dana (data scientist)")
OFFICER = Actor("key:ro1", "rui (risk officer)")
SERVICE = Actor("key:svc1", "scoring service")

# The worked example, split by sex within each race/ethnicity: (race, sex, applicants, selected).
# Marginals: Male 1,200/360, Female 1,000/240; White 900/279, Black 500/130, Hispanic 450/108,
# Asian 320/80, Native American 30/3; unknown 100.
CELLS = [
    ("White", "Male", 500, 170),
    ("White", "Female", 400, 109),
    ("Black or African American", "Male", 250, 75),
    ("Black or African American", "Female", 250, 55),
    ("Hispanic or Latino", "Male", 250, 65),
    ("Hispanic or Latino", "Female", 200, 43),
    ("Asian", "Male", 180, 48),
    ("Asian", "Female", 140, 32),
    ("Native American or Alaska Native", "Male", 20, 2),
    ("Native American or Alaska Native", "Female", 10, 1),
]
ABOVE_MEDIAN = {"Male": 636, "Female": 450}  # scoring-type variant: median 62
NO_INPUT, NO_FIELDS, ERASED = 40, 40, 20  # the 100 of the unknown category


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "bias_audit.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return " ".join(out.split())


def _facts(name: str, version: str) -> dict[str, Any]:
    return {"model": {"name": name, "version": version}}


def _request(i: int, *, selected: bool, score: int, input_value: dict[str, Any] | None) -> dict[str, Any]:
    request: dict[str, Any] = {
        "decision_id": f"w-{i:05d}",
        "request_id": f"req-{i:05d}",
        "ts_start": "2026-03-01T09:00:00Z",
        "ts_end": "2026-03-01T09:00:01Z",
        "model": {"name": "screener", "version": "2"},
        "subject_ref": f"candidate-{i:05d}",
        "output": {"decision": "advance" if selected else "reject", "score": score, "adverse": not selected},
        "deployment": {"deployer": "Example Employer Inc."},
        "retention": {"retention_class": "ll144", "earliest_purge": "2030-01-01"},
        "not_applicable": {
            "reference_database_id": "no reference database",
            "trace_id": "not traced",
            "explanation": "screening score only",
            "notice": "candidates are notified by the employer",
        },
    }
    if input_value is None:
        request["not_applicable"]["input"] = "the candidate declined to give data"
    else:
        request["input"] = input_value
        request["input_schema_version"] = "screen-v1"
    return request


@pytest.fixture
def example(tmp_path: Path, home: Path) -> Iterator[tuple[Ledger, dict[str, str]]]:
    """The worked example, for a screening tool declared for employment (LL144)."""
    yield from _example(tmp_path, home, "employment")


@pytest.fixture
def credit_example(tmp_path: Path, home: Path) -> Iterator[tuple[Ledger, dict[str, str]]]:
    """The same decisions, made by a model declared for credit (a fair-lending analysis)."""
    yield from _example(tmp_path, home, "credit")


def _example(
    tmp_path: Path, home: Path, use_domain: str | None, *, tied: bool = False
) -> Iterator[tuple[Ledger, dict[str, str]]]:
    """A ledger whose decisions reproduce the worked example (SQLite: the arithmetic is the point)."""
    ledger = open_ledger(
        Settings(database_url=f"sqlite:///{tmp_path / 'example.db'}", home=home),
        policy=CheckpointPolicy(after_batch=True, max_delay_s=None),
    )
    ledger.init(origin="example.employer/log")
    try:
        digest = hashlib.sha256(b"screener-2").hexdigest()
        ledger.append(
            "dataset.registered",
            {
                "dataset_id": "applications-2025",
                "content_sha256": hashlib.sha256(b"applications").hexdigest(),
                "columns": [{"name": "experience", "type": "int"}],
                "rows": 5000,
                "source_uri": "s3://employer/applications-2025.csv",
            },
            actor=SCIENTIST,
        )
        ledger.append(
            "training_run.recorded",
            {
                "run_id": "run-screener-2",
                "code_version": "git:abc",
                "input_datasets": ["applications-2025"],
                "artifact_sha256": digest,
            },
            actor=SCIENTIST,
        )
        ledger.append(
            "model.registered",
            {
                "model": {"name": "screener", "version": "2"},
                "artifact_sha256": digest,
                "run_id": "run-screener-2",
                "owner": "HireRight Screening Ltd (vendor)",
                "intended_use": "ranking job applicants for interview",
                "use_domain": use_domain,
            },
            actor=SCIENTIST,
        )
        ledger.append(
            "approval.recorded",
            {"approval_id": "a-1", "model": {"name": "screener", "version": "2"}, "decision": "approve", "role": "r"},
            actor=OFFICER,
        )
        ledger.append(
            "model.promoted",
            {"model": {"name": "screener", "version": "2"}, "stage": "production", "approval_ids": ["a-1"]},
            actor=OFFICER,
        )
        requests: list[dict[str, Any]] = []
        seen = {"Male": 0, "Female": 0}
        total = {"Male": 1200, "Female": 1000}
        for race, sex, applicants, selected in CELLS:
            for k in range(applicants):
                j = seen[sex]  # spread the above-median scores evenly over each sex's applicants
                above = (j + 1) * ABOVE_MEDIAN[sex] // total[sex] > j * ABOVE_MEDIAN[sex] // total[sex]
                seen[sex] += 1
                score = 70 if above else (0 if tied else 50 if k % 3 == 0 else 62)
                features = {"experience": k % 10, "sex": sex, "race": race}
                requests.append(_request(len(requests), selected=k < selected, score=score, input_value=features))
        for k in range(NO_INPUT + NO_FIELDS + ERASED):
            value: dict[str, Any] | None = {"sex": "Male", "race": "White"}  # erased below: unreadable
            if k < NO_INPUT:
                value = None
            elif k < NO_INPUT + NO_FIELDS:
                value = {"experience": 3}
            requests.append(_request(len(requests), selected=True, score=0 if tied else 62, input_value=value))
        recorded = record_decisions(ledger, requests, actor=SERVICE)["recorded"]
        for request in requests[-ERASED:]:
            erase_subject(ledger, request["subject_ref"], reason="GDPR Art. 17 request", actor=local_actor())
        later = _request(len(requests), selected=False, score=10, input_value={"sex": "Female", "race": "Asian"})
        outside = record_decisions(ledger, [later], actor=SERVICE)["recorded"][0]
        period = {"since": recorded[0]["ts"], "until": outside["ts"]}
        yield ledger, period
    finally:
        ledger.close()


def test_worked_example_numbers(example: tuple[Ledger, dict[str, str]], tmp_path: Path) -> None:
    ledger, period = example
    draft = prepare(ledger, build_bias_audit, name="screener", version="2", **period)
    context = draft.content.context
    assert context["assessed"] == 2300  # the decision after `until` is not counted
    sex, race, both = context["selection"]
    rows = {table["dimension"]: {r["category"]: r for r in table["rows"]} for table in context["selection"]}
    assert sex["unknown"] == race["unknown"] == both["unknown"] == 100
    male, female = rows["Sex"]["Male"], rows["Sex"]["Female"]
    assert (male["n"], male["hits"], male["rate"], male["impact_ratio"], male["reference"]) == (
        1200,
        360,
        0.3,
        1.0,
        True,
    )
    assert (female["n"], female["hits"]) == (1000, 240) and f"{female['impact_ratio']:.3f}" == "0.800"
    assert not female["below_four_fifths"]  # exactly 0.8 is not below it (no floating-point slip)
    expected = {
        "White": ("1.000", False),
        "Black or African American": ("0.839", False),
        "Hispanic or Latino": ("0.774", True),
        "Asian": ("0.806", False),
    }
    for category, (ratio, flagged) in expected.items():
        row = rows["Race/ethnicity"][category]
        assert (f"{row['impact_ratio']:.3f}", row["below_four_fifths"]) == (ratio, flagged), category
    native = rows["Race/ethnicity"]["Native American or Alaska Native"]
    assert native["excluded"] and native["impact_ratio"] is None and (native["n"], native["hits"]) == (30, 3)
    assert f"{native['share']:.3f}" == "0.014" and native["rate"] == 0.1
    assert race["flagged"] == ["Hispanic or Latino"] and race["reference"] == "White"
    assert both["reference"] == "Male × White" and both["known"] == 2200
    assert f"{rows[both['dimension']]['Female × Black or African American']['impact_ratio']:.3f}" == "0.647"
    assert rows[both["dimension"]]["Male × Native American or Alaska Native"]["excluded"]

    scoring = context["scoring"]
    assert scoring["median"] == 62 and scoring["scored"] == 2300
    by_sex = {r["category"]: r for r in scoring["tables"][0]["rows"]}
    assert (by_sex["Male"]["hits"], by_sex["Female"]["hits"]) == (636, 450)
    assert (by_sex["Male"]["rate"], by_sex["Female"]["rate"]) == (0.53, 0.45)
    assert f"{by_sex['Female']['impact_ratio']:.3f}" == "0.849"

    reasons = {u["reason"]: u["count"] for u in context["unknown_reasons"]}
    assert list(reasons.values()) == [NO_INPUT, ERASED, 0, NO_FIELDS, NO_FIELDS]
    assert context["erasures"]["total"] == ERASED and len(context["erasures"]["cited"]) == 5

    rendered = render(draft, issue_seq=None)
    text = pdf_text(rendered.pdf, tmp_path)
    for needle in [
        "Male 1,200 360 30.0%",
        "Female 1,000 240 24.0%",
        "0.800",
        "0.774 below 0.8",
        "Hispanic or Latino 450 108 24.0%",
        "1.4% < 2%",
        "30 / 2,200 1.4% 10.0%",
        "Unknown category 100",
        "Median score 62 (median of the full sample: all 2,300 decisions",
        "HireRight Screening Ltd (vendor)",
        "Not applicable: single deployer (Example Employer Inc.)",
    ]:
        assert needle in text, needle
    for item in CHECKLIST:
        assert item.marker in text, item


def test_calculation_edge_cases() -> None:
    table = audit_dimension("Sex", ["A", "A", "B", None], [False, False, False, True])
    assert table.unknown == 1 and table.reference == "A"
    assert all(row.impact_ratio is None and not row.below_four_fifths for row in table.rows)  # nobody selected
    z, p = two_proportion_p(240, 1000, 360, 1200)
    assert z is not None and p is not None and round(z, 2) == -3.15 and 0.001 < p < 0.002
    assert two_proportion_p(0, 10, 0, 10) == (0.0, 1.0)


# The governed fixture's models may be registered before their use was declared: ask for the analysis.
FAIR = {"law": "fair-lending", "override_reason": "credit model registered before use_domain existed"}


def test_fixture_fair_lending_analysis_and_errors(governed: Governed, tmp_path: Path) -> None:
    ledger = governed.ledger
    name, version = governed.model
    started = time.perf_counter()
    draft = prepare(ledger, build_bias_audit, name=name, version=version, **WIDE, **FAIR)
    first = render(draft, issue_seq=None)
    elapsed = time.perf_counter() - started
    second = render(prepare(ledger, build_bias_audit, name=name, version=version, **WIDE, **FAIR), issue_seq=None)
    assert first.html == second.html and first.pdf == second.pdf
    print(f"fair-lending analysis: prepare + render {elapsed:.2f} s, {len(first.pdf):,} bytes")

    content = draft.content
    assert content.kind == "bias-audit" and content.kind_label.startswith("Fair-lending analysis")
    assert content.subject == f"model {name}@{version}, decisions {WIDE['since']} to {WIDE['until']}"
    fair = content.context["fair"]
    assert content.context["assessed"] == 300
    # the classes are the ones the evaluation mapped (four-fifths: sex and race), read from the sealed input
    assert fair["source"]["evaluation"] is not None and fair["source"]["fields"] == {"sex": "sex", "race": "race"}
    text = pdf_text(first.pdf, tmp_path)
    for item in FAIR_LENDING_CHECKLIST:
        assert item.marker in text, item
    for table in fair["classes"]:
        for row in table["rows"]:
            assert f"{row['n']:,} {row['approved']:,} {100 * row['rate']:.1f}%" in text, row
        assert table["chart"] is None or "dashed line: threshold 0.8" in table["chart"]
    # numbers agree: the evaluation's impact ratio beside the production one, for each class it measured
    assert {r["name"] for r in fair["reconciliation"]} == {"sex", "race"}
    assert "Evaluation and production side by side" in text
    # approvals are read by model version (the fixture's promotion lists none): never "none recorded"
    assert content.context["approvals"] and "approve by rui (risk officer)" in text
    assert "None recorded for this model version" not in text
    # the auditor options are recorded for report.issued and shown on the cover rows
    audited = prepare(
        ledger,
        build_bias_audit,
        name=name,
        version=version,
        **WIDE,
        **FAIR,
        auditor="A. Auditor",
        auditor_firm="Audit & Co",
        independence="no financial interest in the lender or the vendor",
    ).content
    assert audited.options["auditor_firm"] == "Audit & Co" and audited.options["auditor"] == "A. Auditor"
    assert ("Independence", "no financial interest in the lender or the vendor") in audited.context["cover_rows"]
    cited = {item.seq for item in draft.evidence.items()}
    with ledger.read_snapshot() as conn:
        model = conn.execute(select(t.models).where(t.models.c.name == name)).one()
        seqs = conn.execute(select(t.decisions.c.seq).where(t.decisions.c.name == name)).scalars().all()
    assert {model.seq, min(seqs), max(seqs)} <= cited

    # errors: an unknown model, an empty or reversed period, a malformed time, an unknown law
    with pytest.raises(NotFoundError):
        prepare(ledger, build_bias_audit, name="no-such-model", version="1", **WIDE)
    with pytest.raises(InvalidInputError, match="no decisions"):
        prepare(
            ledger,
            build_bias_audit,
            name=name,
            version=version,
            since="2000-01-01T00:00:00Z",
            until="2001-01-01T00:00:00Z",
            **FAIR,
        )
    with pytest.raises(InvalidInputError, match="empty"):
        prepare(ledger, build_bias_audit, name=name, version=version, since=WIDE["until"], until=WIDE["since"])
    with pytest.raises(InvalidInputError, match="RFC 3339"):
        prepare(ledger, build_bias_audit, name=name, version=version, since="yesterday", until=WIDE["until"])
    with pytest.raises(InvalidInputError, match="law must be one of"):
        prepare(ledger, build_bias_audit, name=name, version=version, **WIDE, law="gdpr")


def test_credit_model_gets_a_fair_lending_analysis_and_ll144_is_refused(
    credit_example: tuple[Ledger, dict[str, str]], tmp_path: Path
) -> None:
    ledger, period = credit_example
    draft = prepare(ledger, build_bias_audit, name="screener", version="2", **period)
    content = draft.content
    assert content.kind_label == "Fair-lending analysis (ECOA / Regulation B disparate impact)"
    assert (
        content.options == {}
        and ("Law chosen by", "the model's declared use (credit)") in content.context["cover_rows"]
    )
    fair = content.context["fair"]
    assert fair["source"]["evaluation"] is None  # no evaluation: the sex and race fields
    sex, race = fair["classes"]
    rows = {r["group"]: r for r in race["rows"]}
    assert race["control"] == "White" and f"{rows['Hispanic or Latino']['air']:.3f}" == "0.774"
    assert rows["Hispanic or Latino"]["below"] and not rows["Asian"]["below"]
    # 30 Native American applicants: fewer than 50 and 1.4% of the known, so no ratio for them
    native = rows["Native American or Alaska Native"]
    assert not native["supported"] and native["air"] is None and native["n"] == 30
    assert {u["group"] for u in race["unsupported"]} == {"Native American or Alaska Native"}
    female = {r["group"]: r for r in sex["rows"]}["Female"]
    assert f"{female['air']:.3f}" == "0.800" and not female["below"]
    assert female["p"] != "–" and female["smd"] is not None and female["interval"] is not None
    severities = {f.title: f.severity for f in content.findings.items}
    assert severities["Adverse impact ratio 0.774 for race group Hispanic or Latino (under 0.8)"] == "fail"
    assert severities["race: groups too small to analyse"] == "insufficient"
    text = pdf_text(render(draft, issue_seq=None).pdf, tmp_path)
    assert "Hispanic or Latino 450 108 24.0% 0.774" in text and "too few to compare" in text
    assert "NYC Local Law 144" not in text.replace("not an NYC LL144", "")

    # LL144 for a credit model: refused with the use and the fix, unless an override reason is given
    size = ledger.size
    with pytest.raises(ConflictError, match=r"NYC Local Law 144.*declared for 'credit'.*override_reason"):
        prepare(ledger, build_bias_audit, name="screener", version="2", **period, law="ll144")
    assert ledger.size == size
    forced = prepare(
        ledger, build_bias_audit, name="screener", version="2", **period, law="ll144", override_reason="NYC pilot"
    ).content
    assert forced.kind_label == "Bias audit (NYC Local Law 144)"
    assert forced.options["law"] == "ll144" and forced.options["override_reason"] == "NYC pilot"
    assert ("Law chosen by", "override: NYC pilot") in forced.context["cover_rows"]
    assert any(f.title.startswith("Law overridden") for f in forced.findings.items)


@pytest.mark.parametrize(
    ("use_domain", "message"),
    [(None, "declares no use_domain"), ("insurance", "is declared for 'insurance', a use neither NYC LL144")],
)
def test_bias_audit_is_refused_when_the_use_names_no_analysis(
    tmp_path: Path, home: Path, use_domain: str | None, message: str
) -> None:
    for ledger, period in _example(tmp_path, home, use_domain):
        with pytest.raises(ConflictError, match=f"{message}.*register the model version with use_domain"):
            prepare(ledger, build_bias_audit, name="screener", version="2", **period)


def test_fair_lending_arithmetic() -> None:
    analysis = analyse_class(
        "sex",
        ["A"] * 100 + ["B"] * 80 + ["C"] * 10 + [None] * 5,
        [True] * 60 + [False] * 40 + [True] * 30 + [False] * 50 + [True] * 10 + [False] * 5,
        [1.0, 3.0] * 50 + [0.0, 2.0] * 40 + [5.0] * 15,
        min_group=50,
    )
    rows = {r.group: r for r in analysis.rows}
    assert analysis.control == "A" and analysis.unknown == 5 and analysis.known == 190
    assert rows["A"].air == 1.0 and rows["B"].air == 0.625 and rows["B"].below_four_fifths
    assert rows["C"].air is None and not rows["C"].supported  # 10 applicants, all approved: not the control
    assert rows["B"].p_value is not None and 0.001 < rows["B"].p_value < 0.01
    # Katz: exp(ln 0.625 ± 1.96 × sqrt(1/30 − 1/80 + 1/60 − 1/100)) = 0.452 to 0.865
    assert rows["B"].interval is not None and [round(x, 3) for x in rows["B"].interval] == [0.452, 0.865]
    # means 1 vs 2; variances 80/79 and 100/99: d = −1 / sqrt((1.01266 + 1.01010) / 2) = −0.994
    assert rows["B"].smd is not None and round(rows["B"].smd, 3) == -0.994
    assert air_interval(0, 10, 5, 10) is None
    assert standardized_mean_difference([1.0, 1.0], [1.0, 1.0]) is None
    one = analyse_class("race", ["A"] * 60 + ["B"] * 5, [True] * 65, [None] * 65, min_group=50)
    assert one.no_ratio_reason == "fewer than two groups have 50 or more applicants and 2% of the known"


def test_ll144_scoring_says_when_scores_are_too_tied_for_a_median() -> None:
    records = [AuditRecord("F" if i % 2 else "M", "X", i < 30, 0.0 if i < 76 else 0.9) for i in range(100)]
    scoring = scoring_audit(records)
    assert scoring is not None and scoring.median == 0.0 and scoring.tie_share == 0.76 and scoring.tied
    spread = scoring_audit([AuditRecord("F", "X", True, float(i)) for i in range(10)])
    assert spread is not None and not spread.tied


def test_ll144_report_says_the_median_is_not_meaningful_when_scores_are_tied(tmp_path: Path, home: Path) -> None:
    """1,086 of 2,300 scored 70 and the other 1,214 scored 0: the median is 0, held by
    over half the sample, so "above the median" only counts the 70s."""
    for ledger, period in _example(tmp_path, home, "employment", tied=True):
        draft = prepare(ledger, build_bias_audit, name="screener", version="2", **period)
        scoring = draft.content.context["scoring"]
        assert scoring["median"] == 0 and scoring["tied"] and scoring["tie_share"] >= 0.5
        assert any(f.title.startswith("Scores too tied") for f in draft.content.findings.items)
        text = pdf_text(render(draft, issue_seq=None).pdf, tmp_path)
        assert "The median is not meaningful" in text and "the selection rates of section 5" in text
    spread = tmp_path / "spread"
    (spread / "home").mkdir(parents=True)
    for ledger, period in _example(spread, spread / "home", "employment"):
        draft = prepare(ledger, build_bias_audit, name="screener", version="2", **period)
        assert not draft.content.context["scoring"]["tied"]
        assert "The median is not meaningful" not in pdf_text(render(draft, issue_seq=None).pdf, tmp_path)
