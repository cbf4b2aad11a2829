"""The upstream and downstream walks: which levels a lineage query visits, and in what order.

Why: upstream goes from an object to what fed it (decision, model, run, datasets and their whole
`derived_from` closure); downstream from an object to what it fed, capping decisions at the
walk's limit. Each step maps the ids found at one level to the ids of the next.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import tuple_

from ledger.lineage import tables as t
from ledger.lineage.graph_levels import Walk, datasets_where, decisions_where, models_where, parse_model_key, runs_where

__all__ = ["Level"]

_MODEL_KEY = tuple_(t.models.c.name, t.models.c.version)
_DECISION_MODEL = tuple_(t.decisions.c.name, t.decisions.c.version)

Level = Callable[[Walk, list[str]], list[str]]


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _model_ids(rows: Iterable[Any]) -> list[str]:
    return _unique(f"{row.name}@{row.version}" for row in rows)


def _decisions_up(w: Walk, ids: list[str]) -> list[str]:
    return _model_ids(decisions_where(w, t.decisions.c.decision_id, ids))


def _models_up(w: Walk, ids: list[str]) -> list[str]:
    return _unique(row.run_id for row in models_where(w, _MODEL_KEY, map(parse_model_key, ids)))


def _runs_up(w: Walk, ids: list[str]) -> list[str]:
    return _unique(row.dataset_id for row in runs_where(w, t.runs.c.run_id, ids))


def _datasets_up(w: Walk, ids: list[str]) -> list[str]:
    datasets_where(w, ids, upstream=True)
    return []


def _datasets_down(w: Walk, ids: list[str]) -> list[str]:
    return _unique(row.dataset_id for row in datasets_where(w, ids, upstream=False))


def _run_root(w: Walk, ids: list[str]) -> list[str]:
    return _unique(row.run_id for row in runs_where(w, t.runs.c.run_id, ids))


def _model_root(w: Walk, ids: list[str]) -> list[str]:
    return _model_ids(models_where(w, _MODEL_KEY, map(parse_model_key, ids)))


def _decision_root(w: Walk, ids: list[str]) -> list[str]:
    decisions_where(w, t.decisions.c.decision_id, ids)
    return []


def _runs_down(w: Walk, dataset_ids: list[str]) -> list[str]:
    return _unique(row.run_id for row in runs_where(w, t.run_inputs.c.dataset_id, dataset_ids))


def _models_down(w: Walk, run_ids: list[str]) -> list[str]:
    return _model_ids(models_where(w, t.models.c.run_id, run_ids))


def _decisions_down(w: Walk, model_ids: list[str]) -> list[str]:
    decisions_where(w, _DECISION_MODEL, map(parse_model_key, model_ids), limited=True)
    return []


# upstream: from the objects' own ids to the ids of what fed them
_UPSTREAM: dict[str, Level] = {
    "decision": _decisions_up,
    "model": _models_up,
    "run": _runs_up,
    "dataset": _datasets_up,
}
# downstream: the root, then from the ids of the level above to the ids of what they fed
_DOWNSTREAM_ROOT: dict[str, Level] = {
    "dataset": _datasets_down,
    "run": _run_root,
    "model": _model_root,
    "decision": _decision_root,
}
_DOWNSTREAM: dict[str, Level] = {"run": _runs_down, "model": _models_down, "decision": _decisions_down}
_UPSTREAM_ORDER = ("decision", "model", "run", "dataset")
_DOWNSTREAM_ORDER = ("dataset", "run", "model", "decision")


def walk_upstream(w: Walk, kind: str, ids: list[str]) -> None:
    for level in _UPSTREAM_ORDER[_UPSTREAM_ORDER.index(kind) :]:
        ids = _UPSTREAM[level](w, ids)


def walk_downstream(w: Walk, kind: str, ids: list[str]) -> None:
    ids = _DOWNSTREAM_ROOT[kind](w, ids)
    for level in _DOWNSTREAM_ORDER[_DOWNSTREAM_ORDER.index(kind) + 1 :]:
        ids = _DOWNSTREAM[level](w, ids)
