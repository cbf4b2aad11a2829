"""Console sessions: an API key exchanged for a short-lived browser session.

Why sessions at all: the web console must not keep an API key in the browser (a script or a
shared machine would leak a credential that lasts until revoked). The key is checked once at
sign-in; the browser then holds a random 256-bit token in an HttpOnly cookie, and the database
holds only its SHA-256, the key it stands for and its expiry. Every request re-reads the key's
row, so revoking the key ends its sessions at once; sign-out deletes the row.

The CSRF token of a session is derived from the session token (HMAC-SHA-256 with a fixed label),
so it needs no storage, differs per session, and cannot be computed without the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select

from ledger.access.api_keys import Principal, authenticate, load_key
from ledger.access.tables import console_sessions

__all__ = ["DEFAULT_SESSION_SECONDS", "Session", "SessionStore"]

DEFAULT_SESSION_SECONDS = 8 * 3600  # a working day; GOVLEDGER_CONSOLE_SESSION_SECONDS
_CSRF_LABEL = b"govledger console csrf v1"


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


@dataclass(frozen=True)
class Session:
    """A live session: who it is, when it ends, and the CSRF token its forms must carry."""

    principal: Principal
    expires_at: int
    csrf_token: str


def csrf_token_of(session_token: str) -> str:
    return hmac.new(session_token.encode("utf-8"), _CSRF_LABEL, hashlib.sha256).hexdigest()


class SessionStore:
    """Sessions in the ledger's database (so every `serve --workers` process sees the same ones)."""

    def __init__(
        self, engine: Engine, *, lifetime_s: int = DEFAULT_SESSION_SECONDS, clock: Callable[[], float] = time.time
    ) -> None:
        self._engine = engine
        self._lifetime_s = lifetime_s
        self._clock = clock

    def sign_in(self, api_key: str) -> tuple[str, Session] | None:
        """A new session for a valid, unrevoked key: (the token for the cookie, the session);
        None for any other key (the caller says only that sign-in failed)."""
        now = int(self._clock())
        token = secrets.token_urlsafe(32)
        with self._engine.begin() as conn:
            principal = authenticate(conn, api_key.strip())
            if principal is None:
                return None
            conn.execute(delete(console_sessions).where(console_sessions.c.expires_at <= now))
            conn.execute(
                insert(console_sessions).values(
                    token_sha256=_digest(token),
                    key_id=principal.key_id,
                    created_at=now,
                    expires_at=now + self._lifetime_s,
                )
            )
        return token, Session(principal, now + self._lifetime_s, csrf_token_of(token))

    def resolve(self, token: str | None) -> Session | None:
        """The session a cookie names, if it has not expired, was not ended, and its key is not revoked."""
        if not token or len(token) > 100:
            return None
        now = int(self._clock())
        with self._engine.connect() as conn:
            row = conn.execute(
                select(console_sessions.c.key_id, console_sessions.c.expires_at).where(
                    console_sessions.c.token_sha256 == _digest(token)
                )
            ).first()
            if row is None or row.expires_at <= now:
                return None
            stored = load_key(conn, row.key_id)
        if stored is None or stored.revoked_at is not None:
            return None
        return Session(stored.principal, int(row.expires_at), csrf_token_of(token))

    def sign_out(self, token: str | None) -> None:
        """End the session (idempotent)."""
        if not token:
            return
        with self._engine.begin() as conn:
            conn.execute(delete(console_sessions).where(console_sessions.c.token_sha256 == _digest(token)))

    @staticmethod
    def csrf_matches(session_token: str, offered: str | None) -> bool:
        """Constant-time check of a form's CSRF token against the session's."""
        return offered is not None and hmac.compare_digest(csrf_token_of(session_token), offered)
