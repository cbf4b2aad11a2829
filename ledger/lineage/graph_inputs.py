"""Checks of a lineage query's arguments, before any query runs.

Why: every bad field is reported at once, as one InvalidInputError whose `errors` name each field
(the HTTP layer returns them as a 422), and times are normalised to the fixed-width form entry
times use, so that comparing strings compares times.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ledger.errors import InvalidInputError
from ledger.lineage.schemas import Identifier, ModelRef, UtcTime
from ledger.log.entry import format_ts

__all__ = ["DIRECTIONS", "KINDS"]

KINDS = ("dataset", "run", "model", "decision")
DIRECTIONS = ("upstream", "downstream")
_IDENTIFIER: TypeAdapter[str] = TypeAdapter(Identifier)
_UTC_TIME: TypeAdapter[str] = TypeAdapter(UtcTime)


def input_problem(field_name: str, message: str, kind: str) -> dict[str, Any]:
    return {"loc": [field_name], "msg": message, "type": kind}


def raise_problems(problems: list[dict[str, Any]]) -> None:
    if problems:
        summary = "; ".join(f"{p['loc'][0]}: {p['msg']}" for p in problems)
        raise InvalidInputError(f"invalid lineage query ({summary})", problems)


def id_problem(kind: str, object_id: object) -> str | None:
    """Why `object_id` cannot name an object of `kind`, or None."""
    if not isinstance(object_id, str):
        return "must be a string"
    try:
        if kind == "model":
            name, at, version = object_id.partition("@")
            if not at:
                return "a model is named name@version"
            ModelRef.model_validate({"name": name, "version": version})
        else:
            _IDENTIFIER.validate_python(object_id)
    except ValidationError as exc:
        return str(exc.errors()[0]["msg"])
    return None


def _normalised_time(value: object) -> str:
    """`value` in the fixed-width form entry times use (so strings compare as times)."""
    if not isinstance(value, str):
        raise ValueError("must be a string")
    try:
        _UTC_TIME.validate_python(value)
        return format_ts(datetime.fromisoformat(value))
    except (ValidationError, ValueError):
        raise ValueError("must be an RFC 3339 UTC time such as 2026-11-23T10:00:00Z") from None


def _as_of_problems(as_of: object, problems: list[dict[str, Any]]) -> str | None:
    if as_of is None:
        return None
    try:
        return _normalised_time(as_of)
    except ValueError as exc:
        problems.append(input_problem("as_of", str(exc), "datetime"))
        return None


def parse_as_of(as_of: object) -> str | None:
    """`as_of` normalised, or InvalidInputError naming the field."""
    problems: list[dict[str, Any]] = []
    moment = _as_of_problems(as_of, problems)
    raise_problems(problems)
    return moment


def graph_request(
    kind: object, object_id: object, direction: object, as_of: object, decision_limit: object
) -> str | None:
    """Check every argument, raising one InvalidInputError listing each bad field; the normalised as_of."""
    problems: list[dict[str, Any]] = []
    if kind not in KINDS:
        problems.append(input_problem("kind", f"must be one of {', '.join(KINDS)}", "enum"))
    else:
        message = id_problem(str(kind), object_id)
        if message is not None:
            problems.append(input_problem("object_id", message, "identifier"))
    if direction not in DIRECTIONS:
        problems.append(input_problem("direction", f"must be one of {', '.join(DIRECTIONS)}", "enum"))
    if type(decision_limit) is not int or decision_limit < 1:
        problems.append(input_problem("decision_limit", "must be a positive integer", "greater_than_equal"))
    moment = _as_of_problems(as_of, problems)
    raise_problems(problems)
    return moment
