"""What each route documents besides its success: the error answers it can give, all with the
one error body (`ledger.wire.ErrorBody`, produced by `ledger.service.errors`).

Why a builder: the status codes a route can return follow from what it is (every route needs a
key: 401, 403; every parameter or body is validated: 422; a lookup by id: 404; a write may
conflict with the ledger's state: 409, or name an object that is not recorded: 404; a body is
size-limited and must be JSON: 413, 415), so a route names its kind and this module writes the
`responses=` entry, the same way everywhere.
"""

from __future__ import annotations

from typing import Any

from ledger.wire import ErrorBody

__all__ = ["READ", "READ_ONE", "WRITE", "errors"]

_DESCRIPTIONS = {
    401: "no valid API key (missing, unknown or revoked); answered with `WWW-Authenticate: Bearer`",
    403: "the key's role may not do this (or separation of duties forbids it)",
    404: "an object the request names does not exist",
    409: "the request conflicts with the ledger's state (e.g. already recorded with other content)",
    413: "the request body is over the size limit",
    415: "the request body is not JSON (`Content-Type: application/json`)",
    422: "the request is not valid (field-level findings in `errors`)",
}
_UNAUTHORIZED_HEADERS = {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entries of these error statuses, each with the one error body."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": ErrorBody, "description": _DESCRIPTIONS[status]}
        if status == 401:
            entry["headers"] = _UNAUTHORIZED_HEADERS
        out[status] = entry
    return out


READ = errors(401, 403, 422)  # a list or a computed answer
READ_ONE = errors(401, 403, 404, 422)  # one object by its id
# appends an entry from a JSON body; 404: an object it names (in the path or the body) is not recorded
WRITE = errors(401, 403, 404, 409, 413, 415, 422)
