"""Request-size limits, enforced while the body streams in (413 before anything is parsed or written)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.service.errors import error_body

__all__ = ["BodySizeLimit"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class _TooLarge(StarletteHTTPException):
    """Raised from `receive` once the bytes counted pass the limit.

    Why an HTTPException: FastAPI reads the body inside a `try` that turns any other exception
    into a 400 ("error parsing the body"), which a chunked upload with no Content-Length used to
    get; an HTTPException it re-raises, and the app's handler answers it as the 413 it is."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is over the limit of {limit} bytes")


class BodySizeLimit:
    """Refuse bodies over `default_limit` bytes, or over a larger limit on listed path prefixes."""

    def __init__(self, app: ASGIApp, *, default_limit: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.default_limit = default_limit
        self.larger = larger or {}

    def _limit(self, path: str) -> int:
        return next((limit for prefix, limit in self.larger.items() if path == prefix), self.default_limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send, limit)

    @staticmethod
    async def _refuse(send: Send, limit: int) -> None:
        body = json.dumps(error_body("payload_too_large", f"request body is over the limit of {limit} bytes")).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
