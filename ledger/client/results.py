"""What the client's methods return: the service's own wire models (`ledger.wire`), parsed with
pydantic, and `Report` for the documents.

Why the wire models: the service declares them as its response models, so the client reads
exactly what the OpenAPI description promises, and a change to a shape changes both sides at
once (there is no hand-written `from_json` to forget). Writes return receipts as typed fields
(`Receipt`, `DecisionReceipt`, `BatchResult`, `PolicyReceipt`, `EvaluationReceipt`); reads
return the service's records as plain dicts (a client keeps fields it does not know yet), and
lists return them in a `Page` with the cursor to the next one (`EvaluationPage`, newest first,
for evaluations). An answer that does not fit its model is a `ClientError` (`invalid_response`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from ledger.client.errors import ClientError
from ledger.wire import (
    BatchResult,
    DecisionReceipt,
    ErasureReceipt,
    EvaluationReceipt,
    NewestFirstPage,
    Page,
    PolicyList,
    PolicyReceipt,
    Receipt,
)

__all__ = [
    "BatchResult",
    "DecisionReceipt",
    "ErasureReceipt",
    "EvaluationPage",
    "EvaluationReceipt",
    "Page",
    "PolicyList",
    "PolicyReceipt",
    "Receipt",
    "Record",
    "RecordPage",
    "Report",
    "parse",
]

Record = dict[str, Any]  # one record as the service shaped it
RecordPage = Page[Record]
EvaluationPage = NewestFirstPage  # the newest-first page (`next_before`), by its former client name
M = TypeVar("M")


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}  # one per model: building one costs about a millisecond


def parse(model: type[M], body: Any) -> M:
    """`body` (the parsed JSON answer) as `model`, or ClientError if it does not fit."""
    adapter = _ADAPTERS.get(model)
    if adapter is None:
        adapter = _ADAPTERS.setdefault(model, TypeAdapter(model))
    try:
        parsed: M = adapter.validate_python(body)
        return parsed
    except ValidationError as exc:
        name = getattr(model, "__name__", str(model))
        raise ClientError(f"the answer is not a {name}: {exc}", code="invalid_response") from exc


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
