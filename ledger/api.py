"""`Ledger`: the Python API the CLI, the service, the policy engine and the reports use.

It owns the engine, the sequencer, the signing key and the background checkpointer; every
method opens its own transaction. Payloads are validated against the kind registry and
encoded before anything is written.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from ledger.config import Settings
from ledger.errors import (
    ConflictError,
    CorruptLedgerError,
    InvalidInputError,
    NotFoundError,
    PromotionBlockedError,
    SigningKeyError,
    StaleSigningKeyError,
)
from ledger.kinds.core import core_registry
from ledger.kinds.registry import KindRegistry
from ledger.kinds.spec import SYSTEM_ONLY
from ledger.log import checkpoint as cp
from ledger.log.entry import Actor, Draft, Entry, check_item, decode_body, entry_from_row, make_draft
from ledger.log.note import Signer, Verifier, generate_signer
from ledger.log.signing_keys import (
    SIGNING_KEY_ENV,
    KeyRing,
    KeyRingError,
    key_path,
    load_current_signer,
    load_signer,
    rotation_statement,
    write_new_key_file,
)
from ledger.storage import proofs, store
from ledger.storage.background_signer import BackgroundCheckpointer
from ledger.storage.db import create_engine
from ledger.storage.migrations import upgrade_to_head
from ledger.storage.sequencer import AppendHook, CheckpointPolicy, Receipt, Sequencer
from ledger.verification.log_check import VerifyReport, verify_log

__all__ = ["SOFTWARE", "SYSTEM_ACTOR", "Ledger", "local_actor"]

log = logging.getLogger(__name__)
SOFTWARE = "govledger/0.1.0"
SYSTEM_ACTOR = Actor("system", "govledger")


def local_actor() -> Actor:
    """The operating-system user running a local command."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return Actor(f"local:{user}", user)


class Ledger:
    def __init__(
        self,
        engine: Engine,
        *,
        home: Path,
        registry: KindRegistry | None = None,
        policy: CheckpointPolicy | None = None,
        max_entry_bytes: int = 1024 * 1024,
        hooks: Sequence[AppendHook] = (),
    ) -> None:
        """`registry`: the kinds this ledger appends (their checks and projections run in every
        append's transaction); without one, only the core log's kinds. `hooks` run after it."""
        self.engine = engine
        self.home = home
        self.registry = registry if registry is not None else core_registry()
        self.policy = policy or CheckpointPolicy()
        self.max_entry_bytes = max_entry_bytes
        self._sequencer = Sequencer(
            engine, signer=None, policy=self.policy, hooks=[self.registry.project_batch, *hooks]
        )
        delay = self.policy.max_delay_s
        self._checkpointer = (
            None
            if delay is None
            else BackgroundCheckpointer(self._sequencer, lambda: self._ensure_signer(reload=True), delay / 2)
        )
        self._lock = threading.Lock()

    # -- opening and closing -------------------------------------------------------------
    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        home: Path | None = None,
        migrate: bool = True,
        policy: CheckpointPolicy | None = None,
        registry: KindRegistry | None = None,
        hooks: Sequence[AppendHook] = (),
    ) -> Ledger:
        """Open (and by default migrate) the ledger at `url`; defaults come from the environment."""
        settings = Settings.from_env().with_overrides(database_url=url, home=home)
        return cls.from_settings(settings, migrate=migrate, policy=policy, registry=registry, hooks=hooks)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        migrate: bool = True,
        policy: CheckpointPolicy | None = None,
        registry: KindRegistry | None = None,
        hooks: Sequence[AppendHook] = (),
    ) -> Ledger:
        engine = create_engine(settings.database_url)
        if migrate:
            upgrade_to_head(engine)
        return cls(
            engine,
            home=settings.home,
            registry=registry,
            policy=policy or settings.checkpoint_policy,
            max_entry_bytes=settings.max_entry_bytes,
            hooks=hooks,
        )

    def close(self) -> None:
        """Stop the checkpointer and cover the newest entries with a final checkpoint."""
        if self._checkpointer is not None:
            self._checkpointer.stop()
        if self._sequencer.signer is not None:
            try:
                self._sequencer.checkpoint()
            except Exception:  # closing must not fail; the next writer's checkpoint covers the tail
                log.warning("could not sign the final checkpoint on close", exc_info=True)
        self._sequencer.close()
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextlib.contextmanager
    def write_transaction(self) -> Iterator[Connection]:
        """A transaction holding the sequencer lock (no append can interleave); commits on success."""
        with self._sequencer.write_transaction() as conn:
            store.lock_head(conn)
            yield conn

    @contextlib.contextmanager
    def read_snapshot(self) -> Iterator[Connection]:
        """A read transaction that sees one snapshot (REPEATABLE READ on PostgreSQL; SQLite's WAL read)."""
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    # -- keys --------------------------------------------------------------------------
    def _ensure_signer(self, *, reload: bool = False) -> Signer:
        """The current signing key, loaded once (or again after another writer rotated it)."""
        with self._lock:
            signer = self._sequencer.signer
            if signer is None or reload:
                signer = load_current_signer(self.home, self.key_ring())
                self._sequencer.signer = signer
            return signer

    def key_ring(self) -> KeyRing:
        """The checkpoint keys, read from the log's `log.created` and `key.rotated` entries."""
        with self.read_snapshot() as conn:
            store.read_head(conn)  # NotInitializedError before anything else
            rows = store.entries_of_kinds(conn, ("log.created", "key.rotated"))
        try:
            return KeyRing.from_entries((seq, decode_body(body)) for seq, body, _ in rows)
        except (KeyRingError, ValueError) as exc:
            raise CorruptLedgerError(f"the key ring in the log is unreadable ({exc}): run `govledger verify`") from exc

    # -- writing -----------------------------------------------------------------------
    def init(self, origin: str | None = None, *, actor: Actor = SYSTEM_ACTOR) -> Receipt:
        """Create the log: a signing key (unless one is provided) and entry 0, `log.created`."""
        env_key = os.environ.get(SIGNING_KEY_ENV)
        signer: Signer | None
        if env_key:
            signer = load_signer(self.home, origin=None)
            if origin is not None and origin != signer.name:
                raise InvalidInputError(f"${SIGNING_KEY_ENV} is a key for {signer.name!r}, not {origin!r}")
            origin = signer.name
        else:
            origin = origin or f"govledger.local/{uuid.uuid4().hex[:12]}"
            signer = load_signer(self.home, origin) if key_path(self.home, origin).is_file() else None
        new_key_file = None
        if signer is None:  # a new key is on disk (mode 0600) before the log that names it exists
            signer = generate_signer(origin)
            new_key_file = key_path(self.home, origin)
            write_new_key_file(new_key_file, signer)
        try:
            genesis = self._draft(
                "log.created",
                {"origin": origin, "key": signer.verifier.vkey, "software": SOFTWARE},
                actor=actor,
                subject=None,
                internal=True,
            )
            self._sequencer.signer = signer
            try:
                return self._sequencer.initialize(origin, genesis)
            except IntegrityError as exc:  # another process initialised it at the same moment
                raise ConflictError("this ledger is already initialised") from exc
        except BaseException:
            self._sequencer.signer = None
            if new_key_file is not None:
                new_key_file.unlink(missing_ok=True)  # the key of a log that was never created
            raise

    def _draft(self, kind: str, data: Any, *, actor: Actor, subject: str | None, internal: bool = False) -> Draft:
        """Validate against the kind's declaration (unknown kinds are refused), derive the subject,
        and encode; the validated payload model travels with the draft to the kind's checks."""
        spec = self.registry.spec(kind)
        if spec.writers is SYSTEM_ONLY and not internal:
            raise InvalidInputError(
                f"kind {kind!r} is written by govledger itself",
                [{"loc": ["kind"], "msg": "reserved kind", "type": "reserved_kind"}],
            )
        payload = self.registry.validate(kind, data)
        derived = spec.subject_of(payload)
        if derived is not None:
            if subject not in (None, derived):
                raise InvalidInputError(
                    f"subject of a {kind} entry is {derived!r}",
                    [{"loc": ["subject"], "msg": f"must be {derived!r} or omitted", "type": "subject"}],
                )
            subject = derived
        # the model travels only to kinds with checks: keeping thousands of decision models alive
        # until the batch commits costs the bulk path garbage-collector time for nothing (measured)
        kept = payload if spec.checks else None
        return make_draft(kind, data, actor=actor, subject=subject, max_entry_bytes=self.max_entry_bytes, payload=kept)

    def append(self, kind: str, data: Mapping[str, Any], *, actor: Actor, subject: str | None = None) -> Receipt:
        """Append one entry (one transaction)."""
        return self.append_many([{"kind": kind, "data": data, "subject": subject}], actor=actor)[0]

    def append_many(
        self,
        items: Iterable[Mapping[str, Any]],
        *,
        actor: Actor,
        in_transaction: Callable[[Connection], None] | None = None,
    ) -> list[Receipt]:
        """Append a batch of ``{"kind", "data", "subject"?}`` in one transaction: all or nothing.

        Every item is validated first; an error names the item's position and nothing is written.
        `in_transaction` writes what belongs to the batch beside the log, in the same transaction
        (see `Sequencer.append`).
        """
        drafts: list[Draft] = []
        for position, item in enumerate(items):
            try:
                kind, data, subject = check_item(item)
                drafts.append(self._draft(kind, data, actor=actor, subject=subject))
            except InvalidInputError as exc:
                raise InvalidInputError(
                    f"entry {position}: {exc}", [{**e, "loc": [position, *e["loc"]]} for e in exc.errors]
                ) from None
        if not drafts:
            return []
        try:
            receipts = self._append_drafts(drafts, in_transaction)
        except PromotionBlockedError as blocked:
            self._record_refusal(blocked, actor)
            raise
        if self._checkpointer is not None:
            self._checkpointer.start()
        return receipts

    def _append_drafts(
        self, drafts: Sequence[Draft], in_transaction: Callable[[Connection], None] | None = None
    ) -> list[Receipt]:
        self._ensure_signer()
        try:
            return self._sequencer.append(drafts, in_transaction=in_transaction)
        except StaleSigningKeyError:  # another writer rotated the key: load the new one, then retry once
            self._ensure_signer(reload=True)
            return self._sequencer.append(drafts, in_transaction=in_transaction)

    def _record_refusal(self, blocked: PromotionBlockedError, actor: Actor) -> None:
        """Put a promotion the gate refused on the record: its `promotion.refused` entry, appended
        by govledger (the kind is system-only) with the requester as its actor, in a transaction of
        its own once the refused batch's has rolled back; `blocked.recorded_seq` is its seq. Here,
        in the one append path, so the HTTP route, the Python API, the CLI and the client (which
        goes through the route) all record it, before the 409 is answered or raised.

        Only the gate's refusals get here: a request refused as unauthenticated, unauthorised or
        malformed never reaches the gate (no append runs), so no one can write through a refusal.
        A retry of a refused request is recorded again, on purpose: each attempt is an event (who
        asked, when, under which evidence), the API has no idempotency key that would make two
        attempts one, and only the kind's writers (approvers) can cause one, each attempt naming
        them. The reasons are the ledger as the refused transaction read it; an entry appended
        between the rollback and this append does not change them. If this append fails, its
        error is raised instead of the 409 (nothing was promoted; the refusal is not on the record)."""
        if blocked.refusal is None or blocked.record_kind not in self.registry:
            return
        draft = self._draft(blocked.record_kind, blocked.refusal, actor=actor, subject=None, internal=True)
        blocked.recorded_seq = self._append_drafts([draft])[0].seq
        if self._checkpointer is not None:
            self._checkpointer.start()

    @property
    def signing_refused(self) -> str | None:
        """Why the last attempt to sign a checkpoint was refused (the unsigned tail failed its
        check, `ledger.storage.tail_check`), or None."""
        return self._sequencer.refusal

    def checkpoint(self) -> cp.SignedCheckpoint:
        """Sign a checkpoint of the current tree now (or return the newest if it already covers it)."""
        self._ensure_signer()
        try:
            self._sequencer.checkpoint()
        except StaleSigningKeyError:
            self._ensure_signer(reload=True)
            self._sequencer.checkpoint()
        latest = self.latest_checkpoint()
        if latest is None:
            raise CorruptLedgerError("no checkpoint is stored although one was just signed")
        return latest

    def rotate_key(self, *, actor: Actor, reason: str | None = None) -> Receipt:
        """Replace the checkpoint key: a `key.rotated` entry signed by old and new key."""
        if os.environ.get(SIGNING_KEY_ENV):
            raise SigningKeyError(
                f"the key comes from ${SIGNING_KEY_ENV}; rotate with a key file "
                "(unset the variable), then distribute the new key yourself"
            )
        old = self._ensure_signer()
        ring = self.key_ring()
        new = generate_signer(ring.origin)
        path = key_path(self.home, ring.origin)
        pending = path.with_suffix(".key.new")
        pending.unlink(missing_ok=True)
        write_new_key_file(pending, new)
        data: dict[str, Any] = {
            "old_key": old.verifier.vkey,
            "new_key": new.verifier.vkey,
            "statement": rotation_statement(ring.origin, old, new),
        }
        if reason:
            data["reason"] = reason
        draft = self._draft("key.rotated", data, actor=actor, subject=None, internal=True)
        receipt = self._sequencer.append([draft], rotate_to=new)  # the log's key switches at this commit
        pending.replace(path)
        self._sequencer.checkpoint()
        return receipt[0]

    # -- reading -----------------------------------------------------------------------
    @property
    def head(self) -> store.Head:
        with self.read_snapshot() as conn:
            return store.read_head(conn)

    @property
    def size(self) -> int:
        return self.head.size

    def get(self, seq: int) -> Entry:
        with self.read_snapshot() as conn:
            row = store.fetch_entry_row(conn, seq)
        if row is None:
            raise NotFoundError(f"entry {seq} does not exist")
        return entry_from_row(seq, *row)

    def entries(
        self, *, start: int = 0, limit: int = 100, kind: str | None = None, subject: str | None = None
    ) -> list[Entry]:
        with self.read_snapshot() as conn:
            rows = store.entry_rows_from(conn, start=start, limit=limit, kind=kind, subject=subject)
        return [entry_from_row(seq, body, leaf) for seq, body, leaf in rows]

    def root(self, size: int | None = None) -> bytes:
        with self.read_snapshot() as conn:
            head = store.read_head(conn)
            return proofs.root_at(conn, head.size if size is None else size)

    def inclusion_proof(self, seq: int, size: int | None = None) -> proofs.InclusionProof:
        with self.read_snapshot() as conn:
            return proofs.inclusion_proof(conn, seq, size)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> proofs.ConsistencyProof:
        with self.read_snapshot() as conn:
            return proofs.consistency_proof(conn, old_size, new_size)

    def latest_checkpoint(self) -> cp.SignedCheckpoint | None:
        with self.read_snapshot() as conn:
            stored = store.latest_checkpoint(conn)
        return None if stored is None else cp.parse_unverified(stored.note)

    def checkpoint_covering(self, size: int) -> cp.SignedCheckpoint | None:
        """The newest checkpoint, if it covers at least `size` entries."""
        latest = self.latest_checkpoint()
        return latest if latest is not None and latest.size >= size else None

    def verify(
        self,
        *,
        deep: bool = True,
        against: str | None = None,
        trusted_keys: list[Verifier] | None = None,
        progress: Any = None,
    ) -> VerifyReport:
        """Verify the log in one snapshot. `trusted_keys` (pinned out of band) must be in the key
        ring, so a log rebuilt wholesale under another key is caught even without a saved checkpoint."""
        with self.read_snapshot() as conn:
            return verify_log(conn, deep=deep, against=against, trusted_keys=trusted_keys, progress=progress)
