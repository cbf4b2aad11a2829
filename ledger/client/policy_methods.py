"""`GovledgerClient` methods for the policy engine's endpoints: published policies, recorded
evaluations, and the lineage facts an evaluation is computed against.

Why a module of its own: this is the CI side of governance. A risk officer publishes a policy
(its YAML text, exactly); CI asks the ledger what it knows of a model artifact and an evaluation
dataset (`evaluation_context`), measures where the model and data are, and records the result
(`record_evaluation`), which the service re-judges against the published policy before writing
it. The client only carries the records: it neither parses policies nor computes metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ledger.client.errors import ClientError
from ledger.client.results import EvaluationPage, EvaluationReceipt, PolicyList, PolicyReceipt, Record, parse
from ledger.client.transport import MAX_PAGE, ClientBase, segment

__all__ = ["PolicyMethods"]


class PolicyMethods(ClientBase):
    # -- policies ---------------------------------------------------------------------------

    def publish_policy(self, text: str, *, activate: bool = True) -> PolicyReceipt:
        """Publish a policy from its YAML text, sent unchanged (`policy.published`; approvers).
        With ``activate`` (the default) it becomes the policy that gates promotions. Invalid YAML
        or rules are refused with 422, a name and version already published with 409."""
        return parse(PolicyReceipt, self._post("/v1/policies", {"text": text, "activate": activate}))

    def list_policies(self) -> PolicyList[Record]:
        """Every published policy, oldest first (sha256, seq, name, version, activate,
        approvals_required), and the SHA-256 of the active one."""
        return parse(PolicyList[Record], self._get("/v1/policies"))

    def get_policy(self, sha256: str) -> dict[str, Any]:
        """One published policy by the SHA-256 of its text: ``{"seq", "recorded_at",
        "recorded_by", "data"}``, where `data` holds the full text."""
        return self._get_object(f"/v1/policies/{segment(sha256)}")

    # -- evaluations ------------------------------------------------------------------------

    def record_evaluation(self, evaluation: Mapping[str, Any]) -> EvaluationReceipt:
        """Record an evaluation of a model artifact under a published policy
        (`evaluation.recorded`; ci). The service re-judges every rule from the recorded values and
        refuses (422) rules or verdicts that do not follow from the policy. Recording the same
        evaluation id again answers with the first entry and ``already_recorded=True``."""
        return parse(EvaluationReceipt, self._post("/v1/evaluations", dict(evaluation)))

    def list_evaluations(
        self,
        *,
        name: str | None = None,
        version: str | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> EvaluationPage[Record]:
        """Evaluations, newest first, optionally of one model name (and version); `before` is the
        cursor (`next_before` of the previous page)."""
        return parse(
            EvaluationPage[Record], self._get("/v1/evaluations", name=name, version=version, before=before, limit=limit)
        )

    def iter_evaluations(
        self,
        *,
        name: str | None = None,
        version: str | None = None,
        before: int | None = None,
        page_size: int = MAX_PAGE,
    ) -> Iterator[dict[str, Any]]:
        """Every evaluation (newest first), following the `next_before` cursor page by page."""
        return _iterate_before(
            lambda cursor: self.list_evaluations(name=name, version=version, before=cursor, limit=page_size), before
        )

    def get_evaluation(self, evaluation_id: str) -> dict[str, Any]:
        """One evaluation with every rule's result: ``{"seq", "recorded_at", "recorded_by", "data"}``."""
        return self._get_object(f"/v1/evaluations/{segment(evaluation_id)}")

    def evaluation_context(self, artifact_sha256: str, data_sha256: str) -> dict[str, Any]:
        """What the ledger knows of a model artifact and an evaluation dataset, by their SHA-256:
        ``{"model", "training_datasets", "evaluation_dataset"}`` (None and [] when unknown)."""
        return self._get_object("/v1/evaluation-context", artifact_sha256=artifact_sha256, data_sha256=data_sha256)


def _iterate_before(
    fetch: Callable[[int | None], EvaluationPage[Record]], before: int | None
) -> Iterator[dict[str, Any]]:
    cursor = before
    while True:
        page = fetch(cursor)
        yield from page.items
        if page.next_before is None:
            return
        if cursor is not None and page.next_before >= cursor:
            raise ClientError(f"the cursor did not advance ({cursor} -> {page.next_before})", code="bad_cursor")
        cursor = page.next_before
