"""Model compliance dossier for one model version, laid out after EU AI Act Annex IV and US
model-risk validation practice (SR 26-2 / OCC 2026-13, successor to SR 11-7).

It assembles what the ledger holds about the version: its registration and documentation, the
other versions of the same model, the training run, every dataset back through `derived_from`,
every evaluation of its artifact (rules, per-group tables and charts, explanations), approvals
and separation of duties, promotions, decisions logged and human reviews. Every fact cites its
entry; verdicts and values are the recorded ones, never recomputed (see `reports.dossier_data`).
"""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup

from ledger.api import Ledger
from reports.charts import bar_chart_svg
from reports.checklist import ChecklistItem
from reports.document import Content
from reports.dossier_data import DossierReader, fmt, rule_view
from reports.dossier_findings import dossier_findings, dossier_outcome, latest_per_policy, risk_register
from reports.dossier_validation import (
    challenger_rows,
    curves_chart,
    fairness_threshold,
    intersectional_view,
    performance_view,
    production_view,
)
from reports.evidence import Evidence

__all__ = ["CHECKLIST", "SR_CITATION", "build_dossier"]

SR_CITATION = "SR 26-2 / OCC 2026-13 (successor to SR 11-7)"
FRAMEWORKS = [
    "EU AI Act (Regulation (EU) 2024/1689) Annex IV: technical documentation (layout of this dossier)",
    f"US model risk management: {SR_CITATION}: inventory, conceptual soundness, outcomes analysis, "
    "limitations, ongoing monitoring, effective challenge",
    "EEOC Uniform Guidelines, 29 CFR 1607.4(D): the four-fifths rule for per-group selection rates",
    "Regulation B, 12 CFR 1002.9(b)(2) and its Official Commentary: principal reasons for adverse action",
]


def _pairs(mapping: dict[str, Any] | None) -> list[dict[str, str]]:
    return [
        {"key": key, "value": value if isinstance(value, str) else json.dumps(value, sort_keys=True)}
        for key, value in sorted((mapping or {}).items())
    ]


def _explained(evaluations: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The explanation recorded by the latest evaluation that has one, with its chart."""
    latest = next((e for e in evaluations if e.get("explainability")), None)
    if latest is None:
        return None
    ex = latest["explainability"]
    mean_abs = ex.get("mean_abs") or {}
    ranking = [
        f for f in ex.get("ranking") or sorted(mean_abs, key=lambda f: (-(mean_abs[f] or 0.0), f)) if f in mean_abs
    ]
    chart = None
    if ranking:
        chart = bar_chart_svg(
            ranking,
            [mean_abs[f] for f in ranking],
            title=f"Global importance: mean |SHAP| ({ex.get('output_space') or 'model output'})",
            xlabel="mean |SHAP value| over the sampled rows",
            id_prefix="shap",
        )
    return {
        "ref": latest["ref"],
        "evaluation_id": latest["evaluation_id"],
        "chart": chart,
        "features": list(ex.get("features") or ranking),
        "estimator": ex.get("estimator"),
        "explainer_kind": ex.get("explainer_kind"),
        "shap_version": ex.get("shap_version"),
        "background_sha256": ex.get("background_sha256"),
        "background_size": fmt(ex.get("background_size")),
        "sample_size": fmt(ex.get("sample_size")),
        "seed": fmt(ex.get("seed")),
        "output_space": ex.get("output_space"),
        "additivity_error": fmt(ex.get("additivity_error")),
        "note": ex.get("note"),
    }


def _evaluation_view(ev: dict[str, Any], policy: dict[str, Any], index: int, *, charts: bool) -> dict[str, Any]:
    """One evaluation as the template reads it; per-group charts only where they are shown (the
    evaluation the validation sections present): each costs a tenth of a second to draw."""
    rules = [rule_view(r, policy["rules"]) for r in ev["rules"]]
    for number, rule in enumerate(rules):
        rule["evaluation_ref"] = ev["ref"]
        rule["chart"] = None
        if charts and rule["category"] == "fairness" and rule["groups"]:
            groups = rule["groups"]
            ratios = rule["has_ratios"]
            rule["chart"] = bar_chart_svg(
                [g["group"] + (" (excluded)" if g["excluded"] else "") for g in groups],
                [g["raw_ratio"] if ratios else g["raw_value"] for g in groups],
                title=f"{rule['rule_id']}: {'impact ratio' if ratios else rule['value_name']} by {rule['by']}",
                threshold=rule["threshold"] if ratios else None,
                xlabel="group's selection rate / most-selected group's rate" if ratios else rule["value_name"],
                id_prefix=f"e{index}r{number}",
            )
    dataset = ev["dataset"]
    parameters = ev.get("parameters") or {}
    return {
        "evaluation_id": ev["evaluation_id"],
        "seq": ev["seq"],
        "ref": ev["ref"],
        "ts": ev["ts"],
        "protected_classes": ev.get("protected_classes"),
        "actor": ev["actor"],
        "verdict": ev["verdict"],
        "policy": policy,
        "dataset": {
            "dataset_id": dataset.get("dataset_id") or "not registered",
            "sha256": dataset["content_sha256"],
            "rows": fmt(dataset["rows"]),
        },
        "target": parameters.get("target"),
        "sensitive": _classes_used(ev),
        "libraries": ", ".join(f"{k} {v}" for k, v in sorted((ev.get("libraries") or {}).items())) or None,
        "summary": ev.get("summary"),
        "rules": rules,
        "performance": [r for r in rules if r["category"] == "performance"],
        "grouped": [r for r in rules if r["groups"]],
    }


def _approval_views(
    approvals: list[dict[str, Any]], evaluations: list[dict[str, Any]], run_actor_id: str, reader: DossierReader
) -> list[dict[str, Any]]:
    by_id = {e["evaluation_id"]: e for e in evaluations}
    views = []
    for approval in approvals:
        cited = approval.get("evaluation_id")
        relied = by_id.get(cited) if cited else None
        newer = [e for e in evaluations if relied and e["seq"] > relied["seq"] and e["policy"] == relied["policy"]]
        if cited and relied is None and (seq := reader.evaluation_seq(cited)) is not None:
            reader.cite(seq, "evaluation an approval relies on")
        views.append(
            {
                **approval,
                "approver": approval["actor"].name,
                "actor_id": approval["actor"].id,
                "distinct": approval["actor"].id != run_actor_id,
                "relied": relied,
                "latest": bool(evaluations) and relied is evaluations[0],
                "superseded_by": newer[0]["ref"] if newer else None,
            }
        )
    return views


def _change_log(
    model: dict[str, Any],
    evaluations: list[dict[str, Any]],
    approvals: list[dict[str, Any]],
    changes: list[dict[str, Any]],
    refused: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    registered = f"registered (artifact {model['artifact_sha256'][:12]}…, run {model['run_id']})"
    events = [
        {"seq": model["seq"], "ref": model["ref"], "ts": model["ts"], "actor": model["actor"].name, "event": registered}
    ]
    for ev in evaluations:
        policy = ev["policy"]
        text = f"evaluated under {policy['name']} {policy['version']}: {ev['verdict']}"
        events.append({"seq": ev["seq"], "ref": ev["ref"], "ts": ev["ts"], "actor": ev["actor"], "event": text})
    for ap in approvals:
        # the evaluation id is kept on one line (an id broken at its hyphen reads as two words)
        text = Markup("{} by {}").format(ap["decision"], ap["role"]) + (
            Markup(' on evaluation <span class="ident">{}</span>').format(ap["evaluation_id"])
            if ap.get("evaluation_id")
            else ""
        )
        events.append({"seq": ap["seq"], "ref": ap["ref"], "ts": ap["ts"], "actor": ap["actor"].name, "event": text})
    for ch in changes:
        text = f"moved to {ch['stage']}" + (f": {ch['reason']}" if ch["reason"] else "")
        if ch["approval_ids"]:
            text += f" (approvals cited: {', '.join(ch['approval_ids'])})"
        events.append({"seq": ch["seq"], "ref": ch["ref"], "ts": ch["ts"], "actor": ch["actor"], "event": text})
    for rf in refused:
        text = f"promotion to {rf['stage']} refused by the gate ({rf['why']})"
        events.append({"seq": rf["seq"], "ref": rf["ref"], "ts": rf["ts"], "actor": rf["actor"], "event": text})
    return sorted(events, key=lambda e: e["seq"])


def build_dossier(ledger: Ledger, evidence: Evidence, *, name: str, version: str) -> Content:
    with ledger.read_snapshot() as conn:
        reader = DossierReader(ledger, evidence, conn)
        model = reader.model(name, version)
        versions = reader.versions(name)
        changes = reader.stage_changes(name, version)
        refused = reader.refused_promotions(name, version)
        run = reader.run(model["run_id"])
        recorded = reader.evaluations(model["artifact_sha256"])
        published = reader.policies()
        policies = {
            sha: reader.policy(published[sha], sha, f"policy {published[sha]['name']} {published[sha]['version']}")
            for sha in sorted({e["policy"]["sha256"] for e in recorded}, key=lambda s: published[s]["seq"])
        }
        active = reader.active_policy()
        active_view = reader.policy(active[1], active[0], "active policy (gates promotion)") if active else None
        roots: dict[str, list[str]] = {d: [f"training input of {run['run_id']}"] for d in run["input_datasets"]}
        for ev in recorded:
            if ev["dataset"].get("dataset_id"):
                roots.setdefault(ev["dataset"]["dataset_id"], []).append("evaluation data")
        datasets = reader.datasets(roots)
        approvals = reader.approvals(name, version)
        decisions = reader.decisions_by_month(name, version)
        reviews = reader.reviews(name, version)
        approval_views = _approval_views(approvals, recorded, run["actor"].id, reader)
        primary = _primary(recorded, active)
        challengers = reader.challengers(primary) if primary is not None else []
        oversight = reader.oversight(name, version)
        mapping = ((primary or {}).get("protected_classes") or {}).get("mapping") or {}
        production = reader.production_groups(name, version, dict(mapping))

    shown = primary["evaluation_id"] if primary is not None else None
    evaluations = [
        _evaluation_view(ev, policies[ev["policy"]["sha256"]], i, charts=ev["evaluation_id"] == shown)
        for i, ev in enumerate(recorded)
    ]
    all_rules = [r for ev in evaluations for r in ev["rules"]]
    latest = latest_per_policy(evaluations)
    main = next(
        (e for e in evaluations if primary is not None and e["evaluation_id"] == primary["evaluation_id"]), None
    )
    threshold = fairness_threshold(main["rules"] if main else [])
    stage = changes[-1] if changes else None
    performance = performance_view(primary) if primary is not None else None
    produced = production_view(primary, production, _minimums(main)) if primary is not None and main else None
    challenger_views = [{**c, "rules": [rule_view(r, {}) for r in c["rules"]]} for c in challengers]
    validation = {
        "primary": main,
        "performance": performance,
        "curves": curves_chart(
            [(f"{name}@{version}", primary or {})]
            + [(f"{c['model']['name']}@{c['model']['version']}", c) for c in challengers],
            id_prefix="curves",
        ),
        "intersectional": intersectional_view(primary, threshold, id_prefix="inter") if primary else None,
        "challengers": challenger_rows(
            {**primary, "ref": main["ref"], "rules": main["rules"]},
            stage["stage"] if stage else "registered",
            challenger_views,
        )
        if primary is not None and main is not None and challengers
        else [],
        "production": produced,
        "threshold": fmt(threshold) if threshold is not None else None,
    }
    required = active_view["approvals_required"] if active_view else None
    findings = dossier_findings(
        model=model,
        evaluations=evaluations,
        oversight=oversight,
        refused=refused,
        production=produced,
        withheld=production["withheld"],
        threshold=threshold,
    )
    outcome = dossier_outcome(
        name=name, version=version, evaluations=evaluations, approvals=approval_views, required=required, stage=stage
    )
    overlap = _overlap(datasets, run["input_datasets"], recorded)
    risks = risk_register(
        model=model,
        latest=latest,
        performance=performance,
        production=produced,
        oversight=oversight,
        datasets_overlap=overlap,
        threshold=threshold,
    )
    explained = _explained(recorded)
    gate_latest = None
    if active is not None:
        gate_latest = next((e for e in evaluations if e["policy"]["sha256"] == active[0]), None)
    context = {
        "name": name,
        "version": version,
        "sr_citation": SR_CITATION,
        "model": {
            **{
                k: model.get(k)
                for k in (
                    "description",
                    "intended_use",
                    "out_of_scope_uses",
                    "owner",
                    "risk_tier",
                    "limitations",
                    "monitoring_plan",
                    "use_domain",
                    "estimator",
                    "input_features",
                    "human_oversight",
                )
            },
            "hyperparameters": _pairs(model.get("hyperparameters")),
            "artifact": model["artifact_sha256"],
            "run_id": model["run_id"],
            "ref": model["ref"],
            "ts": model["ts"],
            "recorded_by": model["actor"].name,
        },
        "versions": versions,
        "stage": changes[-1] if changes else None,
        "changes": changes,
        "refused": refused,
        "run": {
            "run_id": run["run_id"],
            "ref": run["ref"],
            "ts": run["ts"],
            "code_version": run["code_version"],
            "parameters": _pairs(run.get("parameters")),
            "environment": _pairs(run.get("environment")),
            "metrics": [{"key": k, "value": fmt(v)} for k, v in sorted((run.get("metrics") or {}).items())],
            "inputs": ", ".join(run["input_datasets"]),
            "started_at": run.get("started_at"),
            "ended_at": run.get("ended_at"),
            "recorded_by": run["actor"].name,
            "recorded_by_id": run["actor"].id,
        },
        "explained": explained,
        "datasets": datasets,
        "evaluations": evaluations,
        "latest": evaluations[0] if evaluations else None,
        "data_rules": [r for r in all_rules if r["category"] == "data"],
        "fairness_rules": [r for r in all_rules if r["category"] == "fairness"],
        "explain_rules": [r for r in all_rules if r["category"] == "explainability"],
        "open_findings": [r for r in all_rules if r["verdict"] != "pass"],
        "active_policy": active_view,
        "gate_latest": gate_latest,
        "policies": list(policies.values()),
        "frameworks": FRAMEWORKS,
        "approvals": approval_views,
        "validators": sorted({ev["actor"] for ev in evaluations}),
        "decisions": decisions,
        "reviews": reviews,
        "change_log": _change_log(model, recorded, approvals, changes, refused),
        "validation": validation,
        "oversight": _oversight_view(model, oversight, production["withheld"]),
        "risks": risks,
        "overlap": overlap,
        "composition": _composition(primary),
        "findings": findings,
        "outcome": outcome,
    }
    return Content(
        kind="dossier",
        kind_label="Model compliance dossier",
        title=f"Model compliance dossier: {name}@{version}",
        subject=f"model {name}@{version}",
        template="dossier.html.j2",
        context=context,
        model=(name, version),
        outcome=outcome,
        findings=findings,
    )


def _primary(recorded: list[dict[str, Any]], active: tuple[str, dict[str, Any]] | None) -> dict[str, Any] | None:
    """The evaluation the dossier's validation sections show: the latest under the policy that
    gates promotion, else the latest of any (recorded comes newest first)."""
    if active is not None:
        gated = next((e for e in recorded if e["policy"]["sha256"] == active[0]), None)
        if gated is not None:
            return gated
    return recorded[0] if recorded else None


def _minimums(ev: dict[str, Any]) -> dict[str, tuple[int, float]]:
    """{class: (min rows, min share)} of the evaluation's single-class impact-ratio rules."""
    found: dict[str, tuple[int, float]] = {}
    for rule in ev["rules"]:
        by = rule["by"].split(", ") if rule["by"] else []
        if rule["category"] == "fairness" and rule["has_ratios"] and len(by) == 1:
            found.setdefault(by[0], ev["policy"]["minimums"].get(rule["rule_id"], (0, 0.0)))
    return found


def _overlap(datasets: list[dict[str, Any]], training: list[str], recorded: list[dict[str, Any]]) -> str:
    """What the ledger can say about evaluation/training overlap: whether the files are distinct
    (content hashes) and which registered sources they share. Row-level overlap is not recorded."""
    by_id = {d["dataset_id"]: d for d in datasets}
    train_hashes = {by_id[d]["content_sha256"] for d in training if d in by_id}
    evaluated = sorted(
        {(e["dataset"].get("dataset_id") or "unregistered", e["dataset"]["content_sha256"]) for e in recorded}
    )
    if not evaluated or not train_hashes:
        return "not checkable: no evaluation or no registered training data"
    same = [d for d, h in evaluated if h in train_hashes]
    if same:
        return f"the evaluation data {', '.join(same)} is the training data (same content hash)"

    def sources(dataset_id: str) -> set[str]:
        found: set[str] = set()
        pending = [dataset_id]
        while pending:
            current = by_id.get(pending.pop())
            if current is None:
                continue
            parents = current.get("derived_from") or []
            found.update(parents)
            pending.extend(parents)
        return found or {dataset_id}

    shared = set().union(*(sources(d) for d in training)) & set().union(*(sources(d) for d, _ in evaluated))
    text = f"distinct files: {', '.join(d for d, _ in evaluated)} vs training {', '.join(training)} (hashes differ)"
    if shared:
        text += f"; both derive from {', '.join(sorted(shared))}, so rows could be shared"
        text += " (row-level overlap is not recorded)"
    else:
        text += "; no shared registered source"
    return text


def _composition(primary: dict[str, Any] | None) -> list[dict[str, str]]:
    """Group composition of the evaluation data, from the validation record's per-group counts."""
    validation = (primary or {}).get("validation")
    if not validation:
        return []
    total = validation["overall"]["count"]
    composition = []
    for name, groups in validation["by_class"].items():
        ordered = sorted(groups, key=lambda g: (-g["count"], g["group"]))
        shown = ", ".join(f"{g['group']} {g['count']:,} ({100 * g['count'] / total:.1f}%)" for g in ordered[:6])
        rest = ordered[6:]
        if rest:
            shown += f", and {len(rest)} more ({sum(g['count'] for g in rest):,} rows)"
        composition.append({"class": name, "groups": shown})
    return composition


def _oversight_view(model: dict[str, Any], oversight: dict[str, Any], withheld: list[int]) -> dict[str, Any]:
    coverage = oversight["coverage"]
    promise = model.get("human_oversight")
    share = f"{100 * coverage.adverse_reviewed / coverage.adverse:.1f}%" if coverage.adverse else "n/a"
    return {
        "promise": {"sample_share": None, "description": None, **promise} if promise else None,
        "decisions": f"{coverage.decisions:,}",
        "adverse": f"{coverage.adverse:,}",
        "reviewed": f"{coverage.reviewed:,}",
        "adverse_reviewed": f"{coverage.adverse_reviewed:,}",
        "adverse_share": share,
        "appeals": oversight["appeals"],
        "withheld": f"{len(withheld):,}",
    }


CHECKLIST = [
    ChecklistItem("identification", "Identification", f"EU AI Act Annex IV 1; {SR_CITATION}: model inventory"),
    ChecklistItem("version-lineage", "Lineage vs previous versions", "Annex IV 1 (versions), 6 (changes)"),
    ChecklistItem("owner", "Owner / provider", "Annex IV 1; SR inventory (owner, developer, validator)"),
    ChecklistItem("risk-tier", "risk tier", "SR inventory; AIA Art. 6 and Annex III"),
    ChecklistItem("intended-purpose", "Intended purpose and users", "Annex IV 1(a)"),
    ChecklistItem("out-of-scope", "Out-of-scope uses", "Annex IV 1; AIA 13(3)(b)(iii)"),
    ChecklistItem("deployment", "Deployment and distribution", "Annex IV 1(d)-(e): forms and date of distribution"),
    ChecklistItem("design", "Design and development", "Annex IV 2(a)-(c)"),
    ChecklistItem("model-type", "Model type", "Annex IV 2(b): general logic and design choices"),
    ChecklistItem("hyperparameters", "Hyperparameters", "Annex IV 2(b): design choices"),
    ChecklistItem("features", "Input features", "Annex IV 2(b)"),
    ChecklistItem("artifact", "Artifact SHA-256", "Annex IV 2; decision record trace"),
    ChecklistItem("training-run", "Training run", "Annex IV 2(a)-(c): methods, environment, who developed it"),
    ChecklistItem("data", "Data lineage", "Annex IV 2(d); AIA Art. 10: datasheets, provenance, hashes"),
    ChecklistItem("overlap", "Evaluation/training overlap", "AIA Art. 10(3); SR conceptual soundness"),
    ChecklistItem("validation", "Validation and evaluation results", f"Annex IV 2(g), 3, 4; {SR_CITATION} §V"),
    ChecklistItem("performance", "Performance with intervals", "AIA Art. 15; SR outcomes analysis"),
    ChecklistItem("calibration", "Calibration and ROC", "SR outcomes analysis (calibration, discrimination)"),
    ChecklistItem("confusion", "Confusion matrices", "SR outcomes analysis"),
    ChecklistItem("challenger", "Challenger comparison", "SR effective challenge: alternative models"),
    ChecklistItem("per-group", "Per-group results", "29 CFR 1607.4(D); AIA 10(2)(f)-(g)"),
    ChecklistItem("fairness-gate", "Fairness gate results", "29 CFR 1607.4(D); AIA 10(2)(f)-(g)"),
    ChecklistItem("intersectional", "Intersectional fairness", "AIA 10(2)(f)-(g): combined characteristics"),
    ChecklistItem("promotion-gate", "Promotion gate", "Annex IV 2(g); ledger promotion gate"),
    ChecklistItem("explainability", "Explainability", "Reg B 12 CFR 1002.9(b)(2); AIA 13, 86"),
    ChecklistItem("global-importance", "Global feature importance", "Reg B; AIA 13"),
    ChecklistItem("sensitive-checks", "Sensitive-feature checks", "Reg B 1002.6(b); AIA 10(5)"),
    ChecklistItem("limitations", "Limitations, foreseeable misuse and risks", "Annex IV 3, 5; AIA Art. 9"),
    ChecklistItem("risk-register", "Risk register", "AIA Art. 9 (risk management); SR limitations"),
    ChecklistItem("oversight", "Human oversight and approvals", "Annex IV 2(e), 2(g); AIA 14; SR effective challenge"),
    ChecklistItem("review-coverage", "Review coverage", "AIA 14; the intended use's review promise"),
    ChecklistItem("separation", "Separation of duties", "SR effective challenge; AIA 14"),
    ChecklistItem("approval-currency", "Approvals and the latest evaluation", "Annex IV 2(g) (dated and signed)"),
    ChecklistItem("monitoring", "Monitoring plan", "Annex IV 9; AIA 72"),
    ChecklistItem("production", "Production beside evaluation", "AIA 72; SR ongoing monitoring"),
    ChecklistItem("change-log", "Change log and promotion history", "Annex IV 6"),
    ChecklistItem("refused", "Refused promotions", "Annex IV 6; ledger promotion gate"),
    ChecklistItem("standards", "Standards applied", "Annex IV 7"),
    ChecklistItem("integrity", "Integrity", "Annex IV; REGULATORY.md model report item 11"),
    ChecklistItem("instructions", "How to verify", "integrity appendix: verification instructions"),
]


def _classes_used(ev: dict[str, Any]) -> str | None:
    """Protected class = column for evaluations that recorded a mapping; the columns for older ones."""
    used = ev.get("protected_classes")
    if used is None:
        return ", ".join((ev.get("parameters") or {}).get("sensitive") or []) or None
    shown = [f"{name} = {column}" for name, column in sorted(used.get("mapping", {}).items())]
    if used.get("not_mapped"):
        shown.append(f"not mapped (not evaluated): {', '.join(used['not_mapped'])}")
    if used.get("proxies"):
        shown.append(f"declared proxies: {', '.join(used['proxies'])}")
    return "; ".join(shown) or None
