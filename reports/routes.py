"""HTTP endpoints of the reports, mounted on the service by the composition root.

`GET /v1/reports/...` renders a report for approvers and auditors, as PDF or HTML (chosen by a
`.pdf`/`.html` suffix on the last path segment, `/v1/reports/attestation.html` included, else by
`Accept`). `since`/`until` take a plain date (a whole day, UTC; see reports.period) or an
RFC 3339 UTC time. A GET never writes: what it returns is a preview that
says on its first page it is not issued. `POST /v1/reports/.../issue` (approver) issues it:
`report.issued` is appended with the PDF's SHA-256 and the PDF names that entry. `GET
/v1/reports/issued/{sha256}` tells anyone holding a PDF whether the ledger issued it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as FastApiPath
from fastapi.concurrency import run_in_threadpool

from ledger.access.api_keys import Principal
from ledger.access.roles import Role
from ledger.api import Ledger
from ledger.errors import NotFoundError
from ledger.service.deps import LedgerDep, Reader, require_roles, writer_of
from ledger.service.params import IdPath
from ledger.service.responses import READ_ONE, errors
from ledger.wire import IssuedReport
from reports.document import issue, prepare, render
from reports.kinds import BUILDERS
from reports.period import DAY_OR_UTC_PATTERN, period_bound
from reports.render import Rendered
from reports.verification import check_report_hash

__all__ = ["router"]

router = APIRouter(prefix="/v1/reports", tags=["reports"])
Viewer = Annotated[Principal, Depends(require_roles(Role.APPROVER, Role.AUDITOR))]
Issuer = Annotated[Principal, Depends(writer_of("report.issued"))]
Time = Annotated[
    str,
    Query(
        pattern=DAY_OR_UTC_PATTERN,
        description="a day YYYY-MM-DD (since: its start; until: its end, UTC) or a UTC time "
        "YYYY-MM-DDTHH:MM:SS[.ffffff]Z",
    ),
]
Option = Annotated[str | None, Query(min_length=1, max_length=500)]


def _notice_options(
    creditor_name: Option = None, creditor_address: Option = None, agency: Option = None, score_range: Option = None
) -> dict[str, str]:
    """The notice's creditor, agency and score range, when given (recorded in report.issued)."""
    given = {"creditor_name": creditor_name, "creditor_address": creditor_address, "agency": agency}
    return {key: value for key, value in {**given, "score_range": score_range}.items() if value}


def _audit_options(
    auditor: Option = None,
    auditor_firm: Option = None,
    independence: Option = None,
    law: Annotated[Literal["ll144", "fair-lending"] | None, Query()] = None,
    override_reason: Option = None,
) -> dict[str, str]:
    """The auditor and, when the model's use calls for another law, the override (recorded in report.issued)."""
    given = {"auditor": auditor, "auditor_firm": auditor_firm, "independence": independence, "law": law}
    return {key: value for key, value in {**given, "override_reason": override_reason}.items() if value}


NoticeOptions = Annotated[dict[str, str], Depends(_notice_options)]
AuditOptions = Annotated[dict[str, str], Depends(_audit_options)]
_PDF = "application/pdf"
_HTML = "text/html; charset=utf-8"
_REPORT_HEADERS = {
    "X-Govledger-Pdf-Sha256": {"description": "SHA-256 of the PDF rendering", "schema": {"type": "string"}},
}
_ISSUED_HEADERS = {
    **_REPORT_HEADERS,
    "X-Govledger-Entry": {"description": "the report.issued entry's seq", "schema": {"type": "string"}},
}
_DOCUMENT = {
    "content": {
        "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        "text/html": {"schema": {"type": "string"}},
    }
}
# Reports are documents: PDF, or HTML by a .html suffix or by Accept; 404 for an unknown subject.
PREVIEW: dict[int | str, dict[str, Any]] = {
    200: {**_DOCUMENT, "description": "the preview (says it is not issued)", "headers": _REPORT_HEADERS},
    **errors(401, 403, 404, 422),
}
ISSUE: dict[int | str, dict[str, Any]] = {
    201: {**_DOCUMENT, "description": "the issued report", "headers": _ISSUED_HEADERS},
    **errors(401, 403, 404, 409, 422),
}


def _format(request: Request, leaf: str) -> tuple[str, str]:
    """(the id without its suffix, 'pdf' | 'html')."""
    for suffix in (".pdf", ".html"):
        if leaf.endswith(suffix):
            return leaf[: -len(suffix)], suffix[1:]
    accept = request.headers.get("accept", "")
    return leaf, "html" if "text/html" in accept and _PDF not in accept else "pdf"


def _respond(rendered: Rendered, fmt: str, seq: int | None) -> Response:
    """The report in the asked format; an issued one answers 201 and names its entry."""
    headers = {"X-Govledger-Pdf-Sha256": rendered.pdf_sha256}
    if seq is not None:
        headers["X-Govledger-Entry"] = str(seq)
    status = 200 if seq is None else 201
    if fmt == "html":
        return Response(rendered.html, status_code=status, media_type=_HTML, headers=headers)
    return Response(rendered.pdf, status_code=status, media_type=_PDF, headers=headers)


async def _preview(ledger: Ledger, kind: str, fmt: str, **params: Any) -> Response:
    rendered = await run_in_threadpool(lambda: render(prepare(ledger, BUILDERS[kind], **params), issue_seq=None))
    return _respond(rendered, fmt, None)


async def _issue(ledger: Ledger, principal: Principal, kind: str, fmt: str, **params: Any) -> Response:
    rendered, seq = await run_in_threadpool(lambda: issue(ledger, BUILDERS[kind], actor=principal.actor, **params))
    return _respond(rendered, fmt, seq)


@router.get(
    "/dossier/{name}/{version}",
    response_class=Response,
    responses=PREVIEW,
    summary="Model compliance dossier (preview; .pdf or .html)",
)
async def dossier(name: str, version: str, request: Request, ledger: LedgerDep, _viewer: Viewer) -> Response:
    version, fmt = _format(request, version)
    return await _preview(ledger, "dossier", fmt, name=name, version=version)


@router.post(
    "/dossier/{name}/{version}/issue",
    status_code=201,
    response_class=Response,
    responses=ISSUE,
    summary="Issue a model compliance dossier",
)
async def issue_dossier(name: str, version: str, request: Request, ledger: LedgerDep, principal: Issuer) -> Response:
    return await _issue(ledger, principal, "dossier", _format(request, "")[1], name=name, version=version)


@router.get(
    "/decisions/{decision_id}",
    response_class=Response,
    responses=PREVIEW,
    summary="Decision trace report (preview; .pdf or .html)",
)
async def decision(decision_id: IdPath, request: Request, ledger: LedgerDep, _viewer: Viewer) -> Response:
    decision_id, fmt = _format(request, decision_id)
    return await _preview(ledger, "decision", fmt, decision_id=decision_id)


@router.post(
    "/decisions/{decision_id}/issue",
    status_code=201,
    response_class=Response,
    responses=ISSUE,
    summary="Issue a decision trace report",
)
async def issue_decision(decision_id: IdPath, request: Request, ledger: LedgerDep, principal: Issuer) -> Response:
    return await _issue(ledger, principal, "decision", _format(request, "")[1], decision_id=decision_id)


@router.get(
    "/adverse-action/{decision_id}",
    response_class=Response,
    responses=PREVIEW,
    summary="Adverse-action notice (preview; .pdf or .html)",
)
async def adverse_action(
    decision_id: IdPath, request: Request, ledger: LedgerDep, _viewer: Viewer, options: NoticeOptions
) -> Response:
    decision_id, fmt = _format(request, decision_id)
    return await _preview(ledger, "adverse-action", fmt, decision_id=decision_id, **options)


@router.post(
    "/adverse-action/{decision_id}/issue",
    status_code=201,
    response_class=Response,
    responses=ISSUE,
    summary="Issue an adverse-action notice",
)
async def issue_adverse_action(
    decision_id: IdPath, request: Request, ledger: LedgerDep, principal: Issuer, options: NoticeOptions
) -> Response:
    fmt = _format(request, "")[1]
    return await _issue(ledger, principal, "adverse-action", fmt, decision_id=decision_id, **options)


@router.get(
    "/bias-audit/{name}/{version}",
    response_class=Response,
    responses=PREVIEW,
    summary="Bias audit over a period, under the law of the model's declared use (preview; .pdf or .html)",
)
async def bias_audit(
    name: str,
    version: str,
    request: Request,
    ledger: LedgerDep,
    _viewer: Viewer,
    since: Time,
    until: Time,
    options: AuditOptions,
) -> Response:
    version, fmt = _format(request, version)
    period = {"since": period_bound(since, "since"), "until": period_bound(until, "until")}
    return await _preview(ledger, "bias-audit", fmt, name=name, version=version, **period, **options)


@router.post(
    "/bias-audit/{name}/{version}/issue",
    status_code=201,
    response_class=Response,
    responses=ISSUE,
    summary="Issue a bias audit",
)
async def issue_bias_audit(
    name: str,
    version: str,
    request: Request,
    ledger: LedgerDep,
    principal: Issuer,
    since: Time,
    until: Time,
    options: AuditOptions,
) -> Response:
    fmt = _format(request, "")[1]
    period = {"since": period_bound(since, "since"), "until": period_bound(until, "until")}
    return await _issue(ledger, principal, "bias-audit", fmt, name=name, version=version, **period, **options)


@router.get(
    "/attestation",
    response_class=Response,
    responses=PREVIEW,
    summary="Ledger integrity attestation (preview; PDF, or HTML by Accept)",
)
async def attestation(request: Request, ledger: LedgerDep, _viewer: Viewer) -> Response:
    return await _preview(ledger, "attestation", _format(request, "")[1])


@router.get(
    "/attestation.{fmt}",
    response_class=Response,
    responses=PREVIEW,
    summary="Ledger integrity attestation (preview) as PDF or HTML, by suffix",
)
async def attestation_as(
    fmt: Annotated[Literal["pdf", "html"], FastApiPath(description="pdf or html")],
    ledger: LedgerDep,
    _viewer: Viewer,
) -> Response:
    return await _preview(ledger, "attestation", fmt)


@router.post(
    "/attestation/issue",
    status_code=201,
    response_class=Response,
    responses=ISSUE,
    summary="Issue a ledger integrity attestation",
)
async def issue_attestation(request: Request, ledger: LedgerDep, principal: Issuer) -> Response:
    return await _issue(ledger, principal, "attestation", _format(request, "")[1])


@router.get("/issued/{pdf_sha256}", summary="Was a PDF with this SHA-256 issued by the ledger?", responses=READ_ONE)
def issued(pdf_sha256: str, ledger: LedgerDep, _caller: Reader) -> IssuedReport:
    check = check_report_hash(ledger, pdf_sha256.lower())
    if not check.issued:
        raise NotFoundError(f"no report with PDF SHA-256 {pdf_sha256[:64]!r} was issued by this ledger")
    return IssuedReport.model_validate({"issued": True, "entry": check.entry, "inclusion_proof": check.inclusion_proof})
