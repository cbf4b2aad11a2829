"""`GovledgerClient` methods for lineage: datasets, training runs, models, approvals, promotions,
lineage graphs and the models in production. Lists are oldest first with the `next_after`
cursor (`iter_*` follows it), and take a time range on when each entry was recorded.

Why a module of its own: this is what producers (training pipelines) write and risk officers
approve; each write appends one entry and returns its `Receipt`, each read returns the
service's record as a dict.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

from ledger.client.results import Receipt, RecordPage, parse
from ledger.client.transport import MAX_PAGE, ClientBase, TimeArg, segment, utc_timestamp

__all__ = ["LineageMethods", "Stage"]

Stage = Literal["registered", "staging", "production", "retired"]


def _times(since: TimeArg | None, until: TimeArg | None) -> dict[str, str | None]:
    """The `since`/`until` query parameters as the service wants them (unset ones are dropped)."""
    return {
        "since": None if since is None else utc_timestamp(since),
        "until": None if until is None else utc_timestamp(until),
    }


class LineageMethods(ClientBase):
    def register_dataset(self, dataset: Mapping[str, Any]) -> Receipt:
        """Register a dataset version (`dataset.registered`; see `dataset_fingerprint` for content_sha256)."""
        return parse(Receipt, self._post("/v1/datasets", dict(dataset)))

    def get_dataset(self, dataset_id: str) -> dict[str, Any]:
        return self._get_object(f"/v1/datasets/{segment(dataset_id)}")

    def list_datasets(
        self,
        *,
        since: TimeArg | None = None,
        until: TimeArg | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> RecordPage:
        """Datasets, oldest first, optionally registered in a time range (``since`` inclusive,
        ``until`` exclusive)."""
        return parse(RecordPage, self._get("/v1/datasets", **_times(since, until), after=after, limit=limit))

    def iter_datasets(
        self,
        *,
        since: TimeArg | None = None,
        until: TimeArg | None = None,
        after: int | None = None,
        page_size: int = MAX_PAGE,
    ) -> Iterator[dict[str, Any]]:
        return self._iterate(
            lambda cursor: self.list_datasets(since=since, until=until, after=cursor, limit=page_size), after
        )

    def record_run(self, run: Mapping[str, Any]) -> Receipt:
        """Record a training run (`training_run.recorded`)."""
        return parse(Receipt, self._post("/v1/runs", dict(run)))

    def get_run(self, run_id: str) -> dict[str, Any]:
        return self._get_object(f"/v1/runs/{segment(run_id)}")

    def list_runs(
        self,
        *,
        input_dataset: str | None = None,
        since: TimeArg | None = None,
        until: TimeArg | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> RecordPage:
        """Training runs, oldest first, optionally only those that read `input_dataset`, and
        recorded in a time range (``since`` inclusive, ``until`` exclusive)."""
        return parse(
            RecordPage,
            self._get("/v1/runs", input_dataset=input_dataset, **_times(since, until), after=after, limit=limit),
        )

    def iter_runs(
        self,
        *,
        input_dataset: str | None = None,
        since: TimeArg | None = None,
        until: TimeArg | None = None,
        after: int | None = None,
        page_size: int = MAX_PAGE,
    ) -> Iterator[dict[str, Any]]:
        return self._iterate(
            lambda cursor: self.list_runs(
                input_dataset=input_dataset, since=since, until=until, after=cursor, limit=page_size
            ),
            after,
        )

    def register_model(self, model: Mapping[str, Any]) -> Receipt:
        """Register a model version (`model.registered`)."""
        return parse(Receipt, self._post("/v1/models", dict(model)))

    def get_model(self, name: str, version: str) -> dict[str, Any]:
        return self._get_object(f"/v1/models/{segment(name)}/{segment(version)}")

    def list_models(
        self,
        *,
        name: str | None = None,
        stage: Stage | None = None,
        since: TimeArg | None = None,
        until: TimeArg | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> RecordPage:
        """Model versions, oldest first, by name, current stage and the time they were registered."""
        return parse(
            RecordPage,
            self._get("/v1/models", name=name, stage=stage, **_times(since, until), after=after, limit=limit),
        )

    def iter_models(
        self,
        *,
        name: str | None = None,
        stage: Stage | None = None,
        since: TimeArg | None = None,
        until: TimeArg | None = None,
        after: int | None = None,
        page_size: int = MAX_PAGE,
    ) -> Iterator[dict[str, Any]]:
        return self._iterate(
            lambda cursor: self.list_models(
                name=name, stage=stage, since=since, until=until, after=cursor, limit=page_size
            ),
            after,
        )

    def promote(
        self,
        name: str,
        version: str,
        stage: Literal["staging", "production"],
        *,
        reason: str | None = None,
        approval_ids: Sequence[str] | None = None,
    ) -> Receipt:
        """Promote a model version (`model.promoted`; approvers)."""
        body: dict[str, Any] = {"stage": stage}
        if reason is not None:
            body["reason"] = reason
        if approval_ids is not None:
            body["approval_ids"] = list(approval_ids)
        path = f"/v1/models/{segment(name)}/{segment(version)}/promotions"
        return parse(Receipt, self._post(path, body))

    def list_promotions(self, name: str, version: str, *, after: int | None = None, limit: int = 100) -> RecordPage:
        """The promotion history of a model version, oldest first: each attempt's ``outcome``
        (promoted, or refused by the gate, with why in ``data``) and who asked (``recorded_by``).
        A promotion the gate refuses raises ConflictError and is in this history from then on."""
        path = f"/v1/models/{segment(name)}/{segment(version)}/promotions"
        return parse(RecordPage, self._get(path, after=after, limit=limit))

    def retire(self, name: str, version: str, *, reason: str) -> Receipt:
        """Retire a model version (`model.retired`; approvers)."""
        path = f"/v1/models/{segment(name)}/{segment(version)}/retirement"
        return parse(Receipt, self._post(path, {"reason": reason}))

    def record_approval(self, approval: Mapping[str, Any]) -> Receipt:
        """Record an approval or rejection of a model version (`approval.recorded`; approvers)."""
        return parse(Receipt, self._post("/v1/approvals", dict(approval)))

    def get_approval(self, approval_id: str) -> dict[str, Any]:
        """One approval or rejection (approver, model, decision, the evaluation it relies on)."""
        return self._get_object(f"/v1/approvals/{segment(approval_id)}")

    def list_approvals(
        self,
        *,
        model_name: str | None = None,
        model_version: str | None = None,
        since: TimeArg | None = None,
        until: TimeArg | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> RecordPage:
        """Approvals and rejections, oldest first, by model and the time they were recorded."""
        return parse(
            RecordPage,
            self._get(
                "/v1/approvals",
                model_name=model_name,
                model_version=model_version,
                **_times(since, until),
                after=after,
                limit=limit,
            ),
        )

    def iter_approvals(
        self,
        *,
        model_name: str | None = None,
        model_version: str | None = None,
        since: TimeArg | None = None,
        until: TimeArg | None = None,
        after: int | None = None,
        page_size: int = MAX_PAGE,
    ) -> Iterator[dict[str, Any]]:
        return self._iterate(
            lambda cursor: self.list_approvals(
                model_name=model_name,
                model_version=model_version,
                since=since,
                until=until,
                after=cursor,
                limit=page_size,
            ),
            after,
        )

    def lineage_graph(
        self,
        kind: Literal["dataset", "run", "model", "decision"],
        object_id: str,
        *,
        direction: Literal["upstream", "downstream"] = "upstream",
        as_of: TimeArg | None = None,
        decision_limit: int | None = None,
    ) -> dict[str, Any]:
        """The lineage graph around one object (a model is ``name@version``), upstream (what it
        came from) or downstream (what came from it), optionally as the log stood at `as_of`:
        ``{"root", "direction", "as_of", "as_of_seq", "truncated", "nodes", "edges"}``."""
        return self._get_object(
            f"/v1/lineage/{segment(kind)}/{segment(object_id)}",
            direction=direction,
            as_of=None if as_of is None else utc_timestamp(as_of),
            decision_limit=decision_limit,
        )

    def models_in_production(self, *, as_of: TimeArg | None = None) -> dict[str, Any]:
        """The model versions in production now, or as of a time: ``{"as_of", "models"}``."""
        return self._get_object("/v1/models-in-production", as_of=None if as_of is None else utc_timestamp(as_of))
