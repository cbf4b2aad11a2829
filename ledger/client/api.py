"""`GovledgerClient`: a small synchronous client for every endpoint of the govledger service.

Why it exists: producers (training pipelines, scoring services), CI, risk officers and auditors
should not each hand-roll HTTP calls, error parsing and cursor loops. The client is a thin,
typed layer over httpx that keeps the service's contract visible:

- every answer is parsed with the service's own wire models (`ledger.wire`, the models its
  OpenAPI description declares): every write returns a small frozen dataclass (`Receipt`,
  `DecisionReceipt`, `BatchResult`, `PolicyReceipt`, `EvaluationReceipt`); every read returns the
  service's records as plain dicts
  (records are the service's to shape), and list calls return a `Page` of dicts with the
  `next_after` cursor (`EvaluationPage` and `next_before` for the newest-first evaluations);
  `iter_*` follows the cursor. Documents come back as bytes: `decision_trace_pack` returns the
  pack unparsed, so it still verifies, and the report methods return a `Report` (bytes,
  content type, the PDF's SHA-256, the issuing entry);
- every failure is one `ClientError` subclass, built from the service's uniform error body
  ``{"error": {"code", "message", "errors"}}``; connection failures, timeouts and 5xx answers are
  `ServiceUnavailable`, the only errors worth retrying (retrying a decision is safe: decision ids
  are idempotent on the server, and so are evaluation ids; retrying a dataset, run, model or
  policy registration after a lost answer gives 409 when the first attempt was written);
- nothing here imports the server side (no FastAPI, SQLAlchemy; pydantic only for the wire
  models, a base dependency), the policy engine or
  the reports, or the data stack (pandas): the client talks HTTP only, and is what a scoring
  service installs.

This module only composes the client from one mixin per part of the API, each in its own
module over the shared plumbing of `ledger.client.transport`: the log (`log_methods`), lineage
(`lineage_methods`), decisions (`decision_methods`), policies and evaluations
(`policy_methods`) and reports (`report_methods`). The result types live in
`ledger.client.results` and the errors in `ledger.client.errors`; all are re-exported here.

One `GovledgerClient` may be shared by threads (httpx's connection pool is thread-safe), which
is what `DecisionLogger` does with its background thread.
"""

from __future__ import annotations

from ledger.client.decision_methods import DecisionMethods, encode_decision
from ledger.client.errors import (
    ClientError,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    ServiceUnavailable,
    UnauthorizedError,
    error_from_response,
)
from ledger.client.lineage_methods import LineageMethods, Stage
from ledger.client.log_methods import LogMethods
from ledger.client.policy_methods import PolicyMethods
from ledger.client.report_methods import ReportFormat, ReportMethods
from ledger.client.results import (
    BatchResult,
    DecisionReceipt,
    EvaluationPage,
    EvaluationReceipt,
    Page,
    PolicyList,
    PolicyReceipt,
    Receipt,
    Report,
)
from ledger.client.transport import MAX_PAGE, USER_AGENT, TimeArg, utc_timestamp

__all__ = [
    "MAX_PAGE",
    "USER_AGENT",
    "BatchResult",
    "ClientError",
    "ConflictError",
    "DecisionReceipt",
    "EvaluationPage",
    "EvaluationReceipt",
    "ForbiddenError",
    "GovledgerClient",
    "InvalidInputError",
    "NotFoundError",
    "Page",
    "PayloadTooLargeError",
    "PolicyList",
    "PolicyReceipt",
    "Receipt",
    "Report",
    "ReportFormat",
    "ServiceUnavailable",
    "Stage",
    "TimeArg",
    "UnauthorizedError",
    "encode_decision",
    "error_from_response",
    "utc_timestamp",
]


class GovledgerClient(LogMethods, LineageMethods, DecisionMethods, PolicyMethods, ReportMethods):
    """A synchronous client of one govledger service, authenticated with one API key
    (``glk_...``; its role decides what it may do). Use as a context manager or call `close()`.

    ``GovledgerClient(base_url, api_key, *, timeout=10.0, transport=None)``; `transport` is any
    httpx transport (for tests, or to wrap the default one)."""
