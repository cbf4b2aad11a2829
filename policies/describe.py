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
    if value is None or isinstance(value, bool | int | str):
        return value[:_MAX_TEXT] if isinstance(value, str) else value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if hasattr(value, "get_params"):  # a nested estimator: its class says what it is
        return _class_path(value)
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and getattr(value, "shape", None) == ():
        return _scalar(item())
    return f"<{type(value).__name__}>"


def describe_model(model: Any, features: list[str]) -> dict[str, Any]:
    """`estimator`, `hyperparameters` and `input_features` for a `model.registered` payload."""
    described: dict[str, Any] = {"estimator": _class_path(model), "input_features": [f[:_MAX_TEXT] for f in features]}
    get_params = getattr(model, "get_params", None)
    if callable(get_params):
        params = get_params(deep=False)
        described["hyperparameters"] = {str(k)[:_MAX_TEXT]: _scalar(v) for k, v in sorted(params.items())}
    return described
