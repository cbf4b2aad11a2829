"""The one place where errors become HTTP responses, all with the same machine-readable body:
``{"error": {"code": ..., "message": ..., "errors": [{"loc": [...], "msg": ..., "type": ...}]}}``,
declared as `ledger.wire.ErrorBody` (each route lists its statuses with `ledger.service.responses`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.errors import (
    ConflictError,
    CorruptLedgerError,
    ForbiddenError,
    GovledgerError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    PromotionBlockedError,
    SigningKeyError,
)

__all__ = [
    "NOT_UTF8",
    "UnauthorizedError",
    "UnsupportedMediaTypeError",
    "error_body",
    "install_error_handlers",
    "is_utf8",
]


class UnauthorizedError(GovledgerError):
    code = "unauthorized"


class UnsupportedMediaTypeError(GovledgerError):
    """A request body in a media type the route does not read (415)."""

    code = "unsupported_media_type"


_STATUS: list[tuple[type[GovledgerError], int]] = [
    (PayloadTooLargeError, 413),
    (InvalidInputError, 422),
    (UnauthorizedError, 401),
    (UnsupportedMediaTypeError, 415),
    (ForbiddenError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (SigningKeyError, 503),
    (CorruptLedgerError, 500),
]


NOT_UTF8 = "the body must be JSON in UTF-8 (RFC 8259 section 8.1): this one is not"


def is_utf8(raw: bytes) -> bool:
    """Whether `raw` can be JSON text in UTF-8: it decodes as UTF-8 and holds no NUL byte.

    Why the NUL: UTF-16 and UTF-32 JSON (the encodings `json.loads` guesses from bytes) put a NUL
    beside every ASCII character, which is valid UTF-8 but can never occur in JSON text (a NUL
    must be escaped in a string and is no whitespace). ASCII is checked without decoding."""
    if b"\x00" in raw:
        return False
    if raw.isascii():
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def error_body(code: str, message: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "errors": errors or []}}


def _status_for(error: GovledgerError) -> int:
    return next((status for kind, status in _STATUS if isinstance(error, kind)), 500)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GovledgerError)
    async def _domain(_request: Request, error: GovledgerError) -> JSONResponse:
        errors = error.errors if isinstance(error, InvalidInputError | PromotionBlockedError) else None
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, UnauthorizedError) else None
        return JSONResponse(error_body(error.code, str(error), errors), status_code=_status_for(error), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", [])), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in error.errors()
        ]
        return JSONResponse(error_body("invalid_input", "the request is not valid", errors), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400:  # FastAPI could not read the body: say why, as documented
            if not is_utf8(await request.body()):  # read already (cached): UTF-16/32 or other bytes
                return JSONResponse(error_body("unsupported_media_type", NOT_UTF8), status_code=415)
            # nested past the parser's limit, an integer of more than 4,300 digits, ...
            errors = [{"loc": ["body"], "msg": str(error.detail), "type": "json_invalid"}]
            return JSONResponse(error_body("invalid_input", "the body is not valid JSON", errors), status_code=422)
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            error.status_code, "http_error"
        )
        return JSONResponse(
            error_body(code, str(error.detail)), status_code=error.status_code, headers=getattr(error, "headers", None)
        )
