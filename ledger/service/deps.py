"""Request dependencies: the ledger, the authenticated caller, and role checks.

A write route admits the roles that the kind it appends declares (`writer_of(kind)`, read from the
ledger's kind registry at request time), so no second list of writers exists to drift from it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from ledger.access.api_keys import Principal
from ledger.access.roles import Role
from ledger.api import Ledger
from ledger.errors import ForbiddenError
from ledger.service.errors import NOT_UTF8, UnauthorizedError, UnsupportedMediaTypeError, is_utf8
from ledger.service.principals import PrincipalCache

__all__ = [
    "MAX_SEQ",
    "Caller",
    "LedgerDep",
    "Reader",
    "caller",
    "get_ledger",
    "json_body_only",
    "require_roles",
    "writer_of",
]

MAX_SEQ = 2**62  # sequence numbers and tree sizes fit a signed 64-bit column with room to spare


# The dependencies are coroutines so that FastAPI runs them on the event loop: a plain `def`
# dependency costs a round trip to the thread pool on every request.
async def get_ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


LedgerDep = Annotated[Ledger, Depends(get_ledger)]


# Declares the bearer scheme in the OpenAPI description (so generated clients and contract tests
# know every route needs a key); auto_error=False: a missing key is our own 401, not FastAPI's 403.
_bearer = HTTPBearer(auto_error=False, description="an API key: `Authorization: Bearer glk_...`")


async def caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """The principal behind `Authorization: Bearer <token>`, or 401 (see `PrincipalCache`)."""
    token = credentials.credentials if credentials is not None else ""
    if not token.strip():
        raise UnauthorizedError("missing API key: send 'Authorization: Bearer <key>'")
    principals: PrincipalCache = request.app.state.principals
    principal = principals.cached(token.strip())
    if principal is False:
        principal = await run_in_threadpool(principals.authenticate, token.strip())
    if not isinstance(principal, Principal):
        raise UnauthorizedError("invalid or revoked API key")
    return principal


Caller = Annotated[Principal, Depends(caller)]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting the given roles (and admin); 403 for the others."""

    async def check(principal: Caller) -> Principal:
        if principal.role is not Role.ADMIN and principal.role not in roles:
            allowed = ", ".join(sorted({"admin", *roles}))
            raise ForbiddenError(f"role {principal.role} may not do this (allowed: {allowed})")
        return principal

    return check


def writer_of(kind: str) -> Callable[[Request, Principal], Awaitable[Principal]]:
    """A dependency admitting the roles that may append `kind` (its `KindSpec.writers`, and admin);
    403 for the others, and for every role if the ledger's registry does not declare the kind."""

    async def check(request: Request, principal: Caller) -> Principal:
        ledger: Ledger = request.app.state.ledger
        if not ledger.registry.may_append(principal.role, kind):
            allowed = ", ".join(sorted(ledger.registry.writer_roles(kind))) if kind in ledger.registry else "none"
            raise ForbiddenError(f"role {principal.role} may not append {kind} (allowed: {allowed})")
        return principal

    return check


# Every role may read (auditors only read).
Reader = Annotated[Principal, Depends(require_roles(Role.PRODUCER, Role.CI, Role.APPROVER, Role.AUDITOR))]


def json_body_only(*also: str) -> Callable[[Request, Principal], Awaitable[None]]:
    """A dependency refusing (415) a body sent as anything but JSON (or the media types in
    `also`): without it a form or text body was read as JSON and refused as "not valid" (422),
    which hid what was wrong. A request without a Content-Type is read as JSON; a body that is
    not UTF-8 (UTF-16 or UTF-32 JSON) is a 415 whatever its Content-Type says. It asks for the
    caller first (FastAPI reuses the answer for the route's role check), so a request without a
    valid key is a 401 whatever it sends."""
    accepted = ("application/json", *also)

    async def check(request: Request, _caller: Caller) -> None:
        given = request.headers.get("content-type")
        if given is not None:
            media_type = given.partition(";")[0].strip().lower()
            if media_type not in accepted and not media_type.endswith("+json"):
                raise UnsupportedMediaTypeError(
                    f"the body must be {' or '.join(accepted)}, not {media_type or '(empty)'}"
                )
        # Starlette's request.json() hands bytes to json.loads, which guesses UTF-16 and UTF-32:
        # such a body was parsed and written. JSON between systems is UTF-8 (RFC 8259 8.1).
        if not is_utf8(await request.body()):  # read already by FastAPI (cached), ASCII is one scan
            raise UnsupportedMediaTypeError(NOT_UTF8)

    return check
