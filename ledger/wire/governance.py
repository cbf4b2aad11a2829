"""Policies, evaluations, the lineage facts an evaluation is computed against, issued reports."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from pydantic.dataclasses import dataclass

from ledger.wire.common import Timestamp
from ledger.wire.log import Entry, InclusionProof
from ledger.wire.pages import Items, T

__all__ = [
    "DatasetFacts",
    "EvaluationContext",
    "EvaluationReceipt",
    "EvaluationSummary",
    "IssuedReport",
    "PolicyList",
    "PolicyReceipt",
    "PolicySummary",
]


@dataclass(frozen=True)
class PolicyReceipt:
    """A policy published (`policy.published`): its entry, the SHA-256 of its text (evaluations
    name the policy by it), and the name and version read from the text."""

    seq: int
    sha256: str
    name: str
    version: str


@dataclass(frozen=True)
class EvaluationReceipt:
    """An evaluation recorded (`evaluation.recorded`). `already_recorded` is True when the same
    evaluation was recorded before (a retry): then `seq` is the original entry."""

    seq: int
    evaluation_id: str
    already_recorded: bool = False


class PolicySummary(BaseModel):
    sha256: str
    seq: int
    name: str
    version: str
    activate: bool
    approvals_required: int


class PolicyList(Items[T]):
    """Every published policy, oldest first (without their text), and the SHA-256 of the active
    one, which gates promotions (null when none is active). Not paged: policies are few."""

    active: str | None


class EvaluationSummary(BaseModel):
    evaluation_id: str
    seq: int
    name: str
    version: str
    artifact_sha256: str
    policy_sha256: str
    verdict: str
    ts: str = Timestamp("when the evaluation was recorded")


class DatasetFacts(BaseModel):
    dataset_id: str
    content_sha256: str
    seq: int
    licence: str | None
    sensitive_attributes: list[str]
    derived_from: list[str]


class EvaluationContext(BaseModel):
    """What the ledger knows of a model artifact and an evaluation dataset (null and [] when unknown)."""

    model: dict[str, Any] | None = Field(description="name, version, run_id, seq, stage, registration payload")
    training_datasets: list[DatasetFacts] = Field(description="the run's inputs and their ancestors")
    evaluation_dataset: DatasetFacts | None


class IssuedReport(BaseModel):
    """A PDF the ledger issued: its `report.issued` entry, proven in the latest checkpoint."""

    issued: bool
    entry: Entry
    inclusion_proof: InclusionProof
