"""Who is calling: bearer tokens checked against the stored API keys, through a short-lived cache.

Why a cache: every request is authenticated, and reading the key's row costs a pooled
connection, a query and (for a FastAPI dependency) a hop to the thread pool: more than the rest
of a single-decision POST. The cache keeps the stored row (name, role, SHA-256 of the secret,
revocation time) of keys seen recently, never the secret itself, and still compares the secret's
hash on every request, in constant time.

What it costs in freshness, and why that is bounded: a key revoked by another process
(`govledger keys revoke`) is refused by this service at most `ttl_s` seconds after the
revocation commits (default 1 s, `GOVLEDGER_KEY_CACHE_SECONDS`; 0 reads the row on every
request): a row is trusted until `ttl_s` after the moment its read began (a cachetools
`TLRUCache` whose expiry is that moment plus `ttl_s`). Unknown key ids are not cached, so
made-up tokens cannot fill the memory; the cache holds at most `max_keys` rows (the least
recently used go first).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from cachetools import TLRUCache
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
        self._clock = clock
        # key id -> (read at, row); expires ttl_s after the read began
        self._rows: TLRUCache[str, tuple[float, StoredKey]] = TLRUCache(maxsize=max_keys, ttu=self._expiry, timer=clock)
        self._rows_lock = threading.Lock()  # cachetools caches are not thread-safe
        self._loading = threading.Lock()

    def _expiry(self, _key_id: str, row: tuple[float, StoredKey], _now: float) -> float:
        return row[0] + self._ttl_s

    def _fresh(self, key_id: str) -> StoredKey | None:
        """The cached row, if it is still trusted (about 1 µs: `[]` is 2.5× faster than `.get` here)."""
        try:
            with self._rows_lock:
                return self._rows[key_id][1]
        except KeyError:
            return None

    def cached(self, token: str) -> Principal | bool | None:
        """From memory only: the principal, None (refused), or False if the row must be read."""
        parts = split_token(token)
        if parts is None:
            return None
        key_id, secret = parts
        stored = self._fresh(key_id)
        if stored is None:
            return False
        return stored.principal if stored.admits(secret) else None

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
            stored = self._fresh(key_id)  # refreshed by another request while this one waited?
            if stored is None:
                read_at = self._clock()
                with self._engine.connect() as conn:
                    stored = load_key(conn, key_id)
                if stored is not None:
                    with self._rows_lock:
                        self._rows[key_id] = (read_at, stored)
        return stored.principal if stored is not None and stored.admits(secret) else None
