"""Console sessions on SQLite and PostgreSQL: expiry, sign-out, revocation, and what is stored."""

from __future__ import annotations

from sqlalchemy import select

from ledger.access.api_keys import create_api_key
from ledger.access.sessions import SessionStore
from ledger.access.tables import console_sessions
from ledger.api import Ledger, local_actor


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_lives_until_its_expiry_and_stores_only_a_hash(gov: Ledger) -> None:
    ledger = gov
    key, _ = create_api_key(ledger, name="officer", role="approver", actor=local_actor())
    clock = Clock()
    store = SessionStore(ledger.engine, lifetime_s=60, clock=clock)
    signed = store.sign_in(key)
    assert signed is not None
    token, session = signed
    assert session.principal.name == "officer" and store.resolve(token) is not None
    with ledger.engine.connect() as conn:
        stored = conn.execute(select(console_sessions)).all()
    assert len(stored) == 1 and token.encode() not in bytes(stored[0].token_sha256) and key not in repr(stored)
    clock.now += 59
    assert store.resolve(token) is not None
    clock.now += 1
    assert store.resolve(token) is None


def test_sign_out_and_revocation_end_a_session(gov: Ledger) -> None:
    ledger = gov
    key, _ = create_api_key(ledger, name="auditor", role="auditor", actor=local_actor())
    store = SessionStore(ledger.engine)
    first, second = store.sign_in(key), store.sign_in(key)
    assert first is not None and second is not None
    store.sign_out(first[0])
    assert store.resolve(first[0]) is None and store.resolve(second[0]) is not None
    key_id = key.split("_")[1]
    ledger.append("access.key_revoked", {"key_id": key_id, "reason": "left the firm"}, actor=local_actor())
    assert store.resolve(second[0]) is None


def test_a_bad_key_gets_no_session_and_csrf_tokens_differ_per_session(gov: Ledger) -> None:
    ledger = gov
    key, _ = create_api_key(ledger, name="officer", role="approver", actor=local_actor())
    store = SessionStore(ledger.engine)
    assert store.sign_in("glk_0123456789abcdef_" + "x" * 43) is None
    assert store.sign_in("not a key") is None
    a, b = store.sign_in(key), store.sign_in(key)
    assert a is not None and b is not None
    assert a[1].csrf_token != b[1].csrf_token
    assert SessionStore.csrf_matches(a[0], a[1].csrf_token) and not SessionStore.csrf_matches(a[0], b[1].csrf_token)
    assert not SessionStore.csrf_matches(a[0], None)
