"""Publishing policies and recording evaluations in a local ledger.

Recording is idempotent: the evaluation id is a hash of the evaluation's content, so a re-run on
the same inputs finds its entry instead of writing a second one (and so does not invalidate the
approvals that rely on it). A policy must be published (by a risk officer) before anything is
evaluated under it: a CI job cannot bring its own, weaker policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.api import Ledger
from ledger.errors import NotFoundError
from ledger.lineage.policy_reads import published_policy, recorded_evaluation
from ledger.log.entry import Actor
from policies.evaluate import Evaluation, FactsProvider
from policies.facts import LineageFacts, lineage_facts
from policies.loader import LoadedPolicy

__all__ = ["Recorded", "facts_from", "publish_policy", "record_evaluation"]


@dataclass(frozen=True)
class Recorded:
    seq: int
    evaluation_id: str
    already_recorded: bool


def facts_from(ledger: Ledger) -> FactsProvider:
    """A FactsProvider reading the local ledger."""

    def provide(artifact_sha256: str, data_sha256: str) -> LineageFacts:
        with ledger.engine.connect() as conn:
            return lineage_facts(conn, artifact_sha256=artifact_sha256, data_sha256=data_sha256)

    return provide


def publish_policy(ledger: Ledger, loaded: LoadedPolicy, *, actor: Actor, activate: bool = True) -> int:
    receipt = ledger.append(
        "policy.published",
        {
            "name": loaded.policy.name,
            "version": loaded.policy.version,
            "sha256": loaded.sha256,
            "text": loaded.text,
            "activate": activate,
            "approvals_required": loaded.policy.approvals_required,
        },
        actor=actor,
    )
    return receipt.seq


def record_evaluation(ledger: Ledger, evaluation: Evaluation, *, actor: Actor) -> Recorded:
    payload = evaluation.payload()
    with ledger.engine.connect() as conn:
        published = published_policy(conn, evaluation.policy.sha256)
        existing = recorded_evaluation(conn, payload["evaluation_id"])
    if published is None:
        raise NotFoundError(
            f"policy {evaluation.policy.policy.name} version {evaluation.policy.policy.version} "
            f"({evaluation.policy.sha256[:12]}) is not published in this ledger; a risk officer publishes it with "
            f"`govledger policy publish {evaluation.policy.source}`"
        )
    if existing is not None:
        return Recorded(existing.seq, payload["evaluation_id"], already_recorded=True)
    receipt = ledger.append("evaluation.recorded", payload, actor=actor)
    return Recorded(receipt.seq, payload["evaluation_id"], already_recorded=False)
