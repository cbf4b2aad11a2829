"""The HTTP API's wire models: what every endpoint sends and answers, as pydantic models.

Why a package of its own: the service's routes (`ledger.service`, `policies.routes`,
`reports.routes`) declare these as their response models, and the client SDK (`ledger.client`)
parses the service's answers with the very same models, so the OpenAPI description, the server
and the client cannot drift apart. It imports pydantic only (no FastAPI, no SQLAlchemy), so the
client, which is part of the base install, can import it.
"""

from __future__ import annotations

from ledger.wire.common import Actor, ErrorBody, ErrorDetail, ErrorInfo, RecordedEntry
from ledger.wire.governance import (
    DatasetFacts,
    EvaluationContext,
    EvaluationReceipt,
    EvaluationSummary,
    IssuedReport,
    PolicyList,
    PolicyReceipt,
    PolicySummary,
)
from ledger.wire.lineage import (
    AppealRecord,
    ApprovalRecord,
    BatchResult,
    DatasetRecord,
    DatasetRow,
    DecisionReceipt,
    DecisionRecord,
    DecisionTrace,
    ErasureReceipt,
    GraphEdge,
    GraphNode,
    LineageGraph,
    ModelRecord,
    ModelsInProduction,
    ProductionModel,
    PromotionAttempt,
    ProofPack,
    ProofPackItem,
    Receipt,
    ReviewRecord,
    RunRecord,
    Trace,
    TraceLineage,
    TraceNode,
)
from ledger.wire.log import Checkpoint, ConsistencyProof, Entry, EntryWithProof, InclusionProof
from ledger.wire.pages import Items, NewestFirstPage, Page

__all__ = [
    "Actor",
    "AppealRecord",
    "ApprovalRecord",
    "BatchResult",
    "Checkpoint",
    "ConsistencyProof",
    "DatasetFacts",
    "DatasetRecord",
    "DatasetRow",
    "DecisionReceipt",
    "DecisionRecord",
    "DecisionTrace",
    "Entry",
    "EntryWithProof",
    "ErasureReceipt",
    "ErrorBody",
    "ErrorDetail",
    "ErrorInfo",
    "EvaluationContext",
    "EvaluationReceipt",
    "EvaluationSummary",
    "GraphEdge",
    "GraphNode",
    "InclusionProof",
    "IssuedReport",
    "Items",
    "LineageGraph",
    "ModelRecord",
    "ModelsInProduction",
    "NewestFirstPage",
    "Page",
    "PolicyList",
    "PolicyReceipt",
    "PolicySummary",
    "ProductionModel",
    "PromotionAttempt",
    "ProofPack",
    "ProofPackItem",
    "Receipt",
    "RecordedEntry",
    "ReviewRecord",
    "RunRecord",
    "Trace",
    "TraceLineage",
    "TraceNode",
]
