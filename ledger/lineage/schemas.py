"""Payload schemas of the lineage entry kinds (strict: no coercion, unknown fields refused).

Identifiers are chosen by the caller (a dataset id, a run id, a model name and version, a
decision id), so that a client can retry without creating duplicates and can refer to what it
registered before. Times are RFC 3339 UTC strings, stored exactly as sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from ledger.log.entry import UTC_PATTERN, parse_utc
from ledger.log.kinds import FreeJson, Payload

__all__ = [
    "EXPLAINABLE_ITEMS",
    "ApprovalRecorded",
    "DatasetRegistered",
    "DecisionAppealed",
    "DecisionRecorded",
    "DecisionReviewed",
    "DecisionsDropped",
    "HumanOversight",
    "Identifier",
    "ModelPromoted",
    "ModelRef",
    "ModelRegistered",
    "ModelRetired",
    "Sha256Hex",
    "SubjectErased",
    "TrainingRunRecorded",
    "UseDomain",
]

# No "/" in ids: they appear as single URL path segments (/v1/datasets/{dataset_id}).
Identifier = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:+-]*$")]
ModelName = Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
Version = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="lower-case hex SHA-256")]


def _calendar_time(value: str) -> str:
    """Refuse a string that matches the pattern but names no moment (month 13, hour 99)."""
    parse_utc(value)  # ValueError -> pydantic's value_error, 422 naming the field
    return value


UtcTime = Annotated[
    str,
    Field(
        pattern=UTC_PATTERN,
        description="RFC 3339 UTC, e.g. 2026-11-23T10:00:00Z",
        json_schema_extra={"format": "date-time"},
    ),
    AfterValidator(_calendar_time),
]
Text = Annotated[str, Field(min_length=1, max_length=5000)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
JsonScalar = str | int | float | bool | None
UseDomain = Literal["credit", "employment", "insurance", "housing", "healthcare", "education", "other"]
Metrics = dict[Annotated[str, Field(min_length=1, max_length=100)], int | float]


class ModelRef(Payload):
    name: ModelName
    version: Version

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"


class ColumnSpec(Payload):
    name: ShortText
    type: ShortText
    description: str | None = Field(default=None, max_length=1000)


class Period(Payload):
    start: UtcTime
    end: UtcTime


class DatasetRegistered(Payload):
    """A dataset version: what it is (content hash, schema, rows), where it came from, its licence,
    which attributes are sensitive, and the datasets it was derived from (and how)."""

    dataset_id: Identifier
    content_sha256: Sha256Hex
    columns: list[ColumnSpec] = Field(min_length=1, max_length=10_000)
    rows: int = Field(ge=0)
    source_uri: Text
    licence: ShortText | None = None
    sensitive_attributes: list[ShortText] = Field(default_factory=list, max_length=1000)
    derived_from: list[Identifier] = Field(default_factory=list, max_length=100)
    transformation: Text | None = None
    description: Text | None = None
    collection_period: Period | None = None

    @model_validator(mode="after")
    def _derivation_is_described(self) -> DatasetRegistered:
        if self.derived_from and not self.transformation:
            raise ValueError("a derived dataset must describe its transformation")
        if len(set(self.derived_from)) != len(self.derived_from) or self.dataset_id in self.derived_from:
            raise ValueError("derived_from must list distinct datasets other than this one")
        unknown = set(self.sensitive_attributes) - {c.name for c in self.columns}
        if unknown:
            raise ValueError(f"sensitive attributes {sorted(unknown)} are not columns of the dataset")
        return self


class TrainingRunRecorded(Payload):
    run_id: Identifier
    code_version: ShortText
    parameters: FreeJson = Field(default_factory=dict)
    environment: dict[str, str] = Field(default_factory=dict)
    input_datasets: list[Identifier] = Field(min_length=1, max_length=100)
    metrics: Metrics = Field(default_factory=dict)
    artifact_sha256: Sha256Hex
    started_at: UtcTime | None = None
    ended_at: UtcTime | None = None


class HumanOversight(Payload):
    """What the intended use promises about human review of decisions, in a form a report can
    check against the reviews logged: `every_adverse` (each adverse decision reviewed by a person),
    `every_decision`, `sampled` (at least `sample_share` of decisions) or `none`."""

    review: Literal["every_adverse", "every_decision", "sampled", "none"]
    sample_share: float | None = Field(default=None, gt=0.0, le=1.0)
    description: Text | None = None  # who reviews, with what authority, how to override

    @model_validator(mode="after")
    def _share_for_sampled(self) -> HumanOversight:
        if (self.review == "sampled") != (self.sample_share is not None):
            raise ValueError("sample_share is given exactly when review is 'sampled'")
        return self


class ModelRegistered(Payload):
    model: ModelRef
    artifact_sha256: Sha256Hex
    run_id: Identifier
    description: Text | None = None
    intended_use: Text | None = None
    out_of_scope_uses: Text | None = None
    owner: ShortText | None = None
    risk_tier: ShortText | None = None
    limitations: Text | None = None
    monitoring_plan: Text | None = None
    # What the model is used for, as a category: it chooses the law a bias audit follows
    # (NYC LL144 is for employment; a credit model gets a fair-lending analysis).
    use_domain: UseDomain | None = None
    # What was trained, recorded at registration so a dossier never says "not recorded".
    estimator: ShortText | None = None  # e.g. "sklearn.linear_model.LogisticRegression"
    hyperparameters: dict[ShortText, JsonScalar] | None = Field(default=None, max_length=500)
    input_features: list[ShortText] | None = Field(default=None, max_length=5000)
    # The review the intended use promises, checked by the dossier against the reviews logged.
    human_oversight: HumanOversight | None = None


class ApprovalRecorded(Payload):
    """A risk officer's decision on a model version, and the evaluation it relies on."""

    approval_id: Identifier
    model: ModelRef
    decision: Literal["approve", "reject"]
    role: ShortText
    comment: Text | None = None
    evaluation_id: Identifier | None = None


class ModelPromoted(Payload):
    model: ModelRef
    stage: Literal["staging", "production"]
    reason: Text | None = None
    approval_ids: list[Identifier] = Field(default_factory=list, max_length=20)


class ModelRetired(Payload):
    model: ModelRef
    reason: Text


class EncryptedInput(Payload):
    """The decision's input, never in clear: a keyed commitment and AES-GCM ciphertext under the
    subject's key, which lives outside the log (erasing it makes both unreadable)."""

    commitment: Sha256Hex
    ciphertext: Annotated[str, Field(min_length=1, max_length=700_000)]
    nonce: Annotated[str, Field(min_length=16, max_length=16, description="base64 of 12 bytes")]
    schema_version: ShortText


class Output(Payload):
    decision: ShortText
    score: float | int | None = None
    adverse: bool = Field(description="an adverse action in the sense of Reg B 1002.2(c)")


class ReasonCode(Payload):
    code: ShortText
    text: Text
    contribution: float | None = None


class Explanation(Payload):
    explainer: ShortText
    explainer_version: ShortText
    baseline_sha256: Sha256Hex | None = None
    shap_ref: ShortText | None = None
    additivity_ok: bool | None = None
    reason_codes: list[ReasonCode] = Field(default_factory=list, max_length=4)
    group_map_version: ShortText | None = None
    # An adverse decision whose only negative factors are prohibited bases (Reg B 1002.6(b)) or their
    # declared proxies is referred to a person rather than given an unlawful reason. Absent in older
    # entries, which read as not referred.
    review_required: bool = False
    review_reason: Text | None = None

    @model_validator(mode="after")
    def _review_says_why(self) -> Explanation:
        if self.review_required and not self.review_reason:
            raise ValueError("review_required needs a review_reason: say why no principal reason can be given")
        return self


class Deployment(Payload):
    deployer: ShortText | None = None
    environment: ShortText | None = None
    code_digest: ShortText | None = None
    feature_pipeline_version: ShortText | None = None
    threshold_version: ShortText | None = None


class Notice(Payload):
    notice_id: ShortText
    sent_at: UtcTime
    channel: ShortText
    template_version: ShortText


class Retention(Payload):
    retention_class: ShortText
    earliest_purge: Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]


# Items of the decision record (REGULATORY.md) that a decision must carry or explain away in
# `not_applicable` ({item: why}); the others are required fields.
EXPLAINABLE_ITEMS = (
    "request_id",  # AIA 12(3)(a)
    "trace_id",
    "deployment",  # deployer, environment, code digest, feature pipeline, threshold version
    "input",  # commitment + ciphertext of the input (GDPR Art. 17 crypto-shredding)
    "reference_database_id",  # AIA 12(3)(b)-(c)
    "explanation",  # Reg B 1002.9(b)(2) principal reasons
    "notice",  # Reg B 1002.9(a); CO 1703(4)
    "retention",  # retention class and earliest purge date
)


class DecisionRecorded(Payload):
    """One automated decision (see REGULATORY.md, decision record). The lineage fields
    (artifact hash, run, datasets, promotion) are filled in by the service from the log and
    checked again at append time. Every item of `EXPLAINABLE_ITEMS` is present or named in
    `not_applicable` with the reason it does not apply: nothing is silently missing.

    Two checklist items are carried by reference, not copied: the datasets' content hashes (each
    id in `dataset_ids` names exactly one `dataset.registered` entry, which holds the hash; ids
    cannot be registered twice) and the promotion's approvals (`promotion_seq` is the
    `model.promoted` entry, which lists the approval ids the gate accepted). The decision trace
    and its proof pack prove those entries beside the decision."""

    decision_id: Identifier
    request_id: ShortText | None = None
    trace_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$", description="W3C trace-id")] | None = None
    ts_start: UtcTime
    ts_end: UtcTime
    model: ModelRef
    model_artifact_sha256: Sha256Hex
    training_run_id: Identifier
    dataset_ids: list[Identifier] = Field(min_length=1, max_length=100)
    promotion_seq: int = Field(ge=0)
    deployment: Deployment | None = None
    subject_ref: Identifier
    input: EncryptedInput | None = None
    reference_database_id: ShortText | None = None
    output: Output
    explanation: Explanation | None = None
    notice: Notice | None = None
    retention: Retention | None = None
    not_applicable: dict[ShortText, Text] = Field(default_factory=dict, max_length=50)

    @model_validator(mode="after")
    def _times_in_order(self) -> DecisionRecorded:
        if datetime.fromisoformat(self.ts_end) < datetime.fromisoformat(self.ts_start):
            raise ValueError("ts_end is before ts_start")
        if self.trace_id is not None and set(self.trace_id) == {"0"}:
            raise ValueError("trace_id of all zeros is invalid (W3C trace context)")
        unknown = set(self.not_applicable) - set(EXPLAINABLE_ITEMS)
        if unknown:
            raise ValueError(f"not_applicable names items that are not optional record items: {sorted(unknown)}")
        unexplained = [
            item for item in EXPLAINABLE_ITEMS if getattr(self, item) is None and item not in self.not_applicable
        ]
        if unexplained:
            raise ValueError(
                f"decision record items {unexplained} are missing: give them, or say in "
                "not_applicable why each does not apply"
            )
        return self


class DecisionReviewed(Payload):
    """Human oversight of one decision (AIA 14, GDPR 22(3)): accepted, overridden or reversed."""

    decision_id: Identifier
    outcome: Literal["accepted", "overridden", "reversed"]
    override_reason: Text | None = None
    new_decision: ShortText | None = None
    reviewed_at: UtcTime
    appeal_id: Identifier | None = Field(default=None, description="the appeal this review answers, if any")

    @model_validator(mode="after")
    def _override_has_reason(self) -> DecisionReviewed:
        if self.outcome != "accepted" and not self.override_reason:
            raise ValueError("an override or reversal needs override_reason")
        return self


class DecisionAppealed(Payload):
    """The subject contests a decision or asks for its correction (GDPR 22(3), CO 6-1-1703(4)):
    recorded as it arrived, never edited; the review that answers it names its `appeal_id`."""

    appeal_id: Identifier
    decision_id: Identifier
    received_at: UtcTime
    channel: ShortText
    grounds: Text
    requests: list[Literal["human_review", "correction", "explanation"]] = Field(min_length=1, max_length=3)

    @model_validator(mode="after")
    def _requests_once(self) -> DecisionAppealed:
        if len(set(self.requests)) != len(self.requests):
            raise ValueError("requests names an item twice")
        return self


class SubjectErased(Payload):
    subject_ref: Identifier
    reason: Text
    legal_basis: ShortText | None = None


class DecisionsDropped(Payload):
    """A client had to drop decision records (its queue overflowed or it gave up): the count is
    itself on the record, so a gap is never silent."""

    client_id: ShortText
    count: int = Field(ge=1)
    first_dropped_at: UtcTime
    last_dropped_at: UtcTime
    reason: Text
