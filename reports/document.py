"""One report from build to issue: builder → context → HTML → PDF → `report.issued`.

A builder reads the ledger and returns the report's content (title, subject, template and its
context), citing every entry it relies on in the `Evidence`. Issuing appends `report.issued` with
the PDF's SHA-256 at exactly the sequence number the PDF names; if another entry takes that place
first, the report is rendered again for the next number.

The shared form (reports/templates/base.html.j2) comes in two forms, `Content.form`:

- "document" (every kind but the consumer notice): a cover (title, subject, period,
  organisation, status, document control, people, sign-off block), an executive summary
  (`Content.outcome`, then `Content.findings` most severe first, each citing its entries as
  #seq; "No findings" only when `Findings.clean`, else the checks that did not run are named), a
  contents page built from the body's `<h2 class="section" id="...">` headings (reports/render.py),
  the template's body, and the evidence appendix (one row per cited entry, "How to verify").
- "letter" (the adverse-action notice): the template's body only; the template is a
  self-contained letter and places any "for the creditor's file" page itself.

Whatever the form, the PDF carries the proof pack of every cited entry as the attached file
`proofpack.json` (`Evidence.proof_pack`), which `govledger verify-report` checks offline.

How builders supply the cover (optional context keys, read here with defaults, so a builder that
supplies none still renders):

- `cover_people`: a list of `reports.cover.CoverPerson` (capacity such as "Prepared by",
  "Reviewed by", "Approved by"; name, role, organisation, date, ref). Build them with
  `reports.cover.actor_person(ledger, entry.actor.as_json(), "Reviewed by", date=..., ref=...)` so
  names, roles and organisations come from the API keys. Without it the defaults of
  `reports.cover.default_people` apply (the issuer as preparer; a model's approval entries as
  approvers, when the report is about one model version: `Content.model`, or a context `model`
  mapping with `name` and `version`). The sign-off block has a box per person whose capacity is
  prepared, reviewed or approved by, and an empty "Reviewed by" box when nobody reviewed.
- `cover_rows`: a list of (label, value) pairs appended to the document-control table (the bias
  audit's auditor name, firm and independence statement, a recorded override).
- `organisation`: the organisation named on the cover; by default the first organisation
  recorded on the keys of the people listed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ledger.api import Ledger
from ledger.errors import ConflictError
from ledger.log.entry import Actor
from reports.cover import CoverPerson, default_people, subject_model
from reports.evidence import PROOF_PACK_NAME, Evidence
from reports.findings import Findings
from reports.render import TEMPLATE_VERSION, Attached, Rendered, render_html, render_pdf

__all__ = ["Builder", "Content", "Draft", "issue", "prepare", "render", "render_document_html"]


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
    form: Literal["document", "letter"] = "document"  # "letter": no cover, summary, contents or appendix
    model: tuple[str, str] | None = None  # (name, version) when the report is about one model version
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


_SIGNING = ("Prepared by", "Reviewed by", "Approved by")


def _people(ledger: Ledger, draft: Draft, issuer: Actor | None) -> list[CoverPerson]:
    supplied = draft.content.context.get("cover_people")
    if supplied is not None:
        return list(supplied)
    model = subject_model(draft.content.model, draft.content.context)
    return default_people(ledger, draft.evidence, model, issuer)


def _signers(people: list[CoverPerson]) -> list[CoverPerson]:
    """The sign-off boxes: everyone who prepared, reviewed or approved, and an empty reviewer box
    when the ledger records no reviewer (a reviewer signs on paper or the box stays blank)."""
    signers = [p for p in people if p.capacity in _SIGNING]
    if not any(p.capacity == "Reviewed by" for p in signers):
        signers.insert(1 if signers else 0, CoverPerson("Reviewed by", "", note="no reviewer recorded"))
    return signers


def _report(draft: Draft, issue_seq: int | None, people: list[CoverPerson]) -> dict[str, Any]:
    """What base.html.j2 knows about the document as a whole (its `report` variable)."""
    content, evidence = draft.content, draft.evidence
    organisation = content.context.get("organisation") or next((p.organisation for p in people if p.organisation), "")
    return {
        "kind": content.kind,
        "kind_label": content.kind_label,
        "title": content.title,
        "subject": content.subject,
        "form": content.form,
        "period": content.period,
        "origin": evidence.checkpoint.checkpoint.origin,
        "as_of_size": evidence.size,
        "as_of_time": draft.as_of_time,
        "as_of_date": draft.as_of_time[:10],
        "issue_seq": issue_seq,
        "organisation": organisation,
        "people": people,
        "signers": _signers(people),
        "cover_rows": [tuple(row) for row in content.context.get("cover_rows", ())],
        "outcome": content.outcome,
        "findings": content.findings.sorted(),
        "findings_clean": content.findings.clean,
        "checks_complete": content.findings.checks_complete,
        "not_run": list(content.findings.not_run),
    }


def render_document_html(draft: Draft, *, issue_seq: int | None, issuer: Actor | None = None) -> str:
    """The HTML of the draft in its form (what `render` turns into the PDF); tests of a
    template's text can use it without paying for the PDF."""
    content, evidence = draft.content, draft.evidence
    people = _people(evidence.ledger, draft, issuer)
    report = _report(draft, issue_seq, people)
    return render_html(
        content.template,
        {**content.context, "report": report, "evidence": evidence, "evidence_items": evidence.items()},
    )


def render(draft: Draft, *, issue_seq: int | None, issuer: Actor | None = None) -> Rendered:
    """HTML and PDF of the draft; `issuer` (the actor issuing it) is named as its preparer."""
    content, evidence = draft.content, draft.evidence
    html = render_document_html(draft, issue_seq=issue_seq, issuer=issuer)
    pack = Attached(
        PROOF_PACK_NAME,
        evidence.proof_pack(f"{content.kind_label}: {content.subject}"),
        "govledger-proof-pack/1: the signed checkpoint, key entries, and every cited entry with its inclusion proof",
    )
    return Rendered(html, render_pdf(html, attachments=(pack,), dated=draft.as_of_time))


def issue(ledger: Ledger, builder: Builder, *, actor: Actor, attempts: int = 5, **params: Any) -> tuple[Rendered, int]:
    """Render and issue; returns the rendered report and the sequence number of its entry."""
    for _ in range(attempts):
        draft = prepare(ledger, builder, **params)
        claimed = ledger.size
        rendered = render(draft, issue_seq=claimed, issuer=actor)
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
