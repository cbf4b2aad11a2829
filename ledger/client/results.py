"""What the client's methods return: small frozen dataclasses for writes, pages for lists.

Why a module of its own: the result types are the client's contract with its callers, shared by
every group of methods (and by `DecisionLogger`), and they must not depend on how requests are
sent. Writes return what the service answered as typed fields (`Receipt`, `DecisionReceipt`,
`BatchResult`, `PolicyReceipt`, `EvaluationReceipt`, `Report`); reads return the service's JSON
as plain dicts (records are the service's to shape), and lists return them in a page with the
cursor to the next one (`Page`, or `EvaluationPage` for the newest-first evaluations).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BatchResult",
    "DecisionReceipt",
    "EvaluationPage",
    "EvaluationReceipt",
    "Page",
    "PolicyList",
    "PolicyReceipt",
    "Receipt",
    "Report",
    "parse_page",
    "parse_receipt",
]


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

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> BatchResult:
        return cls(
            recorded=tuple(DecisionReceipt.from_json(r) for r in body.get("recorded", [])),
            duplicates=tuple(DecisionReceipt.from_json(d, duplicate=True) for d in body.get("duplicates", [])),
        )


@dataclass(frozen=True)
class Page:
    """One page of a list: items as the service returns them, and the cursor for the next page
    (None on the last page)."""

    items: tuple[dict[str, Any], ...]
    next_after: int | None


@dataclass(frozen=True)
class EvaluationPage:
    """One page of evaluations, newest first: pass `next_before` as `before` for the next (older)
    page (None on the last page)."""

    items: tuple[dict[str, Any], ...]
    next_before: int | None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> EvaluationPage:
        cursor = body.get("next_before")
        return cls(items=tuple(body.get("items", [])), next_before=None if cursor is None else int(cursor))


@dataclass(frozen=True)
class PolicyReceipt:
    """A policy published (`policy.published`): its entry, the SHA-256 of its text (evaluations
    name the policy by it), and the name and version read from the text."""

    seq: int
    sha256: str
    name: str
    version: str

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> PolicyReceipt:
        return cls(
            seq=int(body["seq"]), sha256=str(body["sha256"]), name=str(body["name"]), version=str(body["version"])
        )


@dataclass(frozen=True)
class PolicyList:
    """Every published policy, oldest first (without their text: `get_policy` has it), and the
    SHA-256 of the active one, which gates promotions (None when no policy is active)."""

    items: tuple[dict[str, Any], ...]
    active: str | None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> PolicyList:
        active = body.get("active")
        return cls(items=tuple(body.get("items", [])), active=None if active is None else str(active))


@dataclass(frozen=True)
class EvaluationReceipt:
    """An evaluation recorded (`evaluation.recorded`). `already_recorded` is True when the same
    evaluation was recorded before (a retry): then `seq` is the original entry."""

    seq: int
    evaluation_id: str
    already_recorded: bool

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> EvaluationReceipt:
        return cls(
            seq=int(body["seq"]),
            evaluation_id=str(body["evaluation_id"]),
            already_recorded=bool(body.get("already_recorded", False)),
        )


@dataclass(frozen=True)
class Report:
    """A rendered report: its exact bytes (save them unchanged: an issued PDF is checked by its
    SHA-256) and content type (``application/pdf`` or ``text/html; charset=utf-8``).

    `pdf_sha256` is the SHA-256 of the PDF rendering, also when the HTML was asked for (look it up
    with `GovledgerClient.report_issued`). `entry` is the sequence number of the `report.issued`
    entry for an issued report, and None for a preview (which says on its first page it is not
    issued)."""

    content: bytes
    content_type: str
    pdf_sha256: str
    entry: int | None = None

    @property
    def issued(self) -> bool:
        return self.entry is not None

    @property
    def is_pdf(self) -> bool:
        return self.content_type.split(";")[0].strip().lower() == "application/pdf"

    @property
    def text(self) -> str:
        """The HTML rendering as text (a PDF has none: use `content`)."""
        if self.is_pdf:
            raise ValueError("a PDF report has no text; use .content")
        return self.content.decode("utf-8")


def parse_receipt(body: Mapping[str, Any], kind: str | None = None) -> Receipt:
    return Receipt(
        seq=int(body["seq"]), ts=str(body["ts"]), leaf_hash=str(body["leaf_hash"]), kind=str(kind or body["kind"])
    )


def parse_page(body: Mapping[str, Any]) -> Page:
    next_after = body.get("next_after")
    return Page(items=tuple(body.get("items", [])), next_after=None if next_after is None else int(next_after))
