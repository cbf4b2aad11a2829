"""Append-time rules and projections for policies and evaluations, and the promotion gate.

The gate: once a policy is active (the newest `policy.published` with `activate`), promoting a
model version to production is refused (409, with the failing rules) unless the latest
evaluation of that exact artifact under the active policy passed, no approval relying on it
rejected the model, and at least the policy's `approvals_required` distinct approvers approved
it citing that evaluation. A newer evaluation of the artifact therefore invalidates approvals
given for an older one. A ledger with no active policy does not gate promotions (the
model dossier says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, insert, or_, select

from ledger.access.tables import api_keys
from ledger.errors import ConflictError, InvalidInputError, NotFoundError, PromotionBlockedError
from ledger.lineage import tables as t
from ledger.lineage.policy_reads import newest_active_policy, published_policy
from ledger.log.entry import SealedEntry
from ledger.storage.store import fetch_entry_data

__all__ = [
    "check_approval_evaluation",
    "check_promotion",
    "project_evaluation",
    "project_policy",
    "project_promotion_refusal",
    "project_report",
]

APPROVER_ROLES = frozenset({"approver"})


def _invalid(message: str, field: str) -> InvalidInputError:
    return InvalidInputError(message, [{"loc": ["data", field], "msg": message, "type": "lineage"}])


def project_policy(conn: Connection, entry: SealedEntry) -> None:
    data = entry.data
    clash = conn.execute(
        select(t.policies.c.seq, t.policies.c.sha256).where(
            or_(
                t.policies.c.sha256 == data["sha256"],
                (t.policies.c.name == data["name"]) & (t.policies.c.version == data["version"]),
            )
        )
    ).first()
    if clash is not None:
        what = "this text" if clash.sha256 == data["sha256"] else f"{data['name']} version {data['version']}"
        raise ConflictError(f"{what} is already published (entry {clash.seq}); publish a new version instead")
    conn.execute(
        insert(t.policies).values(
            sha256=data["sha256"],
            seq=entry.seq,
            name=data["name"],
            version=data["version"],
            activate=data.get("activate", True),
            approvals_required=data.get("approvals_required", 0),
        )
    )


def project_evaluation(conn: Connection, entry: SealedEntry) -> None:
    data = entry.data
    if conn.execute(select(t.evaluations.c.seq).where(t.evaluations.c.evaluation_id == data["evaluation_id"])).first():
        raise ConflictError(f"evaluation {data['evaluation_id']!r} is already recorded")
    model = data["model"]
    row = conn.execute(
        select(t.models.c.artifact_sha256).where(
            t.models.c.name == model["name"], t.models.c.version == model["version"]
        )
    ).first()
    if row is None:
        raise NotFoundError(f"model {model['name']}@{model['version']} is not registered")
    if row.artifact_sha256 != data["model_artifact_sha256"]:
        raise _invalid(
            f"model_artifact_sha256 is not the artifact registered for {model['name']}@{model['version']} "
            f"({row.artifact_sha256})",
            "model_artifact_sha256",
        )
    policy = data["policy"]
    published = published_policy(conn, policy["sha256"])
    if published is None:
        raise NotFoundError(f"policy {policy['sha256'][:12]}… is not published; publish it before evaluating under it")
    if (published.name, published.version) != (policy["name"], policy["version"]):
        raise _invalid(f"policy hash belongs to {published.name} version {published.version}", "policy")
    dataset = data["dataset"]
    if dataset.get("dataset_id") is not None:
        stored = conn.execute(
            select(t.datasets.c.content_sha256).where(t.datasets.c.dataset_id == dataset["dataset_id"])
        ).first()
        if stored is None:
            raise NotFoundError(f"dataset {dataset['dataset_id']!r} is not registered")
        if stored.content_sha256 != dataset["content_sha256"]:
            raise _invalid(
                f"dataset {dataset['dataset_id']} was registered with content hash {stored.content_sha256}",
                "dataset",
            )
    conn.execute(
        insert(t.evaluations).values(
            evaluation_id=data["evaluation_id"],
            seq=entry.seq,
            name=model["name"],
            version=model["version"],
            artifact_sha256=data["model_artifact_sha256"],
            policy_sha256=policy["sha256"],
            verdict=data["verdict"],
            ts=entry.ts,
        )
    )


def check_approval_evaluation(conn: Connection, entry: SealedEntry) -> None:
    """An approval that cites an evaluation must cite one of this very model version."""
    evaluation_id = entry.data.get("evaluation_id")
    if evaluation_id is None:
        return
    row = conn.execute(
        select(t.evaluations.c.name, t.evaluations.c.version).where(t.evaluations.c.evaluation_id == evaluation_id)
    ).first()
    if row is None:
        raise NotFoundError(f"evaluation {evaluation_id!r} is not recorded")
    model = entry.data["model"]
    if (row.name, row.version) != (model["name"], model["version"]):
        raise _invalid(f"evaluation {evaluation_id} is of {row.name}@{row.version}", "evaluation_id")


def _failing_rules(conn: Connection, seq: int) -> list[dict[str, Any]]:
    data = fetch_entry_data(conn, seq)
    problems = []
    for rule in data["rules"]:
        if rule["severity"] == "block" and rule["verdict"] != "pass":
            problems.append(
                {
                    "loc": ["rules", rule["rule_id"]],
                    "msg": f"{rule['rule_id']}: {rule['message']}",
                    "type": rule["verdict"],
                    "group": rule.get("worst_group"),
                    "value": rule.get("value"),
                    "threshold": rule["threshold"],
                }
            )
    return problems


def _approver_ids(conn: Connection, actor_ids: set[str]) -> set[str]:
    """Actors that count as approvers: API keys holding the approver role, and local operators
    (a person at the ledger's host, recorded by their OS user name)."""
    key_ids = [a.removeprefix("key:") for a in actor_ids if a.startswith("key:")]
    approvers = {a for a in actor_ids if a.startswith("local:")}
    if key_ids:
        rows = conn.execute(select(api_keys.c.key_id, api_keys.c.role).where(api_keys.c.key_id.in_(key_ids)))
        approvers |= {f"key:{row.key_id}" for row in rows if row.role in APPROVER_ROLES}
    return approvers


def _clip(text: str, limit: int = 5000) -> str:
    """A message cut to what a `Text` field holds (a rule's message alone may use all of it)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _refusal(
    request: Mapping[str, Any],
    model: Any,
    policy: Any,
    latest: Any,
    approvers: int | None,
    message: str,
    problems: list[dict[str, Any]],
) -> dict[str, Any]:
    """The `promotion.refused` payload (`ledger.lineage.policy_schemas.PromotionRefused`): the
    request as the refused entry carried it, and why, structured, from what the gate read."""
    rules = [p for p in problems if p["loc"][0] == "rules"]
    kept = ("reason", "approval_ids")
    return {
        "model": {"name": model.name, "version": model.version},
        "artifact_sha256": model.artifact_sha256,
        "stage": request["stage"],
        **{key: request[key] for key in kept if request.get(key) is not None},
        "policy": {"name": policy.name, "version": policy.version, "sha256": policy.sha256},
        "evaluation": None if latest is None else {"evaluation_id": latest.evaluation_id, "verdict": latest.verdict},
        "failed_rules": [p["loc"][1] for p in rules if p["type"] == "fail"],
        "insufficient_rules": [p["loc"][1] for p in rules if p["type"] == "insufficient_evidence"],
        "rejected_by": [p["loc"][1] for p in problems if p["type"] == "rejected"][:500],
        "approvals": None if approvers is None else {"have": approvers, "required": policy.approvals_required},
        "message": _clip(message),
        "problems": [
            {**{k: v for k, v in p.items() if v is not None}, "msg": _clip(p["msg"])} for p in problems[:1000]
        ],
    }


def check_promotion(conn: Connection, model: Any, request: Mapping[str, Any]) -> None:
    """Refuse a promotion to production that the active policy does not allow (see module doc).

    `request` is the `model.promoted` payload; the refusal carries it, with the structured
    reasons, as the payload of the `promotion.refused` entry that records it."""
    policy = newest_active_policy(conn)
    if policy is None:
        return
    label = f"{model.name}@{model.version}"
    under = f"policy {policy.name} version {policy.version} ({policy.sha256[:12]})"
    latest = conn.execute(
        select(t.evaluations)
        .where(t.evaluations.c.artifact_sha256 == model.artifact_sha256, t.evaluations.c.policy_sha256 == policy.sha256)
        .order_by(t.evaluations.c.seq.desc())
        .limit(1)
    ).first()
    if latest is None:
        msg = f"no evaluation of artifact {model.artifact_sha256[:12]} under the active {under}"
        problems: list[dict[str, Any]] = [{"loc": ["evaluation"], "msg": msg, "type": "missing"}]
        message = f"promotion of {label} refused: {msg}"
        refusal = _refusal(request, model, policy, None, None, message, problems)
        raise PromotionBlockedError(message, problems, refusal=refusal)
    problems = _failing_rules(conn, latest.seq) if latest.verdict != "passed" else []
    approvals = conn.execute(
        select(t.approvals).where(
            t.approvals.c.name == model.name,
            t.approvals.c.version == model.version,
            t.approvals.c.evaluation_id == latest.evaluation_id,
        )
    ).all()
    for row in approvals:
        if row.decision == "reject":
            msg = f"approval {row.approval_id} rejected the model on evaluation {latest.evaluation_id}"
            problems.append({"loc": ["approvals", row.approval_id], "msg": msg, "type": "rejected"})
    approvers = _approver_ids(conn, {row.actor_id for row in approvals if row.decision == "approve"})
    if len(approvers) < policy.approvals_required:
        msg = (
            f"{len(approvers)} of {policy.approvals_required} required approvals by role approver cite "
            f"the latest evaluation {latest.evaluation_id} (approvals citing older evaluations no longer count)"
        )
        problems.append({"loc": ["approvals"], "msg": msg, "type": "too_few_approvals"})
    if problems:
        summary = "; ".join(p["msg"] for p in problems[:5])
        message = (
            f"promotion of {label} refused under {under}, evaluation {latest.evaluation_id} "
            f"({latest.verdict}): {summary}"
        )
        refusal = _refusal(request, model, policy, latest, len(approvers), message, problems)
        raise PromotionBlockedError(message, problems, refusal=refusal)


def project_promotion_refusal(conn: Connection, entry: SealedEntry) -> None:
    """A refused attempt joins its model version's promotion history (the model must be registered:
    the gate refused a promotion of a model it found). It changes no stage."""
    model = entry.data["model"]
    known = conn.execute(
        select(t.models.c.seq).where(t.models.c.name == model["name"], t.models.c.version == model["version"])
    ).first()
    if known is None:
        raise NotFoundError(f"model {model['name']}@{model['version']} is not registered")
    conn.execute(
        insert(t.promotion_refusals).values(
            seq=entry.seq, name=model["name"], version=model["version"], stage=entry.data["stage"], ts=entry.ts
        )
    )


def project_report(conn: Connection, entry: SealedEntry) -> None:
    """A report is issued only at the sequence number its PDF names (the issuer re-renders and
    retries if another entry took that place first)."""
    data = entry.data
    if entry.seq != data["claimed_seq"]:
        raise ConflictError(f"the report names entry {data['claimed_seq']} but would be entry {entry.seq}; re-render")
    if data["as_of_size"] > entry.seq:
        raise _invalid("as_of_size is beyond the log at issue time", "as_of_size")
    if conn.execute(select(t.reports.c.seq).where(t.reports.c.pdf_sha256 == data["pdf_sha256"])).first():
        raise ConflictError("this PDF was already issued")
    conn.execute(
        insert(t.reports).values(
            seq=entry.seq,
            pdf_sha256=data["pdf_sha256"],
            html_sha256=data["html_sha256"],
            report_kind=data["report_kind"],
            subject=data["subject"],
            ts=entry.ts,
        )
    )
