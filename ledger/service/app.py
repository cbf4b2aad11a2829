"""`create_app(settings)`: builds the service. Nothing connects or reads the environment at import
time; the ledger is opened in the lifespan (or passed in by tests) and kept in `app.state`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from ledger.api import Ledger
from ledger.config import DEFAULT_KEY_CACHE_S, DEFAULT_MAX_BATCH_BODY_BYTES, DEFAULT_MAX_BODY_BYTES, Settings
from ledger.errors import GovledgerError
from ledger.kinds.registry import KindRegistry
from ledger.lineage import open_governance_ledger
from ledger.service import routes_decisions, routes_drops, routes_graph, routes_lineage, routes_log
from ledger.service.batch_turns import BatchTurns
from ledger.service.errors import install_error_handlers
from ledger.service.gc_tuning import tune_for_serving
from ledger.service.group_commit import DecisionBatcher
from ledger.service.limits import BodySizeLimit
from ledger.service.principals import PrincipalCache

__all__ = ["DESCRIPTION", "create_app", "sign_committed_tail"]

log = logging.getLogger(__name__)

DESCRIPTION = """Every write is one entry of an append-only, Merkle-proven, signed log.
Authenticate with `Authorization: Bearer <API key>` (create keys with `govledger keys create`).

**Lists and cursors.** Every list is ordered by the sequence number (`seq`) of the entry behind
each item, oldest first, and answers `{"items": [...], "next_after": N}`: pass `next_after` back
as `after` for the next page; it is `null` on the last page. `limit` is 1 to 1000 (default 100).
The cursor is keyset, not an offset: pages stay stable while entries are appended.
Two lists differ, and keep their response fields because clients depend on them:
`GET /v1/evaluations` is newest first (CI and risk officers want a model's latest evaluation
first), so it answers `next_before`, passed back as `before` (older items have a smaller `seq`);
`GET /v1/policies` is not paged (policies are few; it answers every one and the `active` one).

**Time ranges.** `since` (inclusive) and `until` (exclusive) filter the lists of datasets, runs,
models, approvals, decisions and entries on the time the entry was recorded in the log, as UTC
`YYYY-MM-DDTHH:MM:SS(.ffffff)Z` (`...:00Z` is `...:00.000000Z`). A time that is not in that form
or not in the calendar, or `until` before `since`, is 422.

**Errors** have one body, `{"error": {"code", "message", "errors": [{"loc", "msg", "type"}]}}`:
401 without a valid key, 403 for a role that may not act, 404 for an unknown id, 409 for a
state conflict, 413 for a body over the limit (however sent), 415 for a body that is not JSON in
UTF-8, 422 for bad input (JSON nested too deeply or a number too long to read included); none of
them writes anything. Each operation lists the ones it can return.
"""


def sign_committed_tail(ledger: Ledger) -> None:
    """Sign the entries a crash left committed but unsigned, or refuse loudly (an error in the log).

    Why: after a `kill -9` between an append's commit and its checkpoint, `GET /v1/entries/N`
    answered `inclusion_proof: null` until another write arrived; now the tail is covered as the
    service starts. The sequencer checks the tail before it signs (`ledger.storage.tail_check`):
    a tail it refuses stays unsigned, the service still starts (reads and `verify` must work),
    and `Ledger.signing_refused` says why."""
    head = ledger.head
    if head.size <= head.checkpoint_size:
        return
    try:
        signed = ledger.checkpoint()
    except GovledgerError as refused:  # the tail check, or no signing key on this host
        log.error("the unsigned tail %d..%d was not signed: %s", head.checkpoint_size, head.size - 1, refused)
        return
    log.info("signed the committed tail %d..%d at start-up", head.checkpoint_size, signed.size - 1)


def create_app(
    settings: Settings | None = None,
    *,
    ledger: Ledger | None = None,
    max_body: int | None = None,
    max_batch_body: int | None = None,
    routers: Sequence[APIRouter] = (),
    key_cache_s: float | None = None,
    registry: KindRegistry | None = None,
) -> FastAPI:
    """The HTTP service over one ledger (opened from `settings` with `registry`, or the one given).
    `routers` are the policy and report endpoints and `registry` the full kind registry, passed in
    by the composition root (`govledger.cli`, `govledger.registry`).
    The limits and `key_cache_s` (how long a key's stored row is trusted before it is read again,
    see `ledger.service.principals`) come from `settings` unless given here."""
    if max_body is None:
        max_body = settings.max_body_bytes if settings else DEFAULT_MAX_BODY_BYTES
    if max_batch_body is None:
        max_batch_body = settings.max_batch_body_bytes if settings else DEFAULT_MAX_BATCH_BODY_BYTES
    if ledger is None and registry is None:
        raise TypeError("create_app needs the ledger, or the kind registry to open it with (govledger.registry)")
    cache_s = key_cache_s if key_cache_s is not None else settings.key_cache_s if settings else DEFAULT_KEY_CACHE_S

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = ledger is None
        if ledger is None:
            assert registry is not None
            app.state.ledger = open_governance_ledger(settings or Settings.from_env(), registry=registry)
        else:
            app.state.ledger = ledger
        app.state.decision_batcher = DecisionBatcher(app.state.ledger)
        app.state.batch_turns = BatchTurns()
        app.state.principals = PrincipalCache(app.state.ledger.engine, ttl_s=cache_s)
        if owned:  # a serving process (tests pass their ledger in and keep the interpreter's defaults)
            tune_for_serving()
            sign_committed_tail(app.state.ledger)
        try:
            yield
        finally:
            if owned:
                app.state.ledger.close()

    app = FastAPI(
        title="govledger",
        version="0.1.0",
        summary="Governance and compliance audit ledger for ML systems",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    if ledger is not None:
        app.state.ledger = ledger
        app.state.decision_batcher = DecisionBatcher(ledger)
        app.state.batch_turns = BatchTurns()
        app.state.principals = PrincipalCache(ledger.engine, ttl_s=cache_s)
    install_error_handlers(app)
    app.include_router(routes_log.router)
    app.include_router(routes_lineage.router)
    app.include_router(routes_decisions.router)
    app.include_router(routes_graph.router)
    app.include_router(routes_drops.router)
    for router in routers:
        app.include_router(router)
    app.add_middleware(BodySizeLimit, default_limit=max_body, larger={"/v1/decisions": max_batch_body})
    return app
