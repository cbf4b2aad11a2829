"""The API-key row cache: bounded in rows and in time, and never a way around the secret."""

from __future__ import annotations

from ledger.access.api_keys import split_token
from ledger.service.principals import PrincipalCache
from tests.service.conftest import Service


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_cache_keeps_at_most_max_keys_rows_dropping_the_least_recently_used(service: Service) -> None:
    cache = PrincipalCache(service.ledger.engine, ttl_s=60.0, max_keys=2, clock=Clock())
    first, second, third = (service.tokens[role] for role in ("admin", "producer", "auditor"))
    for token in (first, second):
        assert cache.authenticate(token) is not None
    assert cache.cached(first) not in (None, False)  # first is now the most recently used
    assert cache.authenticate(third) is not None  # a third row pushes out the least recently used: second
    assert cache.cached(second) is False  # must be read again
    assert cache.cached(first) not in (None, False)
    assert cache.cached(third) not in (None, False)


def test_a_row_is_trusted_until_ttl_after_its_read_began(service: Service) -> None:
    clock = Clock()
    cache = PrincipalCache(service.ledger.engine, ttl_s=1.0, clock=clock)
    token = service.tokens["auditor"]
    assert cache.authenticate(token) is not None
    clock.now += 0.999
    assert cache.cached(token) not in (None, False)
    clock.now += 0.001
    assert cache.cached(token) is False


def test_no_row_is_kept_when_the_ttl_is_zero(service: Service) -> None:
    cache = PrincipalCache(service.ledger.engine, ttl_s=0.0, clock=Clock())
    token = service.tokens["auditor"]
    assert cache.authenticate(token) is not None
    assert cache.cached(token) is False


def test_unknown_key_ids_and_malformed_tokens_are_refused_and_not_cached(service: Service) -> None:
    cache = PrincipalCache(service.ledger.engine, ttl_s=60.0, clock=Clock())
    parts = split_token(service.tokens["auditor"])
    assert parts is not None
    key_id, _ = parts
    unknown = service.tokens["auditor"].replace(key_id, f"{key_id[:-1]}{'0' if key_id[-1] != '0' else '1'}")
    assert cache.authenticate(unknown) is None
    assert cache.cached(unknown) is False
    assert cache.cached("not-a-token") is None
