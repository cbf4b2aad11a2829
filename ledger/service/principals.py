"""Who is calling: bearer tokens checked against the stored API keys, through a short-lived cache.

Why a cache: every request is authenticated, and reading the key's row costs a pooled
connection, a query and (for a FastAPI dependency) a hop to the thread pool: more than the rest
of a single-decision POST. The cache keeps the stored row (name, role, SHA-256 of the secret,
revocation time) of keys seen recently, never the secret itself, and still compares the secret's
hash on every request, in constant time.

What it costs in freshness, and why that is bounded: a key revoked by another process
(`govledger keys revoke`) is refused by this service at most `ttl_s` seconds after the
revocation commits (default 1 s, `GOVLEDGER_KEY_CACHE_SECONDS`; 0 reads the row on every
request). Unknown key ids are not
cached, so made-up tokens cannot fill the memory; the cache holds at most `max_keys` rows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine

from ledger.access.api_keys import Principal, StoredKey, load_key, split_token
from ledger.config import DEFAULT_KEY_CACHE_S

__all__ = ["PrincipalCache"]

_MAX_KEYS = 10_000


class PrincipalCache:
    def __init__(
        self,
        engine: Engine,
        *,
        ttl_s: float = DEFAULT_KEY_CACHE_S,
        max_keys: int = _MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._ttl_s = ttl_s
        self._max_keys = max_keys
        self._clock = clock
        self._rows: dict[str, tuple[float, StoredKey]] = {}  # key id -> (read at, row)
        self._loading = threading.Lock()

    def cached(self, token: str) -> Principal | bool | None:
        """From memory only: the principal, None (refused), or False if the row must be read."""
        parts = split_token(token)
        if parts is None:
            return None
        key_id, secret = parts
        found = self._rows.get(key_id)
        if found is None or self._clock() - found[0] >= self._ttl_s:
            return False
        return found[1].principal if found[1].admits(secret) else None

    def authenticate(self, token: str) -> Principal | None:
        """Read the key's row (blocking: call it from a worker thread), remember it, check the secret.

        One read at a time: when a cached row expires under load, the requests that find it
        stale wait for the first one's read instead of each reading it again.
        """
        parts = split_token(token)
        if parts is None:
            return None
        key_id, secret = parts
        with self._loading:
            found = self._rows.get(key_id)
            if found is not None and self._clock() - found[0] < self._ttl_s:
                stored: StoredKey | None = found[1]  # refreshed by another request while this one waited
            else:
                read_at = self._clock()
                with self._engine.connect() as conn:
                    stored = load_key(conn, key_id)
                if stored is not None:
                    if len(self._rows) >= self._max_keys:
                        self._rows.clear()  # rare (more live keys than max_keys): start afresh, not grow
                    self._rows[key_id] = (read_at, stored)
        return stored.principal if stored is not None and stored.admits(secret) else None
