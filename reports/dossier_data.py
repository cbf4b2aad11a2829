"""What the model compliance dossier reads from the ledger, each fact citing the entry it rests on.

Everything is read as of the report's checkpoint: projection rows whose entry is at or beyond the
checkpoint's size are ignored, so a dossier reflects one log state even while the log grows. The
values (rule results, per-group rates, verdicts) are copied from the entries that recorded them;
nothing here judges a model. Numbers are formatted here, once, so the template only prints.
"""

from __future__ import annotations

from typing import Any

import yaml

from ledger.api import Ledger
from ledger.errors import NotFoundError
from ledger.lineage import decision_reads, policy_reads, promotion_reads, registry_reads
from ledger.log.entry import Actor, Entry
from ledger.privacy.sealing import read_decision_inputs
from ledger.storage.db import Connection
from reports.evidence import Evidence

__all__ = ["DossierReader", "fmt", "when", "who"]

VERDICT_LABELS = {
    "pass": "PASS",
    "fail": "FAIL",
    "insufficient_evidence": "INSUFFICIENT EVIDENCE",
    "not_evaluated": "NOT EVALUATED",
}
MAX_CITED_REVIEWS = 100
MAX_CHALLENGERS = 4  # other models shown beside this one; the newest evaluation of each
_ALL_TIME = ("0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z")
_DATASET_OPTIONAL = ("licence", "derived_from", "transformation", "description", "collection_period")


def fmt(value: Any) -> str:
    """A number as printed in the dossier: four significant digits ("0.8606", "1", "0.0001")."""
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4g}"


def who(actor: Actor) -> str:
    """An actor as printed: a key's person name and role as its name carries them; a local
    operating-system account says so, since it names no person (e.g. "root (local account)")."""
    return f"{actor.name} (local account)" if actor.id.startswith("local:") else actor.name


def when(ts: str) -> str:
    """An entry time as printed: '2026-11-23 14:38:59 UTC'."""
    return f"{ts[:10]} {ts[11:19]} UTC"


def _rate(value: Any) -> str:
    return "n/a" if value is None else f"{100 * float(value):.1f}%"


def _group(group: dict[str, Any], as_rate: bool) -> dict[str, Any]:
    return {
        "group": group["group"],
        "count": fmt(group.get("count")),
        "selected": fmt(group.get("selected")),
        "value": _rate(group.get("value")) if as_rate else fmt(group.get("value")),
        "ratio": fmt(group.get("ratio")),
        "raw_value": group.get("value"),
        "raw_ratio": group.get("ratio"),
        "excluded": group.get("excluded"),
    }


def rule_view(rule: dict[str, Any], descriptions: dict[str, str]) -> dict[str, Any]:
    details = rule.get("details") or {}
    value_name = str(details.get("deciding_rate") or rule["metric"])
    as_rate = value_name.endswith("rate")
    interval = rule.get("interval")
    return {
        "rule_id": rule["rule_id"],
        "category": rule["category"],
        "metric": rule["metric"],
        "by": ", ".join(rule.get("by") or []),
        "test": f"{rule['comparison']} {fmt(rule['threshold'])}",
        "threshold": rule["threshold"],
        "severity": rule["severity"],
        "confidence": fmt(rule.get("confidence")),
        "value": fmt(rule.get("value")),
        "interval": "n/a" if not interval else f"[{fmt(interval[0])}, {fmt(interval[1])}]",
        "verdict": rule["verdict"],
        "verdict_label": VERDICT_LABELS.get(rule["verdict"], rule["verdict"]),
        "worst_group": rule.get("worst_group") or "n/a",
        "message": rule["message"],
        "definition": details.get("definition") or descriptions.get(rule["rule_id"]),
        "value_name": value_name.replace("_", " "),
        "groups": [_group(g, as_rate) for g in rule.get("groups") or []],
        "has_ratios": any(g.get("ratio") is not None for g in rule.get("groups") or []),
    }


def _policy_text(text: str) -> dict[str, Any]:
    """The references, description and rule descriptions a policy's YAML declares (read, not judged)."""
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError:
        parsed = None
    if not isinstance(parsed, dict):
        return {"references": [], "description": None, "rules": {}, "minimums": {}}
    rules = {
        str(r["id"]): " ".join(str(r["description"]).split())
        for r in parsed.get("rules") or []
        if isinstance(r, dict) and "id" in r and r.get("description")
    }
    references = parsed.get("references") or []
    description = parsed.get("description")
    minimums = {
        str(r["id"]): (int(r.get("min_group_size") or 0), float(r.get("min_group_share") or 0.0))
        for r in parsed.get("rules") or []
        if isinstance(r, dict) and "id" in r
    }
    return {
        "minimums": minimums,
        "references": [str(r) for r in references] if isinstance(references, list) else [str(references)],
        "description": " ".join(str(description).split()) if description else None,
        "rules": rules,
    }


def _refusal_reasons(data: dict[str, Any]) -> str:
    """A `promotion.refused` payload's reasons in one line: the policy, the evaluation judged by,
    the blocking rules that failed or lacked evidence, rejections, and the approval count."""
    policy = data["policy"]
    evaluation = data.get("evaluation")
    parts = [f"under {policy['name']} {policy['version']}"]
    if evaluation is None:
        parts.append("no evaluation of the artifact under it")
    else:
        parts.append(f"evaluation {evaluation['evaluation_id']} {evaluation['verdict']}")
    if data["failed_rules"]:
        parts.append(f"failed: {', '.join(data['failed_rules'])}")
    if data["insufficient_rules"]:
        parts.append(f"insufficient evidence: {', '.join(data['insufficient_rules'])}")
    if data["rejected_by"]:
        parts.append(f"rejected by approval {', '.join(data['rejected_by'])}")
    approvals = data.get("approvals")
    if approvals is not None and approvals["have"] < approvals["required"]:
        parts.append(f"{approvals['have']} of {approvals['required']} required approvals")
    return "; ".join(parts)


class DossierReader:
    """Reads one model version's facts as of the evidence's checkpoint, citing each entry used."""

    def __init__(self, ledger: Ledger, evidence: Evidence, conn: Connection) -> None:
        self.ledger, self.evidence, self.conn = ledger, evidence, conn
        self.size = evidence.size
        self._entries: dict[int, Entry] = {}

    def cite(self, seq: int, label: str) -> tuple[Entry, str]:
        if seq not in self._entries:
            self._entries[seq] = self.ledger.get(seq)
        return self._entries[seq], self.evidence.cite(seq, label)

    def model(self, name: str, version: str) -> dict[str, Any]:
        row = registry_reads.model_version(self.conn, name, version, as_of=self.size)
        if row is None:
            raise NotFoundError(f"model {name}@{version} is not registered (as of entry {self.size - 1})")
        entry, ref = self.cite(row.seq, f"registration of model {name}@{version} (documentation, artifact)")
        return {**entry.data, "seq": row.seq, "ref": ref, "ts": when(entry.ts), "actor": entry.actor}

    def stage_changes(self, name: str, version: str) -> list[dict[str, Any]]:
        rows = registry_reads.stage_changes(self.conn, name, version, as_of=self.size)
        changes = []
        for row in rows:
            entry, ref = self.cite(row.seq, f"{name}@{version} moved to {row.stage}")
            changes.append(
                {
                    "seq": row.seq,
                    "ref": ref,
                    "stage": row.stage,
                    "ts": when(entry.ts),
                    "actor": entry.actor.name,
                    "reason": entry.data.get("reason"),
                    "approval_ids": entry.data.get("approval_ids") or [],
                }
            )
        return changes

    def refused_promotions(self, name: str, version: str) -> list[dict[str, Any]]:
        """The promotions of this version the gate refused: when, who asked, and why (the reasons
        the `promotion.refused` entry records, in short; the entry holds the full message)."""
        rows = promotion_reads.refused_promotions(self.conn, name, version, as_of=self.size)
        refused = []
        for row in rows:
            entry, ref = self.cite(row.seq, f"refused promotion of {name}@{version} to {row.stage}")
            refused.append(
                {"seq": row.seq, "ref": ref, "stage": row.stage, "ts": when(entry.ts), "actor": entry.actor.name}
                | {"why": _refusal_reasons(entry.data)}
            )
        return refused

    def versions(self, name: str) -> list[dict[str, Any]]:
        rows = registry_reads.model_versions(self.conn, name, as_of=self.size)
        result = []
        for row in rows:
            entry, ref = self.cite(row.seq, f"registration of {name}@{row.version} (version lineage)")
            changes = self.stage_changes(name, row.version)
            result.append(
                {
                    "version": row.version,
                    "ref": ref,
                    "ts": when(entry.ts),
                    "artifact": row.artifact_sha256,
                    "run_id": row.run_id,
                    "stage": changes[-1]["stage"] if changes else "registered",
                }
            )
        return result

    def run(self, run_id: str) -> dict[str, Any]:
        seq = registry_reads.run_seq(self.conn, run_id, as_of=self.size)
        if seq is None:  # the projector refuses a model whose run is unknown; a damaged projection would get here
            raise NotFoundError(f"training run {run_id!r} is not recorded")
        entry, ref = self.cite(seq, f"training run {run_id} (code, parameters, environment, inputs)")
        return {**entry.data, "seq": seq, "ref": ref, "ts": when(entry.ts), "actor": entry.actor}

    def datasets(self, roots: dict[str, list[str]]) -> list[dict[str, Any]]:
        """Every dataset named in `roots` ({dataset_id: [roles]}) and, recursively, those it was
        derived from; in log order."""
        roles: dict[str, list[str]] = {k: list(v) for k, v in roots.items()}
        found: dict[str, dict[str, Any]] = {}
        pending = sorted(roles)
        while pending:
            rows = registry_reads.datasets_by_id(self.conn, pending, as_of=self.size)
            pending = []
            for row in rows:
                entry, ref = self.cite(row.seq, f"dataset {row.dataset_id} (hash, source, licence, derivation)")
                found[row.dataset_id] = {
                    **dict.fromkeys(_DATASET_OPTIONAL),
                    **entry.data,
                    "seq": row.seq,
                    "ref": ref,
                    "ts": when(entry.ts),
                }
                for parent in entry.data.get("derived_from") or []:
                    roles.setdefault(parent, []).append(f"source of {row.dataset_id}")
                    if parent not in found and parent not in pending:
                        pending.append(parent)
            pending.sort()
        for dataset_id, data in found.items():
            data["roles"] = sorted(set(roles.get(dataset_id, [])))
            data["sensitive"] = ", ".join(data.get("sensitive_attributes") or []) or None
        return sorted(found.values(), key=lambda d: d["seq"])

    def policies(self) -> dict[str, dict[str, Any]]:
        """Every published policy as of the checkpoint, by hash, with its YAML's references."""
        rows = policy_reads.published_policies(self.conn, as_of=self.size)
        return {row.sha256: {"seq": row.seq, "name": row.name, "version": row.version} for row in rows}

    def policy(self, info: dict[str, Any], sha256: str, label: str) -> dict[str, Any]:
        entry, ref = self.cite(info["seq"], label)
        return {
            **info,
            "sha256": sha256,
            "ref": ref,
            "ts": when(entry.ts),
            "approvals_required": entry.data.get("approvals_required", 0),
            "activate": entry.data.get("activate", True),
            **_policy_text(entry.data["text"]),
        }

    def active_policy(self) -> tuple[str, dict[str, Any]] | None:
        row = policy_reads.newest_active_policy(self.conn, as_of=self.size)
        if row is None:
            return None
        return row.sha256, {"seq": row.seq, "name": row.name, "version": row.version}

    def evaluations(self, artifact: str) -> list[dict[str, Any]]:
        """Evaluations of the artifact, newest first, as recorded."""
        seqs = policy_reads.evaluation_seqs_of_artifact(self.conn, artifact, as_of=self.size)
        result = []
        for seq in seqs:
            entry, ref = self.cite(seq, "evaluation of the model artifact (rule results, per-group tables)")
            result.append({**entry.data, "seq": seq, "ref": ref, "ts": when(entry.ts), "actor": who(entry.actor)})
        return result

    def evaluation_seq(self, evaluation_id: str) -> int | None:
        recorded = policy_reads.recorded_evaluation(self.conn, evaluation_id, as_of=self.size)
        return None if recorded is None else recorded.seq

    def approvals(self, name: str, version: str) -> list[dict[str, Any]]:
        seqs = registry_reads.approval_seqs(self.conn, name, version, as_of=self.size)
        result = []
        for seq in seqs:
            entry, ref = self.cite(seq, f"approval decision on {name}@{version}")
            result.append(
                {
                    "comment": None,
                    "evaluation_id": None,
                    **entry.data,
                    "seq": seq,
                    "ref": ref,
                    "ts": when(entry.ts),
                    "actor": entry.actor,
                }
            )
        return result

    def decisions_by_month(self, name: str, version: str) -> dict[str, Any]:
        rows = decision_reads.decisions_by_month(self.conn, name, version, as_of=self.size)
        months = [{"month": r.month, "count": fmt(r.count), "adverse": fmt(r.adverse)} for r in rows]
        first = min((r.first_seq for r in rows), default=None)
        last = max((r.last_seq for r in rows), default=None)
        refs = {}
        if first is not None and last is not None:
            refs["first"] = self.cite(first, f"first decision logged by {name}@{version}")[1]
            refs["last"] = self.cite(last, f"latest decision logged by {name}@{version}")[1]
        total = sum(r.count for r in rows)
        return {"months": months, "total": fmt(total), "refs": refs}

    def reviews(self, name: str, version: str) -> dict[str, Any]:
        rows = decision_reads.review_outcomes(self.conn, name, version, as_of=self.size)
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.outcome] = counts.get(row.outcome, 0) + 1
        refs = [self.cite(row.seq, "human review of a decision (AIA 14)")[1] for row in rows[:MAX_CITED_REVIEWS]]
        return {
            "total": len(rows),
            "by_outcome": [{"outcome": k, "count": fmt(v)} for k, v in sorted(counts.items())],
            "refs": refs,
            "truncated": len(rows) > MAX_CITED_REVIEWS,
        }

    def challengers(self, evaluation: dict[str, Any]) -> list[dict[str, Any]]:
        """Other artifacts evaluated under the same policy version on the same data (same content
        hash), newest evaluation of each: the effective-challenge comparison SR 26-2 asks for."""
        artifact = evaluation["model_artifact_sha256"]
        data = evaluation["dataset"]["content_sha256"]
        seen: set[str] = {artifact}
        found = []
        for seq in policy_reads.evaluation_seqs_under_policy(
            self.conn, evaluation["policy"]["sha256"], as_of=self.size
        ):
            entry = self.ledger.get(seq)
            other = entry.data
            if other["model_artifact_sha256"] in seen or other["dataset"]["content_sha256"] != data:
                continue
            seen.add(other["model_artifact_sha256"])
            model = other["model"]
            _, ref = self.cite(
                seq, f"evaluation of {model['name']}@{model['version']} (challenger, same policy and data)"
            )
            row = registry_reads.model_version(self.conn, model["name"], model["version"], as_of=self.size)
            stage = "registered"
            if row is not None:
                changes = registry_reads.stage_changes(self.conn, model["name"], model["version"], as_of=self.size)
                stage = changes[-1].stage if changes else "registered"
            found.append({**other, "seq": seq, "ref": ref, "ts": when(entry.ts), "stage": stage})
            if len(found) == MAX_CHALLENGERS:
                break
        return found

    def oversight(self, name: str, version: str) -> dict[str, Any]:
        """Review coverage of the version's decisions and its appeals, open or answered."""
        coverage = decision_reads.review_coverage(self.conn, name, version, as_of=self.size)
        appeals = []
        for appeal in decision_reads.appeals_of_model(self.conn, name, version, as_of=self.size):
            _, ref = self.cite(appeal.seq, f"appeal {appeal.appeal_id} against decision {appeal.decision_id}")
            answer = None
            for review_seq in appeal.review_seqs:
                review = self.ledger.get(review_seq)
                if review.data.get("appeal_id") == appeal.appeal_id:
                    answer = {"ref": self.cite(review_seq, f"review answering appeal {appeal.appeal_id}")[1]}
                    answer["outcome"] = review.data.get("outcome")
                    break
            appeals.append(
                {"appeal_id": appeal.appeal_id, "decision_id": appeal.decision_id, "ref": ref, "answer": answer}
            )
        return {"coverage": coverage, "appeals": appeals}

    def production_groups(self, name: str, version: str, columns: dict[str, str]) -> dict[str, Any]:
        """Per protected class, each group's decisions and approvals among the version's logged
        decisions, read from the sealed inputs (`columns`: class -> input field, the evaluation's
        mapping). Decisions whose input is erased, unreadable or lacks the field count as unknown."""
        rows = decision_reads.decisions_in_period(
            self.conn, name, version, since=_ALL_TIME[0], until=_ALL_TIME[1], as_of=self.size
        )
        counts: dict[str, dict[str, list[int]]] = {c: {} for c in columns}
        unknown = dict.fromkeys(columns, 0)
        withheld: list[int] = []  # adverse decisions referred to a person: no lawful reason could be given
        sealed = [(row.subject_ref, row.decision_id, row.entry.data.get("input")) for row in rows]
        readable = [(s, d, one) for s, d, one in sealed if isinstance(one, dict)]
        opened = iter(read_decision_inputs(self.conn, readable))
        for row, (_, _, one) in zip(rows, sealed, strict=True):
            explanation = row.entry.data.get("explanation")
            if row.adverse and isinstance(explanation, dict) and explanation.get("review_required"):
                withheld.append(row.seq)
            clear = next(opened) if isinstance(one, dict) else None
            fields = clear if isinstance(clear, dict) else {}
            for name_, column in columns.items():
                value = fields.get(column)
                if value is None or (isinstance(value, str) and not value.strip()):
                    unknown[name_] += 1
                    continue
                cell = counts[name_].setdefault(str(value).strip(), [0, 0])
                cell[0] += 1
                cell[1] += 0 if row.adverse else 1
        if withheld:
            self.cite(withheld[0], "first adverse decision whose reasons were withheld for review")
        return {"decisions": len(rows), "counts": counts, "unknown": unknown, "withheld": withheld}
