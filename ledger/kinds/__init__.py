"""Entry kinds as the unit of extension: one `KindSpec` per kind, collected in a `KindRegistry`.

Each package declares the kinds it owns (`ledger.kinds.core`, `ledger.access.kinds`,
`ledger.lineage.kinds`, and above `ledger` the policy and report packages); the composition root
(`govledger.registry`) assembles them and injects the registry into every ledger it opens.
"""

from __future__ import annotations

from ledger.kinds.registry import KindRegistry, UnknownKindError
from ledger.kinds.spec import (
    CALLER_SUBJECT,
    NO_PROJECTION,
    NOT_IN_TRACES,
    SYSTEM_ONLY,
    AppendCheck,
    BulkProjection,
    KindSpec,
    Projection,
    TraceRole,
)

__all__ = [
    "CALLER_SUBJECT",
    "NOT_IN_TRACES",
    "NO_PROJECTION",
    "SYSTEM_ONLY",
    "AppendCheck",
    "BulkProjection",
    "KindRegistry",
    "KindSpec",
    "Projection",
    "TraceRole",
    "UnknownKindError",
]
