"""The console's pages: sign-in, the model inventory, a model version, the approval queue,
decisions, the ledger and policies. Every page checks the viewer's role the way the API does
(the kind registry says who may append what), and offers only the actions that role may take;
every write goes through `Ledger.append` with the viewer's key as the actor, so the same checks
(separation of duties, the promotion gate) apply and their refusals are shown as stated.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from console import views
from console.web import (
    COOKIE,
    SECURITY_HEADERS,
    ConsoleRoute,
    Viewer,
    page,
    read_form,
    sessions_of,
    status_of,
    viewer,
)
from ledger.errors import ForbiddenError, GovledgerError, InvalidInputError, NotFoundError, PromotionBlockedError

__all__ = ["router"]

router = APIRouter(prefix="/ui", route_class=ConsoleRoute, include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]
STATIC = Path(__file__).parent / "static"
_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
_STATIC_FILES = {p.name: p for p in STATIC.iterdir() if p.suffix in _STATIC_TYPES}
RECENT_DAYS = 30


def _recent_since() -> str:
    """The start of the inventory's "last 30 days" (wall clock: a view, not evidence)."""
    return (datetime.now(UTC) - timedelta(days=RECENT_DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _same_origin(request: Request) -> None:
    """Refuse a form posted from another site (defence in depth beside SameSite=Strict and CSRF tokens)."""
    origin = request.headers.get("origin")
    if origin is not None and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise ForbiddenError("the form was posted from another site")


def _safe_next(target: str) -> str:
    """Only a console path may be the page after sign-in (no open redirect)."""
    return target if target.startswith("/ui/") and not target.startswith("//") and "\\" not in target else "/ui/"


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    path = _STATIC_FILES.get(name)
    if path is None:
        raise NotFoundError(f"no console file {name!r}")
    return Response(path.read_bytes(), media_type=_STATIC_TYPES[path.suffix])


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(next: Annotated[str, Query(max_length=2000)] = "/ui/") -> HTMLResponse:
    return page("sign_in.html.j2", {"who": None, "next": _safe_next(next), "error": None})


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    _same_origin(request)
    form = await read_form(request, None)
    target = _safe_next(form.get("next", "/ui/"))
    signed = await run_in_threadpool(sessions_of(request).sign_in, form.get("api_key"))
    if signed is None:
        context = {"who": None, "next": target, "error": "That key is not valid, or it was revoked."}
        return page("sign_in.html.j2", context, status=401)
    token, session = signed
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=session.expires_at - int(datetime.now(UTC).timestamp()),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/ui",
    )
    return response


@router.post("/sign-out")
async def sign_out(request: Request, who: Who) -> Response:
    _same_origin(request)
    await read_form(request, who)
    await run_in_threadpool(sessions_of(request).sign_out, who.token)
    response = RedirectResponse("/ui/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/ui", httponly=True, samesite="strict")
    return response


@router.get("/", response_class=HTMLResponse)
def inventory(
    who: Who,
    q: Annotated[str, Query(max_length=120)] = "",
    stage: Annotated[str, Query(pattern=r"^(|registered|staging|production|retired)$")] = "",
    sort: Annotated[str, Query(pattern=r"^(name|newest|stage)$")] = "name",
    page_number: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    context = views.inventory(who.ledger, q=q, stage=stage, sort=sort, page=page_number, recent_since=_recent_since())
    return page("inventory.html.j2", {"who": who, **context})


@router.get("/approvals", response_class=HTMLResponse)
def approval_queue(who: Who) -> HTMLResponse:
    if not who.may_approve:
        raise ForbiddenError(f"role {who.role} may not record approvals, so it has no approval queue")
    return page("approvals.html.j2", {"who": who, "rows": views.queue(who.ledger, _recent_since())})


@router.get("/models/{name}/{version}", response_class=HTMLResponse)
def model_version(name: str, version: str, who: Who) -> HTMLResponse:
    context = views.model_version(who.ledger, name, version, recent_since=_recent_since())
    return page("model.html.j2", {"who": who, "notice": None, **context})


def _model_page_with(who: Who, name: str, version: str, notice: dict[str, Any], status: int) -> HTMLResponse:
    context = views.model_version(who.ledger, name, version, recent_since=_recent_since())
    return page("model.html.j2", {"who": who, "notice": notice, **context}, status=status)


def _refused(error: GovledgerError) -> dict[str, Any]:
    errors = getattr(error, "errors", None) or []
    return {"ok": False, "message": str(error), "errors": [views.describe_error(e) for e in errors]}


@router.post("/models/{name}/{version}/approval", response_class=HTMLResponse)
async def approve(name: str, version: str, request: Request, who: Who) -> HTMLResponse:
    _same_origin(request)
    form = await read_form(request, who)
    if not who.may_approve:
        raise ForbiddenError(f"role {who.role} may not record approvals")
    decision = form.get("decision")
    if decision not in ("approve", "reject"):
        raise InvalidInputError("choose approve or reject")
    payload: dict[str, Any] = {
        "approval_id": f"ui-{secrets.token_hex(8)}",
        "model": {"name": name, "version": version},
        "decision": decision,
        "role": form.get("capacity") or who.role.value,
        "comment": form.get("reason") or None,
    }
    if not payload["comment"]:
        notice = {"ok": False, "message": "Give a reason for the approval or rejection.", "errors": []}
        return _model_page_with(who, name, version, notice, 422)
    if form.get("evaluation_id"):
        payload["evaluation_id"] = form.get("evaluation_id")
    try:
        receipt = await run_in_threadpool(
            who.ledger.append, "approval.recorded", payload, actor=who.session.principal.actor
        )
    except GovledgerError as exc:
        if isinstance(exc, NotFoundError):
            raise
        return _model_page_with(who, name, version, _refused(exc), status_of(exc))
    done = "approved" if decision == "approve" else "rejected"
    notice = {"ok": True, "message": f"You {done} {name}@{version}: ledger entry #{receipt.seq}.", "errors": []}
    return _model_page_with(who, name, version, notice, 200)


@router.post("/models/{name}/{version}/promotion", response_class=HTMLResponse)
async def promote(name: str, version: str, request: Request, who: Who) -> HTMLResponse:
    _same_origin(request)
    form = await read_form(request, who)
    if not who.may_promote:
        raise ForbiddenError(f"role {who.role} may not promote model versions")
    stage = form.get("stage")
    if stage not in ("staging", "production"):
        raise InvalidInputError("choose staging or production")
    approval_ids = await run_in_threadpool(views.approval_ids, who.ledger, name, version)
    payload: dict[str, Any] = {
        "model": {"name": name, "version": version},
        "stage": stage,
        "approval_ids": approval_ids,
    }
    if form.get("reason"):
        payload["reason"] = form.get("reason")
    try:
        receipt = await run_in_threadpool(
            who.ledger.append, "model.promoted", payload, actor=who.session.principal.actor
        )
    except GovledgerError as exc:
        if isinstance(exc, NotFoundError):
            raise
        notice = _refused(exc)
        if isinstance(exc, PromotionBlockedError) and exc.recorded_seq is not None:
            notice["message"] += f" The refusal is recorded as ledger entry #{exc.recorded_seq}."
        return _model_page_with(who, name, version, notice, status_of(exc))
    notice = {
        "ok": True,
        "message": f"{name}@{version} promoted to {stage}: ledger entry #{receipt.seq}.",
        "errors": [],
    }
    return _model_page_with(who, name, version, notice, 200)


# A report preview is the report's own HTML (inline styles, no script): it gets a policy of its own
# that allows its styles and inline SVG charts and forbids every script and every request.
REPORT_PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'"
)
REPORT_KINDS = {"dossier": "Model compliance dossier", "bias-audit": "Bias audit or fair-lending analysis"}


def _report_params(kind: str, name: str, version: str, since: str, until: str) -> dict[str, Any]:
    from reports.period import period_bound

    params: dict[str, Any] = {"name": name, "version": version}
    if kind == "bias-audit":
        if not since or not until:
            raise InvalidInputError("a bias audit needs a period: give the first and the last day")
        params |= {"since": period_bound(since, "since"), "until": period_bound(until, "until")}
    return params


@router.get("/models/{name}/{version}/reports/{kind}")
async def report_preview(
    name: str,
    version: str,
    kind: str,
    who: Who,
    since: Annotated[str, Query(max_length=40)] = "",
    until: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """The report as HTML, a preview: nothing is written (the same as GET /v1/reports/...)."""
    if kind not in REPORT_KINDS:
        raise NotFoundError(f"no report kind {kind!r} for a model version (dossier, bias-audit)")
    if not who.may_preview_reports:
        raise ForbiddenError(f"role {who.role} may not preview reports (approvers and auditors may)")
    from reports.document import prepare, render
    from reports.kinds import BUILDERS

    params = _report_params(kind, name, version, since, until)
    rendered = await run_in_threadpool(lambda: render(prepare(who.ledger, BUILDERS[kind], **params), issue_seq=None))
    response = HTMLResponse(rendered.html)
    response.headers.update({**SECURITY_HEADERS, "Content-Security-Policy": REPORT_PREVIEW_POLICY})
    return response


@router.post("/models/{name}/{version}/reports/{kind}")
async def report_issue(name: str, version: str, kind: str, request: Request, who: Who) -> Response:
    """Issue the report (`report.issued` under the viewer's key) and hand over the PDF, whose
    SHA-256 that entry records; `govledger verify-report` checks the downloaded file."""
    _same_origin(request)
    form = await read_form(request, who)
    if kind not in REPORT_KINDS:
        raise NotFoundError(f"no report kind {kind!r} for a model version (dossier, bias-audit)")
    if not who.may_issue_reports:
        raise ForbiddenError(f"role {who.role} may not issue reports (approvers may)")
    from reports.document import issue
    from reports.kinds import BUILDERS

    params = _report_params(kind, name, version, form.get("since"), form.get("until"))
    try:
        rendered, seq = await run_in_threadpool(
            lambda: issue(who.ledger, BUILDERS[kind], actor=who.session.principal.actor, **params)
        )
    except GovledgerError as exc:
        if isinstance(exc, NotFoundError):
            raise
        return _model_page_with(who, name, version, _refused(exc), status_of(exc))
    filename = f"{kind}-{views.path_segment(name)}-{views.path_segment(version)}-entry-{seq}.pdf"
    return Response(
        rendered.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "X-Govledger-Report-Entry": str(seq)},
    )


@router.get("/decisions", response_class=HTMLResponse)
def decisions(
    who: Who,
    decision_id: Annotated[str, Query(max_length=200)] = "",
    subject: Annotated[str, Query(max_length=200)] = "",
    model: Annotated[str, Query(max_length=200)] = "",
    since: Annotated[str, Query(max_length=40)] = "",
    until: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    if not who.may_read_decisions:
        raise ForbiddenError(f"role {who.role} has no decision lookup (approvers and auditors do)")
    if decision_id:
        return RedirectResponse(f"/ui/decisions/{views.path_segment(decision_id)}", status_code=303)
    context = views.decision_search(who.ledger, subject=subject, model=model, since=since, until=until)
    return page("decisions.html.j2", {"who": who, **context})


@router.get("/decisions/{decision_id}", response_class=HTMLResponse)
def decision(decision_id: str, who: Who) -> HTMLResponse:
    if not who.may_read_decisions:
        raise ForbiddenError(f"role {who.role} has no decision lookup (approvers and auditors do)")
    return page("decision.html.j2", {"who": who, **views.decision(who.ledger, decision_id)})


@router.get("/decisions/{decision_id}/pack")
def decision_pack(decision_id: str, who: Who) -> Response:
    """The proof pack of the decision's trace (canonical JSON), for the in-browser check and download."""
    if not who.may_read_decisions:
        raise ForbiddenError(f"role {who.role} has no decision lookup (approvers and auditors do)")
    body = views.decision_pack(who.ledger, decision_id)
    filename = f"proofpack-{views.path_segment(decision_id)}.json"
    return Response(
        body, media_type="application/json", headers={"Content-Disposition": f'inline; filename="{filename}"'}
    )


@router.get("/ledger", response_class=HTMLResponse)
def ledger_page(who: Who) -> HTMLResponse:
    return page("ledger.html.j2", {"who": who, **views.ledger_state(who.ledger)})


@router.get("/policies", response_class=HTMLResponse)
def policies_page(who: Who) -> HTMLResponse:
    return page("policies.html.j2", {"who": who, **views.policies(who.ledger)})


@router.get("/{rest:path}", response_class=HTMLResponse)
def not_found(rest: str) -> HTMLResponse:
    """Any other /ui path: a page saying so (with the console's headers), not the API's JSON 404."""
    raise NotFoundError(f"there is no console page /ui/{rest}")
