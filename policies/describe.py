"""What a registration records about a fitted model: its class, its scalar hyperparameters and
its input features (Annex IV 2(b): "general logic", "design choices", inputs).

Why here and not typed by hand: `gate --register` and the demo read them off the very object that
was scored, so the dossier states what was evaluated rather than what someone remembered. Only
scalars are kept from `get_params(deep=False)`: nested estimators are named by their class, and
arrays or callables (which do not belong in a JSON ledger entry) by their type.
"""

from __future__ import annotations

from typing import Any

__all__ = ["describe_model"]

_MAX_TEXT = 200  # ShortText in the model.registered schema


def _class_path(value: Any) -> str:
    cls = type(value)
    return f"{cls.__module__}.{cls.__qualname__}"[:_MAX_TEXT]


def _scalar(value: Any) -> str | int | float | bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)[:_MAX_TEXT]
    if isinstance(value, int):
        return int(value)  # int() also turns a numpy integer (an int subclass) into a plain int
    if isinstance(value, float):  # numpy.float64 is a float subclass: plain float, and NaN/inf as text
        return float(value) if value == value and abs(value) != float("inf") else str(value)
    if hasattr(value, "get_params"):  # a nested estimator: its class says what it is
        return _class_path(value)
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and getattr(value, "shape", None) == ():
        return _scalar(item())
    return f"<{type(value).__name__}>"


def _params(model: Any, prefix: str = "") -> dict[str, Any]:
    get_params = getattr(model, "get_params", None)
    if not callable(get_params):
        return {}
    return {f"{prefix}{k}"[:_MAX_TEXT]: _scalar(v) for k, v in sorted(get_params(deep=False).items())}


def describe_model(model: Any, features: list[str]) -> dict[str, Any]:
    """`estimator`, `hyperparameters` and `input_features` for a `model.registered` payload.

    A scikit-learn Pipeline is named with its steps ("sklearn.pipeline.Pipeline: OneHotEncoder →
    LogisticRegression"), and its hyperparameters are each step's, prefixed `step__` as
    `set_params` spells them: the pipeline's own (`memory`, `verbose`) say nothing of the model."""
    steps = getattr(model, "steps", None)
    estimator = _class_path(model)
    hyperparameters = _params(model)
    if isinstance(steps, list) and all(isinstance(s, tuple) and len(s) == 2 for s in steps):
        estimator = f"{estimator}: {' → '.join(type(step).__name__ for _, step in steps)}"[:_MAX_TEXT]
        hyperparameters = {}
        for name, step in steps:
            hyperparameters.update(_params(step, f"{name}__"))
    described: dict[str, Any] = {"estimator": estimator, "input_features": [f[:_MAX_TEXT] for f in features]}
    if hyperparameters:
        described["hyperparameters"] = dict(list(hyperparameters.items())[:500])
    return described
