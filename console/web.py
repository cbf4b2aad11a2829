"""The console's web plumbing: sessions from a cookie, CSRF on every form, security headers on
every response, and pages rendered from Jinja2 templates with autoescaping.

Why a route class rather than middleware: the service's error handlers answer JSON for the API;
a console page that needs a sign-in must answer with a redirect, and a refusal with a page. The
route class turns those exceptions into pages for `/ui` routes only, and adds the headers there
(Content-Security-Policy without inline scripts or styles, nosniff, no referrer, no framing).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import jinja2
from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute

from ledger.access.roles import Role
from ledger.access.sessions import DEFAULT_SESSION_SECONDS, Session, SessionStore
from ledger.api import Ledger
from ledger.errors import ConflictError, ForbiddenError, GovledgerError, InvalidInputError, NotFoundError

__all__ = [
    "COOKIE",
    "ConsoleRoute",
    "FormData",
    "SignInRequired",
    "Viewer",
    "page",
    "read_form",
    "sessions_of",
    "status_of",
    "viewer",
]

_log = logging.getLogger("govledger.console")
COOKIE = "govledger_session"
TEMPLATES = Path(__file__).parent / "templates"

# Scripts and styles only from the console's own static files; report previews get their own,
# stricter policy (no scripts at all) in `console.routes`.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["pct"] = lambda value, digits=1: "n/a" if value is None else f"{100 * float(value):.{digits}f}%"
_env.filters["num"] = lambda value, digits=3: "n/a" if value is None else f"{float(value):.{digits}f}"
_env.filters["thousands"] = lambda value: "n/a" if value is None else f"{int(value):,}"
_env.filters["day"] = lambda ts: (ts or "")[:10]
_env.filters["minute"] = lambda ts: (ts or "")[:16].replace("T", " ")


class SignInRequired(Exception):  # noqa: N818 - a control-flow signal, not an error
    """No live session: the route class answers with a redirect to the sign-in page."""


@dataclass(frozen=True)
class Viewer:
    """The signed-in person, what their role lets them do, and the CSRF token for their forms."""

    session: Session
    token: str  # the session token (from the cookie), to check form CSRF tokens against
    ledger: Ledger

    @property
    def name(self) -> str:
        return self.session.principal.name

    @property
    def role(self) -> Role:
        return self.session.principal.role

    @property
    def csrf(self) -> str:
        return self.session.csrf_token

    def may_append(self, kind: str) -> bool:
        return self.ledger.registry.may_append(self.role, kind)

    @property
    def may_approve(self) -> bool:
        return self.may_append("approval.recorded")

    @property
    def may_promote(self) -> bool:
        return self.may_append("model.promoted")

    @property
    def may_issue_reports(self) -> bool:
        return self.may_append("report.issued")

    @property
    def may_preview_reports(self) -> bool:
        """As the report API: approvers and auditors (and admin)."""
        return self.role in (Role.ADMIN, Role.APPROVER, Role.AUDITOR)

    @property
    def may_read_decisions(self) -> bool:
        return self.role in (Role.ADMIN, Role.APPROVER, Role.AUDITOR)


def sessions_of(request: Request) -> SessionStore:
    """The session store of this service (one per process, over the ledger's database)."""
    store: SessionStore | None = getattr(request.app.state, "console_sessions", None)
    if store is None:
        lifetime = int(os.environ.get("GOVLEDGER_CONSOLE_SESSION_SECONDS", DEFAULT_SESSION_SECONDS))
        store = SessionStore(request.app.state.ledger.engine, lifetime_s=lifetime)
        request.app.state.console_sessions = store
    return store


async def viewer(request: Request) -> Viewer:
    """The signed-in viewer, or SignInRequired (a redirect to the sign-in page)."""
    from starlette.concurrency import run_in_threadpool

    token = request.cookies.get(COOKIE)
    session = await run_in_threadpool(sessions_of(request).resolve, token)
    if session is None or token is None:
        raise SignInRequired
    return Viewer(session, token, request.app.state.ledger)


@dataclass(frozen=True)
class FormData:
    fields: dict[str, str]

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default).strip()


async def read_form(request: Request, who: Viewer | None) -> FormData:
    """A URL-encoded form, its CSRF token checked against the session's (403, nothing written, if
    it is missing or wrong). `who` is None only for the sign-in form, which has no session yet."""
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise ForbiddenError("console forms are sent as application/x-www-form-urlencoded")
    raw = (await request.body()).decode("utf-8", errors="strict")
    fields = {k: values[-1] for k, values in parse_qs(raw, keep_blank_values=True).items()}
    if who is not None and not SessionStore.csrf_matches(who.token, fields.get("csrf")):
        raise ForbiddenError("the form's CSRF token is missing or wrong: reload the page and try again")
    return FormData(fields)


def status_of(error: GovledgerError) -> int:
    """The HTTP status the API gives the same refusal (so a page and the API agree)."""
    for kind, status in ((ForbiddenError, 403), (NotFoundError, 404), (InvalidInputError, 422), (ConflictError, 409)):
        if isinstance(error, kind):
            return status
    return 500


def page(template: str, context: dict[str, Any], *, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_env.get_template(template).render(**context), status_code=status)


def _refusal(request: Request, status: int, title: str, message: str) -> Response:
    return page("error.html.j2", {"title": title, "message": message, "who": None}, status=status)


class ConsoleRoute(APIRoute):
    """Console routes answer pages: sign-in redirects, 403/404 pages, and the security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def console_handler(request: Request) -> Response:
            try:
                response = await handle(request)
            except SignInRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                response = RedirectResponse(f"/ui/sign-in?next={quote(target, safe='')}", status_code=303)
            except ForbiddenError as exc:
                response = _refusal(request, 403, "Not allowed", str(exc))
            except NotFoundError as exc:
                response = _refusal(request, 404, "Not found", str(exc))
            except (UnicodeDecodeError, ValueError) as exc:
                response = _refusal(request, 400, "Bad request", f"the request could not be read: {exc}")
            except GovledgerError as exc:  # anything else the ledger refuses, stated as it states it
                response = _refusal(request, status_of(exc), "Refused", str(exc))
            except Exception:  # a fault of ours: logged with its traceback, a page (with the headers) for the viewer
                _log.exception("console page %s failed", request.url.path)
                response = _refusal(
                    request, 500, "Something went wrong", "The page could not be shown; the error is logged."
                )
            if "content-security-policy" not in response.headers:
                response.headers.update(SECURITY_HEADERS)
            return response

        return console_handler
