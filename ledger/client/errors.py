"""The client's one exception hierarchy, built from the service's uniform error body.

Why a module of its own: every method of `GovledgerClient` (and `DecisionLogger`, which decides
what to retry from the class alone) maps a failed request to the same few exceptions, one per
HTTP status the service uses, from ``{"error": {"code", "message", "errors"}}``. Connection
failures, timeouts and 5xx answers are `ServiceUnavailable`, the only errors worth retrying.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from pydantic import ValidationError

from ledger.wire import ErrorBody

__all__ = [
    "ClientError",
    "ConflictError",
    "ForbiddenError",
    "InvalidInputError",
    "NotFoundError",
    "PayloadTooLargeError",
    "ServiceUnavailable",
    "UnauthorizedError",
    "error_from_response",
]


class ClientError(Exception):
    """A request failed. `status` is the HTTP status (None when no answer came back), `code` the
    service's machine-readable code, `errors` its per-field details (``loc``, ``msg``, ``type``)."""

    def __init__(
        self, message: str, *, status: int | None = None, code: str = "error", errors: Sequence[Any] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors: list[dict[str, Any]] = [e if isinstance(e, dict) else {"msg": str(e)} for e in errors]

    def __str__(self) -> str:
        where = "no answer" if self.status is None else f"HTTP {self.status}"
        return f"{where} {self.code}: {self.message}"


class UnauthorizedError(ClientError):
    """401: the API key is missing, malformed or revoked."""


class ForbiddenError(ClientError):
    """403: the key's role may not do this (or a separation-of-duties rule refused it)."""


class NotFoundError(ClientError):
    """404: the object (or a referenced one) is not in the log."""


class ConflictError(ClientError):
    """409: well formed, but conflicts with the ledger's state (already registered, wrong stage...)."""


class PayloadTooLargeError(ClientError):
    """413: the request body is over the service's limit (send smaller batches)."""


class InvalidInputError(ClientError):
    """422: the request failed validation; `errors` names each bad field. Nothing was written."""


class ServiceUnavailable(ClientError):  # noqa: N818 - the name says what to do: try again later
    """No usable answer: connection refused or reset, a timeout, or a 5xx. Safe to retry for
    decisions (idempotent ids); for other writes a retry may answer 409 if the first went through."""


_BY_STATUS: dict[int, type[ClientError]] = {
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: InvalidInputError,
}


def error_from_response(response: httpx.Response) -> ClientError:
    """The exception for a non-2xx answer, from the uniform error body when there is one."""
    status = response.status_code
    code, message = f"http_{status}", response.reason_phrase or f"HTTP {status}"
    errors: list[Any] = []
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        if text:
            message = text[:500]
    else:
        try:  # the service's one error body (`ledger.wire.ErrorBody`)
            error = ErrorBody.model_validate(body).error
        except ValidationError:  # not from the service (a proxy, a load balancer): what it says
            error = None
        if error is not None:
            code, message = error.code or code, error.message or message
            errors = [detail.model_dump() for detail in error.errors]
        elif isinstance(body, dict) and "detail" in body:  # a plain FastAPI/Starlette body
            message = str(body["detail"])
    kind = ServiceUnavailable if status >= 500 else _BY_STATUS.get(status, ClientError)
    return kind(message, status=status, code=code, errors=errors)
