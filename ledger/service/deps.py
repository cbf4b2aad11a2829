"""Request dependencies: the ledger, the authenticated caller, and role checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from ledger.access import Principal, Role, authenticate
from ledger.api import Ledger
from ledger.errors import ForbiddenError
from ledger.service.errors import UnauthorizedError

__all__ = ["MAX_SEQ", "Caller", "LedgerDep", "Reader", "caller", "get_ledger", "require_roles"]

MAX_SEQ = 2**62  # sequence numbers and tree sizes fit a signed 64-bit column with room to spare


def get_ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


LedgerDep = Annotated[Ledger, Depends(get_ledger)]


def caller(request: Request, ledger: LedgerDep) -> Principal:
    """The principal behind `Authorization: Bearer <token>`, or 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedError("missing API key: send 'Authorization: Bearer <key>'")
    with ledger.engine.connect() as conn:
        principal = authenticate(conn, token.strip())
    if principal is None:
        raise UnauthorizedError("invalid or revoked API key")
    return principal


Caller = Annotated[Principal, Depends(caller)]


def require_roles(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency admitting the given roles (and admin); 403 for the others."""

    def check(principal: Caller) -> Principal:
        if principal.role is not Role.ADMIN and principal.role not in roles:
            allowed = ", ".join(sorted({"admin", *roles}))
            raise ForbiddenError(f"role {principal.role} may not do this (allowed: {allowed})")
        return principal

    return check


# Every role may read (auditors only read).
Reader = Annotated[Principal, Depends(require_roles(Role.PRODUCER, Role.CI, Role.APPROVER, Role.AUDITOR))]
