"""What each console page shows, read from the ledger through its repository functions.

Kept apart from the routes so a page's content can be tested (and benchmarked) without a browser,
and so the routes stay a thin layer of roles, forms and redirects.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from ledger.api import Ledger
from ledger.errors import InvalidInputError, NotFoundError
from ledger.lineage import inventory_reads, policy_reads, queries, registry_reads, report_reads
from ledger.lineage.promotion_reads import promotion_history
from ledger.lineage.trace import decision_trace
from ledger.log.entry import parse_utc
from ledger.verification.proofpack import build_pack
from reports.period import period_bound

__all__ = [
    "approval_ids",
    "decision",
    "decision_pack",
    "decision_search",
    "describe_error",
    "inventory",
    "ledger_state",
    "model_version",
    "path_segment",
    "policies",
    "queue",
]

PAGE_SIZE = 50


def path_segment(text: str) -> str:
    return quote(text, safe="")


def describe_error(error: Any) -> str:
    """One line for an item of a refusal's `errors` (the API's machine-readable list)."""
    if isinstance(error, dict):
        parts = [str(error.get(k)) for k in ("rule_id", "msg", "message", "detail") if error.get(k)]
        return ": ".join(parts) if parts else json.dumps(error, sort_keys=True)
    return str(error)


def inventory(ledger: Ledger, *, q: str, stage: str, sort: str, page: int, recent_since: str) -> dict[str, Any]:
    with ledger.read_snapshot() as conn:
        result = inventory_reads.inventory_page(
            conn,
            recent_since=recent_since,
            name_contains=q or None,
            stage=stage or None,
            sort=sort,  # type: ignore[arg-type]  # checked by the route's pattern
            offset=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
    pages = max(1, -(-result.total // PAGE_SIZE))
    return {
        "rows": result.rows,
        "total": result.total,
        "page": page,
        "pages": pages,
        "q": q,
        "stage": stage,
        "sort": sort,
    }


def queue(ledger: Ledger, recent_since: str) -> list[inventory_reads.InventoryRow]:
    with ledger.read_snapshot() as conn:
        return inventory_reads.approval_queue(conn, recent_since=recent_since)


def approval_ids(ledger: Ledger, name: str, version: str) -> list[str]:
    """The approvals a promotion of this version cites: every "approve" recorded for it."""
    with ledger.read_snapshot() as conn:
        page = queries.list_approvals(conn, name=name, version=version, limit=100)
    return [item["approval_id"] for item in page.items if item["decision"] == "approve"][:20]


def _rules(data: dict[str, Any]) -> list[dict[str, Any]]:
    rules = []
    for rule in data.get("rules", []):
        groups = [g for g in rule.get("groups", []) if isinstance(g, dict)]
        rules.append({**rule, "groups": groups[:40], "more_groups": max(0, len(groups) - 40)})
    return rules


def model_version(ledger: Ledger, name: str, version: str, *, recent_since: str) -> dict[str, Any]:
    with ledger.read_snapshot() as conn:
        row = inventory_reads.inventory_row(conn, name, version, recent_since=recent_since)
        if row is None:
            raise NotFoundError(f"model {name}@{version} is not registered")
        registered = ledger.get(row.seq)
        run = queries.get_run(conn, registered.data["run_id"])
        datasets = registry_reads.datasets_by_id(conn, registry_reads.run_input_ids(conn, run["run_id"]))
        evaluations = policy_reads.evaluations_page(conn, name=name, version=version, before=None, limit=10).items
        approvals = queries.list_approvals(conn, name=name, version=version, limit=100).items
        promotions = promotion_history(conn, name, version, limit=100).items
        reports = report_reads.reports_about_model(conn, name, version)
    evaluated = []
    for item in evaluations:
        data = ledger.get(item["seq"]).data
        evaluated.append({**item, "data": data, "rules": _rules(data)})
    return {
        "row": row,
        "registered": registered,
        "run": run,
        "datasets": datasets,
        "evaluations": evaluated,
        "latest_evaluation": evaluated[0] if evaluated else None,
        "approvals": approvals,
        "promotions": promotions,
        "reports": [{**r, "by": ledger.get(int(r["seq"])).actor.name} for r in reports],
        "lineage_svg": _lineage_layout([d.dataset_id for d in datasets], run["run_id"], f"{name}@{version}", row),
        "path": f"/ui/models/{path_segment(name)}/{path_segment(version)}",
    }


def _lineage_layout(datasets: list[str], run_id: str, model: str, row: inventory_reads.InventoryRow) -> dict[str, Any]:
    """Boxes and arrows of datasets → training run → model → decisions, laid out on the server
    (the template draws them as SVG; no script, no external library)."""
    box_w, box_h, gap_y, col_x = 200, 44, 14, (10, 250, 490, 730)
    height = max(1, len(datasets)) * (box_h + gap_y) + gap_y
    mid = height / 2 - box_h / 2
    data_boxes: list[dict[str, Any]] = [
        {"x": col_x[0], "y": gap_y + i * (box_h + gap_y), "label": d, "caption": "dataset"}
        for i, d in enumerate(datasets)
    ]
    run_box: dict[str, Any] = {"x": col_x[1], "y": mid, "label": run_id, "caption": "training run"}
    model_box: dict[str, Any] = {"x": col_x[2], "y": mid, "label": model, "caption": f"model, {row.stage}"}
    decisions_box: dict[str, Any] = {
        "x": col_x[3],
        "y": mid,
        "label": f"{row.recent_decisions:,} in 30 days",
        "caption": "decisions",
    }
    arrows = [(b["x"] + box_w, b["y"] + box_h / 2, run_box["x"], mid + box_h / 2) for b in data_boxes]
    arrows += [
        (run_box["x"] + box_w, mid + box_h / 2, model_box["x"], mid + box_h / 2),
        (model_box["x"] + box_w, mid + box_h / 2, decisions_box["x"], mid + box_h / 2),
    ]
    return {
        "width": col_x[3] + box_w + 10,
        "height": height,
        "box_w": box_w,
        "box_h": box_h,
        "boxes": [*data_boxes, run_box, model_box, decisions_box],
        "arrows": arrows,
    }


def _bound(value: str, field: str) -> str | None:
    """A search bound as the reports read one (`reports.period.period_bound`: a plain day is its
    start, or for `until` the next day's start), checked to name a real moment."""
    if not value.strip():
        return None
    bound = period_bound(value.strip(), field)
    try:
        parse_utc(bound)
    except ValueError:
        raise InvalidInputError(
            f"{field}: {value!r} is not a date (2026-12-01) or a UTC time (2026-12-01T10:00:00Z)"
        ) from None
    return bound


def decision_search(ledger: Ledger, *, subject: str, model: str, since: str, until: str) -> dict[str, Any]:
    model_ref: tuple[str, str | None] | None = None
    if model:
        name, _, version = model.partition("@")
        model_ref = (name, version or None)
    searched = bool(subject or model or since or until)
    items: list[dict[str, Any]] = []
    if searched:
        with ledger.read_snapshot() as conn:
            page = queries.list_decisions(
                conn,
                model=model_ref,
                subject_ref=subject or None,
                since=_bound(since, "since"),
                until=_bound(until, "until"),
                limit=100,
            )
        items = page.items
    return {"items": items, "searched": searched, "subject": subject, "model": model, "since": since, "until": until}


def decision(ledger: Ledger, decision_id: str) -> dict[str, Any]:
    with ledger.read_snapshot() as conn:
        recorded = queries.get_decision(conn, decision_id)
        trace = decision_trace(conn, decision_id, kinds=ledger.registry)
    entry = ledger.get(recorded["seq"])
    by_kind: dict[str, list[Any]] = {}
    for node in trace.lineage.nodes:
        by_kind.setdefault(node.kind, []).append(node)
    # one readable chain, in the order a reviewer follows it: what decided, under what checks, from what
    chain: list[dict[str, Any]] = []
    for label, nodes in (
        ("Model version as decided", by_kind.get("model", [])),
        ("Evaluation", trace.evaluations),
        ("Policy", trace.policies),
        ("Approval", trace.approvals),
        ("Stage change", trace.stage_changes),
        ("Training run", by_kind.get("run", []) + by_kind.get("training_run", [])),
        ("Dataset", by_kind.get("dataset", [])),
    ):
        chain.extend({"label": label, "node": node} for node in nodes)
    return {
        "decision": recorded,
        "entry": entry,
        "trace": trace,
        "chain": chain,
        "reasons": entry.data.get("reasons") or [],
        "pack_url": f"/ui/decisions/{path_segment(decision_id)}/pack",
    }


def decision_pack(ledger: Ledger, decision_id: str) -> bytes:
    """The canonical proof pack of every entry in the decision's trace."""
    with ledger.read_snapshot() as conn:
        queries.get_decision(conn, decision_id)  # 404 for an unknown decision
        trace = decision_trace(conn, decision_id, kinds=ledger.registry)
    return build_pack(ledger, trace.seqs, purpose=f"trace of decision {decision_id}")


def ledger_state(ledger: Ledger) -> dict[str, Any]:
    checkpoint = ledger.latest_checkpoint()
    ring = ledger.key_ring()
    return {"size": ledger.size, "checkpoint": checkpoint, "keys": ring}


def policies(ledger: Ledger) -> dict[str, Any]:
    with ledger.read_snapshot() as conn:
        published = policy_reads.published_policies(conn)
        texts = {p.sha256: policy_reads.published_policy_text(conn, p) for p in published}
        evaluated = {p.sha256: policy_reads.evaluations_under_policy(conn, p.sha256) for p in published}
        active = policy_reads.newest_active_policy(conn)
    return {"policies": list(reversed(published)), "texts": texts, "active": active, "evaluated": evaluated}
