"""`GovledgerClient`: a small synchronous client for every endpoint of the govledger service.

Why it exists: producers (training pipelines, scoring services) and auditors should not each
hand-roll HTTP calls, error parsing and cursor loops. The client is a thin, typed layer over
httpx that keeps the service's contract visible:

- every write returns a small frozen dataclass (`Receipt`, `DecisionReceipt`, `BatchResult`);
  every read returns the service's JSON as plain dicts (records are the service's to shape), and
  list calls return a `Page` of dicts with the `next_after` cursor; `iter_*` follows the cursor
  (one exception: `decision_trace_pack` returns the pack's bytes unparsed, so they still verify);
- every failure is one `ClientError` subclass, built from the service's uniform error body
  ``{"error": {"code", "message", "errors"}}``; connection failures, timeouts and 5xx answers are
  `ServiceUnavailable`, the only errors worth retrying (retrying a decision is safe: decision ids
  are idempotent on the server; retrying a dataset, run or model registration after a lost
  answer gives 409 when the first attempt was written);
- nothing here imports the server side (no FastAPI, SQLAlchemy) or the data stack (pandas):
  the client is what a scoring service installs.

One `GovledgerClient` may be shared by threads (httpx's connection pool is thread-safe), which
is what `DecisionLogger` does with its background thread.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

import httpx

__all__ = [
    "MAX_PAGE",
    "BatchResult",
    "ClientError",
    "ConflictError",
    "DecisionReceipt",
    "ForbiddenError",
    "GovledgerClient",
    "InvalidInputError",
    "NotFoundError",
    "Page",
    "PayloadTooLargeError",
    "Receipt",
    "ServiceUnavailable",
    "UnauthorizedError",
    "encode_decision",
    "error_from_response",
    "utc_timestamp",
]

USER_AGENT = "govledger-client/0.1.0"
MAX_PAGE = 1000  # the service's largest page
Stage = Literal["registered", "staging", "production", "retired"]
TimeArg = str | datetime


# --------------------------------------------------------------------------------------------
# Errors


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
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            code = str(error.get("code") or code)
            message = str(error.get("message") or message)
            listed = error.get("errors")
            errors = listed if isinstance(listed, list) else []
        elif isinstance(body, dict) and "detail" in body:  # a plain FastAPI/Starlette body
            message = str(body["detail"])
    kind = ServiceUnavailable if status >= 500 else _BY_STATUS.get(status, ClientError)
    return kind(message, status=status, code=code, errors=errors)


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Receipt:
    """One entry appended: its sequence number, time, leaf hash (hex) and kind."""

    seq: int
    ts: str
    leaf_hash: str
    kind: str


@dataclass(frozen=True)
class DecisionReceipt:
    """A decision in the log. `duplicate` is True when it was already recorded (a retry): then
    `seq` is the original entry and `ts`/`leaf_hash` are None (the service does not repeat them)."""

    decision_id: str
    seq: int
    ts: str | None = None
    leaf_hash: str | None = None
    duplicate: bool = False

    @classmethod
    def from_json(cls, value: Mapping[str, Any], *, duplicate: bool = False) -> DecisionReceipt:
        return cls(
            decision_id=str(value["decision_id"]),
            seq=int(value["seq"]),
            ts=value.get("ts"),
            leaf_hash=value.get("leaf_hash"),
            duplicate=duplicate or bool(value.get("duplicate", False)),
        )


@dataclass(frozen=True)
class BatchResult:
    """A batch of decisions: the newly recorded ones and the retries recognised as duplicates."""

    recorded: tuple[DecisionReceipt, ...]
    duplicates: tuple[DecisionReceipt, ...]


@dataclass(frozen=True)
class Page:
    """One page of a list: items as the service returns them, and the cursor for the next page
    (None on the last page)."""

    items: tuple[dict[str, Any], ...]
    next_after: int | None


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


def _segment(value: str | int) -> str:
    """One URL path segment, percent-encoded (ids may contain ':' and '+'; the schemas also allow
    '/', which is sent as %2F, but the service's path routes cannot match such ids yet)."""
    text = str(value)
    if text in ("", ".", ".."):
        raise ValueError(f"{text!r} cannot be used as an identifier in a URL")
    return quote(text, safe="")


def _params(**values: Any) -> dict[str, str | int]:
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


def _receipt(body: Mapping[str, Any], kind: str | None = None) -> Receipt:
    return Receipt(
        seq=int(body["seq"]), ts=str(body["ts"]), leaf_hash=str(body["leaf_hash"]), kind=str(kind or body["kind"])
    )


def _page(body: Mapping[str, Any]) -> Page:
    next_after = body.get("next_after")
    return Page(items=tuple(body.get("items", [])), next_after=None if next_after is None else int(next_after))


# --------------------------------------------------------------------------------------------
# The client


class GovledgerClient:
    """A synchronous client of one govledger service, authenticated with one API key
    (``glk_...``; its role decides what it may do). Use as a context manager or call `close()`."""

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

    # -- plumbing ---------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GovledgerClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"GovledgerClient({self.base_url!r})"

    def _send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> httpx.Response:
        """One request; a 2xx answer, or the ClientError for what happened instead."""
        headers = {"Content-Type": "application/json"} if content is not None else None
        try:
            response = self._http.request(method, path, json=json_body, content=content, params=params, headers=headers)
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
        return self._request("GET", path, params=_params(**params))

    def _post(self, path: str, body: Any) -> Any:
        return self._request("POST", path, json_body=body)

    @staticmethod
    def _iterate(fetch: Callable[[int | None], Page], after: int | None) -> Iterator[dict[str, Any]]:
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

    # -- the log ----------------------------------------------------------------------------

    def get_entry(self, seq: int) -> dict[str, Any]:
        """One entry, with its inclusion proof against the latest checkpoint (None if not yet covered)."""
        result: dict[str, Any] = self._get(f"/v1/entries/{int(seq)}")
        return result

    def list_entries(
        self, *, after: int | None = None, limit: int = 100, kind: str | None = None, subject: str | None = None
    ) -> Page:
        return _page(self._get("/v1/entries", after=after, limit=limit, kind=kind, subject=subject))

    def iter_entries(
        self,
        *,
        after: int | None = None,
        kind: str | None = None,
        subject: str | None = None,
        page_size: int = MAX_PAGE,
    ) -> Iterator[dict[str, Any]]:
        """Every entry (optionally of one kind or subject), following the cursor page by page."""
        return self._iterate(
            lambda cursor: self.list_entries(after=cursor, limit=page_size, kind=kind, subject=subject), after
        )

    def checkpoint_latest(self) -> dict[str, Any]:
        """The newest signed checkpoint: origin, size, root (hex), note (C2SP signed note), keys."""
        result: dict[str, Any] = self._get("/v1/checkpoints/latest")
        return result

    def consistency_proof(self, old: int, new: int | None = None) -> dict[str, Any]:
        """Proof that the tree of size `old` is a prefix of the tree of size `new` (default: now)."""
        result: dict[str, Any] = self._get("/v1/proofs/consistency", old=old, new=new)
        return result

    def inclusion_proof(self, seq: int, size: int | None = None) -> dict[str, Any]:
        """Proof that entry `seq` is in the tree of `size` entries (default: the current size)."""
        result: dict[str, Any] = self._get(f"/v1/proofs/inclusion/{int(seq)}", size=size)
        return result

    # -- lineage ----------------------------------------------------------------------------

    def register_dataset(self, dataset: Mapping[str, Any]) -> Receipt:
        """Register a dataset version (`dataset.registered`; see `dataset_fingerprint` for content_sha256)."""
        return _receipt(self._post("/v1/datasets", dict(dataset)))

    def get_dataset(self, dataset_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._get(f"/v1/datasets/{_segment(dataset_id)}")
        return result

    def list_datasets(self, *, after: int | None = None, limit: int = 100) -> Page:
        return _page(self._get("/v1/datasets", after=after, limit=limit))

    def iter_datasets(self, *, after: int | None = None, page_size: int = MAX_PAGE) -> Iterator[dict[str, Any]]:
        return self._iterate(lambda cursor: self.list_datasets(after=cursor, limit=page_size), after)

    def record_run(self, run: Mapping[str, Any]) -> Receipt:
        """Record a training run (`training_run.recorded`)."""
        return _receipt(self._post("/v1/runs", dict(run)))

    def get_run(self, run_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._get(f"/v1/runs/{_segment(run_id)}")
        return result

    def register_model(self, model: Mapping[str, Any]) -> Receipt:
        """Register a model version (`model.registered`)."""
        return _receipt(self._post("/v1/models", dict(model)))

    def get_model(self, name: str, version: str) -> dict[str, Any]:
        result: dict[str, Any] = self._get(f"/v1/models/{_segment(name)}/{_segment(version)}")
        return result

    def list_models(
        self, *, name: str | None = None, stage: Stage | None = None, after: int | None = None, limit: int = 100
    ) -> Page:
        return _page(self._get("/v1/models", name=name, stage=stage, after=after, limit=limit))

    def iter_models(
        self,
        *,
        name: str | None = None,
        stage: Stage | None = None,
        after: int | None = None,
        page_size: int = MAX_PAGE,
    ) -> Iterator[dict[str, Any]]:
        return self._iterate(
            lambda cursor: self.list_models(name=name, stage=stage, after=cursor, limit=page_size), after
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
        path = f"/v1/models/{_segment(name)}/{_segment(version)}/promotions"
        return _receipt(self._post(path, body))

    def retire(self, name: str, version: str, *, reason: str) -> Receipt:
        """Retire a model version (`model.retired`; approvers)."""
        path = f"/v1/models/{_segment(name)}/{_segment(version)}/retirement"
        return _receipt(self._post(path, {"reason": reason}))

    def record_approval(self, approval: Mapping[str, Any]) -> Receipt:
        """Record an approval or rejection of a model version (`approval.recorded`; approvers)."""
        return _receipt(self._post("/v1/approvals", dict(approval)))

    def list_approvals(
        self,
        *,
        model_name: str | None = None,
        model_version: str | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> Page:
        return _page(
            self._get("/v1/approvals", model_name=model_name, model_version=model_version, after=after, limit=limit)
        )

    def iter_approvals(
        self,
        *,
        model_name: str | None = None,
        model_version: str | None = None,
        after: int | None = None,
        page_size: int = MAX_PAGE,
    ) -> Iterator[dict[str, Any]]:
        return self._iterate(
            lambda cursor: self.list_approvals(
                model_name=model_name, model_version=model_version, after=cursor, limit=page_size
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
        result: dict[str, Any] = self._get(
            f"/v1/lineage/{_segment(kind)}/{_segment(object_id)}",
            direction=direction,
            as_of=None if as_of is None else utc_timestamp(as_of),
            decision_limit=decision_limit,
        )
        return result

    def models_in_production(self, *, as_of: TimeArg | None = None) -> dict[str, Any]:
        """The model versions in production now, or as of a time: ``{"as_of", "models"}``."""
        result: dict[str, Any] = self._get(
            "/v1/models-in-production", as_of=None if as_of is None else utc_timestamp(as_of)
        )
        return result

    # -- decisions --------------------------------------------------------------------------

    def record_decision(self, decision: Mapping[str, Any]) -> DecisionReceipt:
        """Record one decision (the service fills in the model's lineage and seals `input`).
        A retry of a recorded decision id comes back with ``duplicate=True``."""
        return DecisionReceipt.from_json(self._post("/v1/decisions", dict(decision)))

    def record_decisions(self, decisions: Sequence[Mapping[str, Any]]) -> BatchResult:
        """Record a batch (up to 10,000) in one transaction: all or nothing, except that decision
        ids already recorded with the same content are skipped and returned as duplicates."""
        if isinstance(decisions, Mapping):
            raise TypeError("record_decisions takes a list of decisions; use record_decision for one")
        if not decisions:
            raise ValueError("no decisions to record")
        return self._batch_result(self._post("/v1/decisions", [dict(d) for d in decisions]))

    def record_encoded_decisions(self, encoded: Sequence[bytes]) -> BatchResult:
        """`record_decisions` for decisions already encoded as JSON objects (one bytes each), sent
        as one JSON array; used by `DecisionLogger`, which encodes each decision once when logged."""
        if not encoded:
            raise ValueError("no decisions to record")
        body = b"[" + b",".join(encoded) + b"]"
        return self._batch_result(self._request("POST", "/v1/decisions", content=body))

    @staticmethod
    def _batch_result(body: Mapping[str, Any]) -> BatchResult:
        return BatchResult(
            recorded=tuple(DecisionReceipt.from_json(r) for r in body.get("recorded", [])),
            duplicates=tuple(DecisionReceipt.from_json(d, duplicate=True) for d in body.get("duplicates", [])),
        )

    def get_decision(self, decision_id: str) -> dict[str, Any]:
        """One decision record (its input stays sealed)."""
        result: dict[str, Any] = self._get(f"/v1/decisions/{_segment(decision_id)}")
        return result

    def list_decisions(
        self,
        *,
        model: str | None = None,
        subject_ref: str | None = None,
        outcome: str | None = None,
        adverse: bool | None = None,
        since: TimeArg | None = None,
        until: TimeArg | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> Page:
        """Decisions filtered by model (``name`` or ``name@version``), subject, outcome, adverse,
        and decision time (``since`` inclusive, ``until`` exclusive)."""
        return _page(
            self._get(
                "/v1/decisions",
                model=model,
                subject_ref=subject_ref,
                outcome=outcome,
                adverse=adverse,
                since=None if since is None else utc_timestamp(since),
                until=None if until is None else utc_timestamp(until),
                after=after,
                limit=limit,
            )
        )

    def iter_decisions(
        self,
        *,
        model: str | None = None,
        subject_ref: str | None = None,
        outcome: str | None = None,
        adverse: bool | None = None,
        since: TimeArg | None = None,
        until: TimeArg | None = None,
        after: int | None = None,
        page_size: int = MAX_PAGE,
    ) -> Iterator[dict[str, Any]]:
        return self._iterate(
            lambda cursor: self.list_decisions(
                model=model,
                subject_ref=subject_ref,
                outcome=outcome,
                adverse=adverse,
                since=since,
                until=until,
                after=cursor,
                limit=page_size,
            ),
            after,
        )

    def decision_trace(self, decision_id: str) -> dict[str, Any]:
        """Everything behind one decision: ``{"trace": {...}, "pack": {...}}``. The parsed `pack`
        is re-encoded by any JSON parser; to verify it offline, use `decision_trace_pack`."""
        result: dict[str, Any] = self._get(f"/v1/decisions/{_segment(decision_id)}/trace")
        return result

    def decision_trace_pack(self, decision_id: str) -> bytes:
        """The proof pack of a decision's trace, as the exact (canonical) bytes the service sent, for
        `govledger verify-pack` (save them unchanged)."""
        return self._send("GET", f"/v1/decisions/{_segment(decision_id)}/trace/pack").content

    def review_decision(
        self,
        decision_id: str,
        outcome: Literal["accepted", "overridden", "reversed"],
        *,
        reviewed_at: TimeArg,
        override_reason: str | None = None,
        new_decision: str | None = None,
    ) -> Receipt:
        """Record a human review of a decision (`decision.reviewed`; approvers)."""
        body: dict[str, Any] = {"outcome": outcome, "reviewed_at": utc_timestamp(reviewed_at)}
        if override_reason is not None:
            body["override_reason"] = override_reason
        if new_decision is not None:
            body["new_decision"] = new_decision
        return _receipt(self._post(f"/v1/decisions/{_segment(decision_id)}/reviews", body))

    def record_dropped(
        self, *, client_id: str, count: int, first_dropped_at: TimeArg, last_dropped_at: TimeArg, reason: str
    ) -> Receipt:
        """Put on the record that this client dropped `count` decisions (`decisions.dropped`)."""
        body = {
            "client_id": client_id,
            "count": count,
            "first_dropped_at": utc_timestamp(first_dropped_at),
            "last_dropped_at": utc_timestamp(last_dropped_at),
            "reason": reason,
        }
        return _receipt(self._post("/v1/decisions/dropped", body))

    def erase_subject(self, subject_ref: str, *, reason: str, legal_basis: str | None = None) -> Receipt:
        """Erase a subject's personal data (crypto-shredding; admin only). The log stays verifiable."""
        body = self._request(
            "DELETE",
            f"/v1/subjects/{_segment(subject_ref)}",
            params=_params(reason=reason, legal_basis=legal_basis),
        )
        return _receipt(body, kind="subject.erased")


def encode_decision(decision: Mapping[str, Any]) -> bytes:
    """One decision as compact JSON bytes (NaN and infinities refused: JSON has none)."""
    return json.dumps(dict(decision), separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
