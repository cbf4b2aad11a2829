"""One report from build to issue: builder → context → HTML → PDF → `report.issued`.

A builder reads the ledger and returns the report's content (title, subject, template and its
context), citing every entry it relies on in the `Evidence`. Rendering adds the common header,
the "how to check" box and the evidence appendix. Issuing appends `report.issued` with the PDF's
SHA-256 at exactly the sequence number the PDF names; if another entry takes that place first,
the report is rendered again for the next number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ledger.api import Ledger
from ledger.errors import ConflictError
from ledger.log.entry import Actor
from reports.evidence import Evidence
from reports.findings import Findings
from reports.render import TEMPLATE_VERSION, Rendered, render_html, render_pdf

__all__ = ["Builder", "Content", "Draft", "issue", "prepare", "render"]


@dataclass(frozen=True)
class Content:
    kind: str  # dossier | decision | adverse-action | bias-audit | attestation
    kind_label: str
    title: str
    subject: str
    template: str
    context: dict[str, Any]
    # The executive summary: one sentence on the outcome, then the derived findings.
    outcome: str = ""
    findings: Findings = field(default_factory=Findings)
    period: str | None = None  # e.g. "2026-11-01 to 2026-11-30" for reports over decisions
    # The options the report was made with (auditor, creditor, an override of the law applied):
    # recorded in `report.issued`, so what the PDF states on their authority is on the record.
    options: dict[str, str] = field(default_factory=dict)


Builder = Callable[..., Content]  # builder(ledger, evidence, **params) -> Content


@dataclass(frozen=True)
class Draft:
    content: Content
    evidence: Evidence
    as_of_time: str


def prepare(ledger: Ledger, builder: Builder, **params: Any) -> Draft:
    """Sign (or reuse) a checkpoint, and build the content against it."""
    evidence = Evidence(ledger)
    content = builder(ledger, evidence, **params)
    as_of_time = ledger.get(evidence.size - 1).ts
    return Draft(content, evidence, as_of_time)


def render(draft: Draft, *, issue_seq: int | None) -> Rendered:
    content, evidence = draft.content, draft.evidence
    report = {
        "kind": content.kind,
        "kind_label": content.kind_label,
        "title": content.title,
        "subject": content.subject,
        "origin": evidence.checkpoint.checkpoint.origin,
        "as_of_size": evidence.size,
        "as_of_time": draft.as_of_time,
        "issue_seq": issue_seq,
    }
    html = render_html(
        content.template,
        {**content.context, "report": report, "evidence": evidence, "evidence_items": evidence.items()},
    )
    return Rendered(html, render_pdf(html))


def issue(ledger: Ledger, builder: Builder, *, actor: Actor, attempts: int = 5, **params: Any) -> tuple[Rendered, int]:
    """Render and issue; returns the rendered report and the sequence number of its entry."""
    for _ in range(attempts):
        draft = prepare(ledger, builder, **params)
        claimed = ledger.size
        rendered = render(draft, issue_seq=claimed)
        try:
            receipt = ledger.append(
                "report.issued",
                {
                    "report_kind": draft.content.kind,
                    "subject": draft.content.subject[:200],
                    "title": draft.content.title[:200],
                    "pdf_sha256": rendered.pdf_sha256,
                    "html_sha256": rendered.html_sha256,
                    "claimed_seq": claimed,
                    "as_of_size": draft.evidence.size,
                    "template_version": TEMPLATE_VERSION,
                    **({"options": draft.content.options} if draft.content.options else {}),
                },
                actor=actor,
            )
        except ConflictError as exc:
            if "re-render" in str(exc):
                continue
            raise
        return rendered, receipt.seq
    raise ConflictError(f"the ledger kept growing while the report was issued ({attempts} attempts); try again")
