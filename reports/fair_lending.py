"""The fair-lending analysis of a credit model's logged decisions (the bias audit of a credit use).

Which protected classes, and which input field stands for each, come from the newest evaluation
of the model's artifact that recorded its protected-class mapping (`protected_classes`), with the
bands it cut numeric classes into; the classes that evaluation could not map are listed as not
analysed. Without such an evaluation, the `sex_field` and `race_field` options name the fields.
Approved means the decision was not adverse (the model's own output, as recorded).

Numbers agree across reports: each class's lowest adverse impact ratio on the logged decisions is
shown beside the impact ratio the evaluation's rule measured on the evaluation data, with why the
two differ (different applicants, and the evaluation's own group-size rule).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ledger.api import Ledger
from ledger.lineage import policy_reads
from reports.charts import bar_chart_svg
from reports.evidence import Evidence
from reports.fair_lending_data import FOUR_FIFTHS, MIN_GROUP, MIN_SHARE, ClassAnalysis, analyse_class, band_label
from reports.findings import Finding

__all__ = [
    "Applicant",
    "ClassSource",
    "class_source",
    "fair_lending_context",
    "reconciliation",
    "reconciliation_findings",
]


@dataclass(frozen=True)
class Applicant:
    fields: Mapping[str, Any]  # the clear input, {} when it cannot be read
    approved: bool
    score: float | None


@dataclass(frozen=True)
class ClassSource:
    """Where the classes come from: class → input field, bands, the unmapped, and the evaluation."""

    columns: dict[str, str]
    bands: dict[str, list[float]]
    not_mapped: list[str]
    evaluation: dict[str, Any] | None  # the evaluation entry's data, with "seq" and "ref"


def class_source(
    ledger: Ledger, evidence: Evidence, artifact_sha256: str, *, sex_field: str, race_field: str
) -> ClassSource:
    """The newest evaluation of the artifact that recorded a class mapping, else the field options."""
    with ledger.read_snapshot() as conn:
        seqs = policy_reads.evaluation_seqs_of_artifact(conn, artifact_sha256, as_of=evidence.size)
    for seq in seqs:  # newest first
        data = ledger.get(seq).data
        used = data.get("protected_classes")
        if used and used.get("mapping"):
            ref = evidence.cite(seq, "evaluation: protected-class mapping and impact ratios on evaluation data")
            return ClassSource(
                columns={str(k): str(v) for k, v in used["mapping"].items()},
                bands={str(k): [float(x) for x in v] for k, v in (used.get("bands") or {}).items()},
                not_mapped=[str(c) for c in used.get("not_mapped") or []],
                evaluation={**data, "seq": seq, "ref": ref},
            )
    return ClassSource({"sex": sex_field, "race": race_field}, {}, [], None)


def _group(value: Any, bands: Sequence[float] | None) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if bands:
        try:
            return band_label(float(value), bands)
        except (TypeError, ValueError):
            return None
    text = str(value).strip()
    return text or None


def _p_text(p: float | None) -> str:
    if p is None:
        return "–"
    return "<0.0001" if p < 0.0001 else f"{p:.4f}"


def _table(analysis: ClassAnalysis, column: str) -> dict[str, Any]:
    rows = [
        {
            "group": r.group,
            "n": r.n,
            "approved": r.approved,
            "rate": r.rate,
            "supported": r.supported,
            "control": r.control,
            "air": r.air,
            "interval": None if r.interval is None else f"{r.interval[0]:.3f}–{r.interval[1]:.3f}",
            "p": _p_text(r.p_value),
            "significant": r.p_value is not None and r.p_value < 0.05,
            "mean_score": r.mean_score,
            "smd": None if r.smd is None else f"{r.smd:+.2f}",
            "below": r.below_four_fifths,
        }
        for r in analysis.rows
    ]
    chartable = [r for r in analysis.rows if r.supported]
    chart = None
    if analysis.no_ratio_reason is None and chartable:
        chart = bar_chart_svg(
            [r.group for r in chartable],
            [r.air for r in chartable],
            title=f"Adverse impact ratio by {analysis.name.replace('_', ' ')}",
            threshold=float(FOUR_FIFTHS),
            xlabel=f"approval rate / control group's ({analysis.control})",
            id_prefix=f"air-{analysis.name}",
        )
    return {
        "name": analysis.name,
        "label": analysis.name.replace("_", " "),
        "column": column,
        "known": analysis.known,
        "unknown": analysis.unknown,
        "control": analysis.control,
        "rows": rows,
        "no_ratio_reason": analysis.no_ratio_reason,
        "unsupported": [{"group": r.group, "n": r.n, "rate": r.rate} for r in analysis.unsupported],
        "flagged": [r.group for r in analysis.flagged],
        "chart": chart,
    }


def _evaluation_ratio(evaluation: Mapping[str, Any] | None, name: str) -> dict[str, Any] | None:
    """The impact ratio the evaluation's rule measured for one class, if it has such a rule."""
    if evaluation is None:
        return None
    for rule in evaluation.get("rules", []):
        if rule.get("metric") == "impact_ratio" and list(rule.get("by") or []) == [name]:
            return {
                "rule_id": rule["rule_id"],
                "value": rule.get("value"),
                "worst_group": rule.get("worst_group"),
                "verdict": rule["verdict"],
            }
    return None


def reconciliation(
    evaluation: Mapping[str, Any] | None, production: Mapping[str, tuple[float | None, str | None]]
) -> list[dict[str, Any]]:
    """Per class the evaluation measured an impact ratio for: its figure beside the production one
    (class → lowest ratio on the logged decisions and its group), and whether they agree to 3 d.p."""
    rows = []
    for name, (ratio, group) in production.items():
        measured = _evaluation_ratio(evaluation, name)
        if measured is None:
            continue
        same = (
            ratio is not None
            and measured["value"] is not None
            and round(ratio, 3) == round(float(measured["value"]), 3)
        )
        rows.append(
            {
                "name": name.replace("_", " "),
                "evaluation": measured,
                "production": ratio,
                "production_group": group,
                "agree": same,
            }
        )
    return rows


def reconciliation_findings(rows: Sequence[Mapping[str, Any]], cites: tuple[int, ...]) -> list[Finding]:
    findings = []
    for pair in rows:
        if not pair["agree"]:
            production = "n/a" if pair["production"] is None else format(pair["production"], ".3f")
            measured = pair["evaluation"]["value"]
            evaluated = "n/a" if measured is None else format(float(measured), ".3f")
            findings.append(
                Finding(
                    "info",
                    f"Impact ratio for {pair['name']}: evaluation and production differ",
                    f"{evaluated} on evaluation data vs {production} on logged decisions",
                    cites,
                )
            )
    return findings


def fair_lending_context(
    ledger: Ledger,
    evidence: Evidence,
    applicants: Sequence[Applicant],
    *,
    artifact_sha256: str,
    sex_field: str,
    race_field: str,
    min_group: int = MIN_GROUP,
) -> tuple[dict[str, Any], list[Finding]]:
    """The fair-lending section's context and the findings it supports."""
    source = class_source(ledger, evidence, artifact_sha256, sex_field=sex_field, race_field=race_field)
    approved = [a.approved for a in applicants]
    scores = [a.score for a in applicants]
    analyses = []
    for name, column in source.columns.items():
        bands = source.bands.get(name)
        groups = [_group(a.fields.get(column), bands) for a in applicants]
        analysis = analyse_class(name, groups, approved, scores, min_group=min_group)
        if not any(column in a.fields for a in applicants):
            analysis = replace(
                analysis,
                no_ratio_reason=f"no decision's sealed input holds the field {column!r} "
                "(the evaluation read it from its dataset; seal it with each decision to monitor this class)",
            )
        analyses.append(analysis)
    tables = [_table(a, source.columns[a.name]) for a in analyses]
    findings: list[Finding] = []
    cites = () if source.evaluation is None else (int(source.evaluation["seq"]),)
    for analysis in analyses:
        label = analysis.name.replace("_", " ")
        for row in analysis.flagged:
            findings.append(
                Finding(
                    "fail",
                    f"Adverse impact ratio {row.air:.3f} for {label} group {row.group} (under 0.8)",
                    f"approval rate {row.rate:.1%} against the control group {analysis.control}",
                )
            )
        if analysis.no_ratio_reason:
            findings.append(
                Finding("insufficient", f"No impact ratio for {label}", analysis.no_ratio_reason + ".", cites)
            )
        elif analysis.unsupported:
            names = ", ".join(f"{r.group} ({r.n})" for r in analysis.unsupported)
            findings.append(
                Finding(
                    "insufficient",
                    f"{label}: groups too small to analyse",
                    f"under {min_group} applicants or {float(MIN_SHARE):.0%} of the known: {names}.",
                )
            )
    for name in source.not_mapped:
        findings.append(
            Finding(
                "insufficient",
                f"{name.replace('_', ' ')} not analysed",
                "the evaluation recorded no data field for this class",
                cites,
            )
        )
    lowest = {a.name: (None, None) if a.lowest is None else (a.lowest.air, a.lowest.group) for a in analyses}
    paired = reconciliation(source.evaluation, lowest)
    findings += reconciliation_findings(paired, cites)
    context = {
        "classes": tables,
        "not_mapped": [n.replace("_", " ") for n in source.not_mapped],
        "min_group": min_group,
        "min_share": float(MIN_SHARE),
        "source": {
            "evaluation": None
            if source.evaluation is None
            else {
                "id": source.evaluation["evaluation_id"],
                "ref": source.evaluation["ref"],
                "dataset": source.evaluation["dataset"],
                "policy": source.evaluation["policy"],
            },
            "fields": source.columns,
            "bands": {k: ", ".join(f"{b:g}" for b in v) for k, v in source.bands.items()},
        },
        "reconciliation": paired,
        "scored": sum(1 for s in scores if s is not None),
    }
    return context, findings
