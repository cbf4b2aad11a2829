"""The govledger Python client: `GovledgerClient` (every endpoint, one exception hierarchy),
`DecisionLogger` (non-blocking, batched, idempotent decision logging for scoring services) and
`dataset_fingerprint` (a reproducible content hash for a file or a DataFrame-like table).

It talks to the service over HTTP only, reads its answers with the service's own wire models
(`ledger.wire`, pydantic), and imports neither the server side (FastAPI,
SQLAlchemy) nor the data stack (pandas, numpy), so a scoring service can depend on it alone.
"""

from __future__ import annotations

from ledger.client.api import (
    BatchResult,
    ClientError,
    ConflictError,
    DecisionReceipt,
    EvaluationPage,
    EvaluationReceipt,
    ForbiddenError,
    GovledgerClient,
    InvalidInputError,
    NotFoundError,
    Page,
    PayloadTooLargeError,
    PolicyList,
    PolicyReceipt,
    Receipt,
    Report,
    ServiceUnavailable,
    UnauthorizedError,
    utc_timestamp,
)
from ledger.client.fingerprint import dataset_fingerprint
from ledger.client.logger import DecisionLogger, LoggerStats

__all__ = [
    "BatchResult",
    "ClientError",
    "ConflictError",
    "DecisionLogger",
    "DecisionReceipt",
    "EvaluationPage",
    "EvaluationReceipt",
    "ForbiddenError",
    "GovledgerClient",
    "InvalidInputError",
    "LoggerStats",
    "NotFoundError",
    "Page",
    "PayloadTooLargeError",
    "PolicyList",
    "PolicyReceipt",
    "Receipt",
    "Report",
    "ServiceUnavailable",
    "UnauthorizedError",
    "dataset_fingerprint",
    "utc_timestamp",
]
