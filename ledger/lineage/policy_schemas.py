"""Payload schemas of the policy kinds: a published policy, and an evaluation of a model under it.

The ledger stores and checks these records but never computes a metric: the policy engine
(`policies/`) measures and judges, then appends `evaluation.recorded`. What the ledger does
check is that the record is consistent with the log (the model, its artifact, the policy and
the evaluation data exist), and, at promotion, that the latest evaluation passed and enough
approvals rely on it. The kinds are declared by the packages that write them (`policies.kinds`,
`reports.entry_kinds`); re-judging an evaluation's verdicts against its policy is an append
check the policy engine declares with `evaluation.recorded`.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from pydantic import Field, model_validator

from ledger.lineage.schemas import Identifier, ModelRef, Sha256Hex, ShortText, Text, Version
from ledger.log.kinds import FreeJson, LargeFreeJson, Payload

__all__ = [
    "ApprovalCount",
    "EvaluatedDataset",
    "EvaluationOutcome",
    "EvaluationRecorded",
    "GroupResult",
    "OverallVerdict",
    "PolicyPublished",
    "PolicyRef",
    "PromotionRefused",
    "ProtectedClassesUsed",
    "RefusalProblem",
    "ReportIssued",
    "RuleResult",
    "RuleVerdict",
    "TrustedTypes",
]

PolicyName = Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
RuleVerdict = Literal["pass", "fail", "insufficient_evidence", "not_evaluated"]
OverallVerdict = Literal["passed", "blocked", "insufficient_evidence"]


class PolicyPublished(Payload):
    """A policy's full text (YAML) and its SHA-256; evaluations name the hash they used.

    `approvals_required` is the policy's approval rule, read by the policy engine when it
    publishes, so that the ledger can enforce it at promotion without interpreting YAML."""

    name: PolicyName
    version: Version
    sha256: Sha256Hex
    text: Annotated[str, Field(min_length=1, max_length=200_000)]
    format: Literal["yaml"] = "yaml"
    activate: bool = Field(default=True, description="the newest activated policy gates promotions")
    approvals_required: int = Field(default=0, ge=0, le=20)

    @model_validator(mode="after")
    def _hash_matches_text(self) -> PolicyPublished:
        actual = hashlib.sha256(self.text.encode("utf-8")).hexdigest()
        if actual != self.sha256:
            raise ValueError(f"sha256 is not the SHA-256 of text (which is {actual})")
        return self


class PolicyRef(Payload):
    name: PolicyName
    version: Version
    sha256: Sha256Hex


class EvaluatedDataset(Payload):
    dataset_id: Identifier | None = Field(default=None, description="the registered dataset with this content hash")
    content_sha256: Sha256Hex
    rows: int = Field(ge=0)


class GroupResult(Payload):
    group: ShortText
    count: int = Field(ge=0)
    value: float | None = None
    selected: int | None = None
    positives: int | None = None
    ratio: float | None = None
    excluded: Text | None = None


class RuleResult(Payload):
    """One rule's outcome: what was measured, against what, and where it was worst."""

    rule_id: ShortText
    category: Literal["performance", "fairness", "explainability", "data"]
    metric: ShortText
    by: list[ShortText] = Field(default_factory=list, max_length=5)
    comparison: Literal["<", "<=", ">", ">=", "=="]
    threshold: float
    severity: Literal["block", "warn"]
    confidence: float | None = None
    value: float | None = None
    interval: Annotated[list[float], Field(min_length=2, max_length=2)] | None = None
    verdict: RuleVerdict
    worst_group: ShortText | None = None
    groups: list[GroupResult] = Field(default_factory=list, max_length=10_000)
    message: Text
    details: FreeJson = Field(default_factory=dict)

    @model_validator(mode="after")
    def _explained(self) -> RuleResult:
        if self.verdict in ("pass", "fail") and self.value is None:
            raise ValueError(f"rule {self.rule_id}: a pass or fail needs a value")
        return self


class ProtectedClassesUsed(Payload):
    """Which data column stood for which protected class in this evaluation, which of the policy's
    classes were not mapped (their rules are `not_evaluated`), the declared proxies, the bands a
    numeric class was cut into, and why the mapping falls short of the policy, if it does."""

    mapping: dict[ShortText, ShortText] = Field(default_factory=dict, max_length=50)
    not_mapped: list[ShortText] = Field(default_factory=list, max_length=50)
    proxies: list[ShortText] = Field(default_factory=list, max_length=200)
    bands: dict[ShortText, list[float]] = Field(default_factory=dict, max_length=50)
    shortfall: Text | None = None


DottedName = Annotated[
    str, Field(min_length=3, max_length=300, pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
]


class ExplicitTrust(Payload):
    type: DottedName
    source: Literal["cli", "policy", "settings", "api"]


class TrustedTypes(Payload):
    """Why the gate loaded the model file's types: classes of the default libraries, and each
    type someone trusted explicitly (with where: `--trust`, the policy, the environment, Python)."""

    default_libraries: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(max_length=50)
    explicit: list[ExplicitTrust] = Field(default_factory=list, max_length=500)


class EvaluationRecorded(Payload):
    """One evaluation of one model artifact, on one dataset, under one policy version.

    `protected_classes` is absent from evaluations recorded before policies were written over
    protected classes; those named data columns directly and every rule was evaluated."""

    evaluation_id: Identifier
    model: ModelRef
    model_artifact_sha256: Sha256Hex
    dataset: EvaluatedDataset
    policy: PolicyRef
    verdict: OverallVerdict
    rules: list[RuleResult] = Field(min_length=1, max_length=500)
    libraries: dict[ShortText, ShortText] = Field(default_factory=dict)
    explainability: FreeJson | None = None
    parameters: FreeJson = Field(default_factory=dict)
    protected_classes: ProtectedClassesUsed | None = None
    trusted_types: TrustedTypes | None = None  # absent in entries written before it was recorded
    summary: Text | None = None
    # Measured performance per group with intervals, confusion matrices, calibration and ROC points,
    # intersectional selection rates (policies.metrics.validation); absent in older entries. Not
    # judged: the rules are; this is what a validator reads whatever rules the policy holds.
    validation: LargeFreeJson | None = None

    @model_validator(mode="after")
    def _distinct_rules(self) -> EvaluationRecorded:
        ids = [r.rule_id for r in self.rules]
        if len(set(ids)) != len(ids):
            raise ValueError("rule ids must be distinct")
        return self


class ReportIssued(Payload):
    """A rendered report: its kind, what it is about, and the SHA-256 of the exact PDF (and HTML).

    The PDF names the entry that issues it (`claimed_seq`): the entry is accepted only at that
    sequence number, so anyone holding the PDF can find the entry and check its inclusion proof."""

    report_kind: Literal["dossier", "decision", "adverse-action", "bias-audit", "attestation"]
    subject: ShortText
    title: ShortText
    pdf_sha256: Sha256Hex
    html_sha256: Sha256Hex
    claimed_seq: int = Field(ge=1)
    as_of_size: int = Field(ge=1, description="the ledger size the report reflects")
    template_version: ShortText
    # The options the report was made with (e.g. auditor, creditor address, an override of the law
    # a bias audit follows); absent in entries written before options were recorded.
    options: dict[Annotated[str, Field(min_length=1, max_length=60)], Text] | None = Field(default=None, max_length=30)


class EvaluationOutcome(Payload):
    """The evaluation the gate judged a promotion by: the latest of the artifact under the active policy."""

    evaluation_id: Identifier
    verdict: OverallVerdict


class ApprovalCount(Payload):
    """Distinct approvers (role approver) citing the latest evaluation, against the policy's rule."""

    have: int = Field(ge=0)
    required: int = Field(ge=0, le=20)


class RefusalProblem(Payload):
    """One reason as the 409 answer gives it (`ledger.wire.ErrorDetail`): where, what, which kind,
    and for a failing rule the worst group, the value measured and the threshold."""

    loc: list[ShortText] = Field(max_length=5)
    msg: Text
    type: ShortText
    group: ShortText | None = None
    value: float | None = None
    threshold: float | None = None


class PromotionRefused(Payload):
    """A promotion the gate refused (HTTP 409), on the record. Written by govledger only, as the
    consequence of a refused `model.promoted`; its entry's actor is the person who asked.

    The request (`model`, `stage`, `reason`, `approval_ids`, as the refused entry carried them),
    then why, as the gate read the ledger in the refused transaction: the active policy, the
    latest evaluation of the artifact under it (None when there is none), the ids of its blocking
    rules that failed or lacked evidence, the approvals that rejected the model on it, the approval
    count (None without an evaluation: nothing was counted), and the 409's message and problems."""

    model: ModelRef
    artifact_sha256: Sha256Hex
    stage: Literal["staging", "production"]
    reason: Text | None = None
    approval_ids: list[Identifier] = Field(default_factory=list, max_length=20)
    policy: PolicyRef
    evaluation: EvaluationOutcome | None
    failed_rules: list[ShortText] = Field(max_length=500)
    insufficient_rules: list[ShortText] = Field(max_length=500)
    rejected_by: list[Identifier] = Field(max_length=500, description="approval ids that rejected the model")
    approvals: ApprovalCount | None
    message: Text
    problems: list[RefusalProblem] = Field(min_length=1, max_length=1000)
