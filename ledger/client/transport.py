"""The HTTP plumbing every group of `GovledgerClient` methods builds on: one authenticated httpx
connection pool, one way to send a request and turn a failure into a `ClientError`, the URL and
query encodings the service expects, and cursor following.

Why a module of its own: the method groups (log, lineage, decisions, policies, reports) only say
which path to call with what; how a request travels, times out, fails and is retried is decided
once, here. It talks HTTP only: nothing here imports the server side or the data stack.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from ledger.client.errors import ClientError, ServiceUnavailable, error_from_response
from ledger.client.results import RecordPage

__all__ = ["MAX_PAGE", "USER_AGENT", "ClientBase", "TimeArg", "query_params", "segment", "utc_timestamp"]

USER_AGENT = "govledger-client/0.1.0"
MAX_PAGE = 1000  # the service's largest page
TimeArg = str | datetime


def utc_timestamp(value: TimeArg) -> str:
    """An RFC 3339 UTC string as the service wants it (``2026-11-23T10:00:00.123456Z``); strings
    are passed through unchanged (the service validates them), naive datetimes are refused."""
    if isinstance(value, str):
        return value
    if not isinstance(value, datetime):
        raise TypeError(f"expected an RFC 3339 string or a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: give it a time zone (e.g. datetime.now(UTC))")
    utc = value.astimezone(UTC)
    fraction = f".{utc.microsecond:06d}" if utc.microsecond else ""
    return f"{utc:%Y-%m-%dT%H:%M:%S}{fraction}Z"


def segment(value: str | int) -> str:
    """One URL path segment, percent-encoded (ids may contain ':' and '+'; the schemas also allow
    '/', which is sent as %2F, but the service's path routes cannot match such ids yet)."""
    text = str(value)
    if text in ("", ".", ".."):
        raise ValueError(f"{text!r} cannot be used as an identifier in a URL")
    return quote(text, safe="")


def query_params(**values: Any) -> dict[str, str | int]:
    """Query parameters without the unset ones (booleans as the service spells them)."""
    params: dict[str, str | int] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[name] = "true" if value else "false"
        elif isinstance(value, datetime):
            params[name] = utc_timestamp(value)
        else:
            params[name] = value
    return params


class ClientBase:
    """A connection to one govledger service, authenticated with one API key (``glk_...``; its
    role decides what it may do). Use as a context manager or call `close()`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not api_key or any(c.isspace() for c in api_key):
            raise ValueError("api_key must be a non-empty token without spaces (glk_...)")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": USER_AGENT, "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    def _send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        params: Mapping[str, str | int] | None = None,
        accept: str | None = None,
    ) -> httpx.Response:
        """One request; a 2xx answer, or the ClientError for what happened instead."""
        headers = {"Content-Type": "application/json"} if content is not None else {}
        if accept is not None:
            headers["Accept"] = accept
        try:
            response = self._http.request(
                method, path, json=json_body, content=content, params=params, headers=headers or None
            )
        except httpx.TimeoutException as exc:
            raise ServiceUnavailable(f"{method} {path}: timed out ({exc})", code="timeout") from exc
        except httpx.TransportError as exc:
            raise ServiceUnavailable(f"{method} {path}: {type(exc).__name__}: {exc}", code="connection_failed") from exc
        if response.is_error:
            raise error_from_response(response)
        return response

    def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Any:
        """One request whose answer is JSON (parsed)."""
        response = self._send(method, path, json_body=json_body, content=content, params=params)
        try:
            return response.json()
        except ValueError as exc:
            raise ClientError(
                f"{method} {path}: the answer is not JSON", status=response.status_code, code="invalid_response"
            ) from exc

    def _get(self, path: str, **params: Any) -> Any:
        return self._request("GET", path, params=query_params(**params))

    def _get_object(self, path: str, **params: Any) -> dict[str, Any]:
        """A GET whose answer is one JSON object, returned as the service shaped it."""
        result: dict[str, Any] = self._get(path, **params)
        return result

    def _post(self, path: str, body: Any) -> Any:
        return self._request("POST", path, json_body=body)

    @staticmethod
    def _iterate(fetch: Callable[[int | None], RecordPage], after: int | None) -> Iterator[dict[str, Any]]:
        """Every item of a list sorted by `seq`, fetching page after page from the `after` cursor."""
        cursor = after
        while True:
            page = fetch(cursor)
            yield from page.items
            if page.next_after is None:
                return
            if cursor is not None and page.next_after <= cursor:
                raise ClientError(f"the cursor did not advance ({cursor} -> {page.next_after})", code="bad_cursor")
            cursor = page.next_after

    def health(self) -> bool:
        """True when the service answers and accepts this key (one small authenticated read);
        False when it cannot be reached or answers 5xx. A refused key still raises (401/403),
        because that is a configuration error, not an outage."""
        try:
            self._get("/v1/entries", limit=1)
        except ServiceUnavailable:
            return False
        return True
