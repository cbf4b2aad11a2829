"""The dossier's validation views: measured performance with intervals, curves, confusion
matrices, intersectional rates, the challenger comparison and production beside evaluation.

Everything is read from the `validation` record an evaluation carries (policies.metrics.validation)
and from the decisions the version logged; nothing is re-measured on data. An evaluation recorded
before the record existed has none, and each view then says so instead of failing.
"""

from __future__ import annotations

from typing import Any

from reports.charts import Panel, Series, bar_chart_svg, curve_panels_svg
from reports.dossier_data import fmt

__all__ = [
    "METRIC_LABELS",
    "challenger_rows",
    "curves_chart",
    "fairness_threshold",
    "intersectional_view",
    "performance_view",
    "production_view",
]

MAX_GROUPS_SHOWN = 8  # per class: the largest groups that can be assessed; the rest in one summary line
METRIC_LABELS = {
    "accuracy": "Accuracy",
    "roc_auc": "AUC",
    "true_positive_rate": "TPR",
    "false_positive_rate": "FPR",
    "precision": "Precision",
}


def shown_groups(
    groups: list[dict[str, Any]], compared: Any, *, keep: Any = None
) -> tuple[list[dict[str, Any]], str | None]:
    """The groups a table lists one per row: those `compared(group)` accepts, largest first, at
    most MAX_GROUPS_SHOWN, always with the one `keep(group)` names (the reference group a ratio is
    taken to); and one line naming the rest with their rows. Why: a class such as national origin
    has forty groups, most of a few rows, and a row each would bury the rest."""
    eligible = sorted((g for g in groups if compared(g)), key=lambda g: (-g["count"], g["group"]))
    shown = eligible[:MAX_GROUPS_SHOWN]
    kept = [g for g in eligible[MAX_GROUPS_SHOWN:] if keep is not None and keep(g)]
    if kept:
        shown = [*shown[: MAX_GROUPS_SHOWN - len(kept)], *kept]
    rest = sorted((g for g in groups if g not in shown), key=lambda g: (-g["count"], g["group"]))
    if not rest:
        return shown, None
    rows = sum(g["count"] for g in rest)
    names = ", ".join(f"{g['group']} {g['count']:,}" for g in rest)
    return shown, f"{len(rest)} more group{'s' if len(rest) != 1 else ''} ({rows:,} rows): {names}"


def _cell(metric: dict[str, Any] | None) -> dict[str, str]:
    if not metric or metric.get("value") is None:
        return {"value": "n/a", "interval": ""}
    interval = metric.get("interval")
    shown = f"{metric['value']:.3f}"
    return {"value": shown, "interval": f"{interval[0]:.3f}–{interval[1]:.3f}" if interval else ""}


def _confusion(row: dict[str, Any]) -> dict[str, Any] | None:
    matrix = row.get("confusion")
    if not matrix:
        return None
    return {k: f"{matrix[k]:,}" for k in ("tn", "fp", "fn", "tp")}


def performance_view(ev: dict[str, Any]) -> dict[str, Any] | None:
    """Overall and per-group performance of one evaluation, with intervals; None when the
    evaluation recorded no validation figures (older entries)."""
    validation = ev.get("validation")
    if not validation:
        return None
    settings = validation["settings"]
    metrics = list(validation["metrics"])
    overall = validation["overall"]
    rows = [
        {
            "label": "All rows",
            "count": f"{overall['count']:,}",
            "cells": [_cell(overall["metrics"].get(m)) for m in metrics],
            "confusion": _confusion(overall),
            "too_small": None,
        }
    ]
    hidden = []
    for name, groups in validation["by_class"].items():
        shown, rest = shown_groups(groups, lambda g: not g.get("too_small"))
        for group in shown:
            rows.append(
                {
                    "label": f"{name}: {group['group']}",
                    "count": f"{group['count']:,}",
                    "cells": [_cell(group["metrics"].get(m)) for m in metrics],
                    "confusion": _confusion(group),
                    "too_small": None,
                }
            )
        if rest:
            hidden.append(f"{name}: {rest}")
    return {
        "metrics": [METRIC_LABELS[m] for m in metrics],
        "rows": rows,
        "n_boot": settings["n_boot"],
        "confidence": f"{100 * settings['confidence']:g}%",
        "seed": settings["seed"],
        "min_group_size": settings["min_group_size"],
        "has_confusion": rows[0]["confusion"] is not None,
        "hidden": hidden,
        "too_small_classes": [n for n, gs in validation["by_class"].items() if any(g.get("too_small") for g in gs)],
    }


def curves_chart(models: list[tuple[str, dict[str, Any]]], *, id_prefix: str) -> str | None:
    """Calibration and ROC of each (label, evaluation) with recorded curves, in one figure."""
    calibration, roc = [], []
    for label, ev in models:
        validation = ev.get("validation") or {}
        if "calibration" in validation:
            curve = validation["calibration"]
            calibration.append(Series(label, curve["mean_predicted"], curve["observed_rate"]))
        if "roc" in validation:
            roc.append(Series(label, validation["roc"]["fpr"], validation["roc"]["tpr"]))
    panels = []
    if calibration:
        panels.append(
            Panel("Calibration", "mean predicted probability (bin)", "observed positive rate", calibration, "ideal")
        )
    if roc:
        panels.append(Panel("ROC", "false positive rate", "true positive rate", roc, "chance"))
    return curve_panels_svg(panels, id_prefix=id_prefix) if panels else None


def fairness_threshold(rules: list[dict[str, Any]]) -> float | None:
    """The threshold of the first recorded impact-ratio rule (the line drawn on rate charts)."""
    for rule in rules:
        if rule["category"] == "fairness" and rule.get("has_ratios"):
            return float(rule["threshold"])
    return None


def intersectional_view(ev: dict[str, Any], threshold: float | None, *, id_prefix: str) -> dict[str, Any] | None:
    """Selection rates over the intersection of the classes, with intervals and the ratio chart."""
    crossed = (ev.get("validation") or {}).get("intersectional")
    if not crossed:
        return None
    listed, rest = shown_groups(
        crossed["groups"], lambda g: not g.get("too_small"), keep=lambda g: g.get("ratio") == 1.0
    )
    rows = []
    for g in listed:
        interval, ratio_interval = g.get("interval"), g.get("ratio_interval")
        rows.append(
            {
                "group": g["group"],
                "count": f"{g['count']:,}",
                "rate": "n/a" if g.get("selection_rate") is None else f"{100 * g['selection_rate']:.1f}%",
                "interval": f"{100 * interval[0]:.1f}–{100 * interval[1]:.1f}%" if interval else "",
                "ratio": fmt(g.get("ratio")) if g.get("ratio") is not None else "n/a",
                "ratio_interval": f"{ratio_interval[0]:.3f}–{ratio_interval[1]:.3f}" if ratio_interval else "",
                "too_small": g.get("too_small"),
                "below": threshold is not None and g.get("ratio") is not None and g["ratio"] < threshold,
                "raw_ratio": g.get("ratio"),
            }
        )
    compared = [r for r in rows if not r["too_small"]]
    chart = None
    if compared:
        chart = bar_chart_svg(
            [r["group"] for r in compared],
            [r["raw_ratio"] for r in compared],
            title=f"Selection-rate ratio by {' × '.join(crossed['by'])} (to the most-selected group)",
            threshold=threshold,
            xlabel="group's selection rate / most-selected group's rate",
            id_prefix=id_prefix,
        )
    lowest = min((r for r in compared if r["raw_ratio"] is not None), key=lambda r: r["raw_ratio"], default=None)
    return {"by": " × ".join(crossed["by"]), "rows": rows, "chart": chart, "lowest": lowest, "rest": rest}


def _headline(ev: dict[str, Any], metric: str) -> str:
    overall = ((ev.get("validation") or {}).get("overall") or {}).get("metrics", {})
    cell = _cell(overall.get(metric))
    return cell["value"] + (f" ({cell['interval']})" if cell["interval"] else "")


def _lowest_ratio(ev: dict[str, Any]) -> str:
    """The lowest impact ratio any fairness rule of the evaluation recorded, with its rule."""
    found = [
        (r["value"], r["rule_id"])
        for r in ev["rules"]
        if r["category"] == "fairness" and r.get("value") is not None and r["metric"].endswith("ratio")
    ]
    if not found:
        return "n/a"
    value, rule_id = min(found)
    return f"{fmt(value)} ({rule_id})"


def challenger_rows(this: dict[str, Any], this_stage: str, challengers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """This model and the others evaluated under the same policy on the same data, side by side."""
    rows = []
    for ev, stage, is_this in [(this, this_stage, True), *[(c, c["stage"], False) for c in challengers]]:
        failed = [r["rule_id"] for r in ev["rules"] if r["verdict"] != "pass"]
        rows.append(
            {
                "model": f"{ev['model']['name']}@{ev['model']['version']}",
                "this": is_this,
                "stage": stage,
                "ref": ev["ref"],
                "verdict": ev["verdict"],
                "accuracy": _headline(ev, "accuracy"),
                "auc": _headline(ev, "roc_auc"),
                "lowest_ratio": _lowest_ratio(ev),
                "not_passed": ", ".join(failed) or "none",
            }
        )
    return rows


def _rates(groups: dict[str, list[int]], min_size: int, min_share: float) -> dict[str, dict[str, Any]]:
    """Per group: n, approvals, rate, and ratio to the most-approved group among those compared
    (at least `min_size` rows and `min_share` of all rows, as the policy's rule compares them)."""
    total = sum(n for n, _ in groups.values()) or 1
    rates = {g: (n, hits, hits / n if n else None) for g, (n, hits) in groups.items()}
    compared = {
        g: rate for g, (n, _, rate) in rates.items() if n >= min_size and n / total >= min_share and rate is not None
    }
    best = max(compared.values(), default=None)
    out = {}
    for group, (n, hits, rate) in rates.items():
        ratio = rate / best if best and rate is not None and group in compared else None
        out[group] = {"n": n, "hits": hits, "rate": rate, "ratio": ratio}
    return out


def _shown_rate(cell: dict[str, Any] | None) -> tuple[str, str, str]:
    if cell is None:
        return "", "", ""
    rate = "n/a" if cell["rate"] is None else f"{100 * cell['rate']:.1f}%"
    return f"{cell['n']:,}", rate, fmt(cell["ratio"]) if cell["ratio"] is not None else "n/a"


def production_view(
    ev: dict[str, Any], production: dict[str, Any], minimums: dict[str, tuple[int, float]]
) -> dict[str, Any] | None:
    """Per class, each group's approval rate and impact ratio on the evaluation data beside those
    on the version's logged decisions, by the same arithmetic on both. `minimums` ({class: (rows,
    share)}) are the group minimums of the policy's rule by that class, so the evaluation column
    agrees with the rule's recorded ratios; a class without such a rule uses the validation's."""
    validation = ev.get("validation")
    if not validation or not production["decisions"]:
        return None
    default = (int(validation["settings"]["min_group_size"]), 0.0)
    classes = []
    for name, groups in validation["by_class"].items():
        if name not in production["counts"]:
            continue
        min_size, min_share = minimums.get(name, default)
        evaluated = _rates({g["group"]: [g["count"], g.get("selected", 0)] for g in groups}, min_size, min_share)
        logged = _rates(production["counts"][name], min_size, min_share)
        sizes = [{"group": g, "count": c["n"], "compared": c["ratio"] is not None} for g, c in evaluated.items()]
        sizes += [{"group": g, "count": 0, "compared": False} for g in logged if g not in evaluated]
        reference = {group for group, cell in evaluated.items() if cell["ratio"] == 1.0}
        listed, rest = shown_groups(sizes, lambda g: g["compared"], keep=lambda g, ref=reference: g["group"] in ref)
        rows = []
        for group in [g["group"] for g in listed]:
            e_n, e_rate, e_ratio = _shown_rate(evaluated.get(group))
            p_n, p_rate, p_ratio = _shown_rate(logged.get(group))
            rows.append(
                {"group": group, "e_n": e_n, "e_rate": e_rate, "e_ratio": e_ratio}
                | {"p_n": p_n, "p_rate": p_rate, "p_ratio": p_ratio}
            )
        e_low = min((c["ratio"] for c in evaluated.values() if c["ratio"] is not None), default=None)
        p_low = min((c["ratio"] for c in logged.values() if c["ratio"] is not None), default=None)
        unrecorded = production["unknown"][name] == production["decisions"]
        classes.append(
            {
                "name": name,
                "rows": [] if unrecorded else rows,
                "unrecorded": unrecorded,
                "unknown": f"{production['unknown'][name]:,}",
                "e_low": e_low,
                "p_low": p_low,
                "e_low_text": fmt(e_low),
                "rest": rest,
                "minimum": f"{min_size} rows" + (f" and {100 * min_share:g}% of rows" if min_share else ""),
                "p_low_text": fmt(p_low),
            }
        )
    return {"classes": classes, "decisions": f"{production['decisions']:,}"}
