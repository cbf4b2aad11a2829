"""`GovledgerClient` methods for the log itself: entries, checkpoints and Merkle proofs.

Why a module of its own: these are what an auditor needs to check the ledger independently of
its projections (every entry with its inclusion proof, signed checkpoints, consistency between
two tree sizes), and they do not depend on what the entries are about.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ledger.client.results import RecordPage, parse
from ledger.client.transport import MAX_PAGE, ClientBase, TimeArg, utc_timestamp

__all__ = ["LogMethods"]


class LogMethods(ClientBase):
    def get_entry(self, seq: int) -> dict[str, Any]:
        """One entry, with its inclusion proof against the latest checkpoint (None if not yet covered)."""
        return self._get_object(f"/v1/entries/{int(seq)}")

    def list_entries(
        self,
        *,
        after: int | None = None,
        limit: int = 100,
        kind: str | None = None,
        subject: str | None = None,
        since: TimeArg | None = None,
        until: TimeArg | None = None,
    ) -> RecordPage:
        """Entries in sequence order, optionally of one kind or subject, and recorded in a time
        range (``since`` inclusive, ``until`` exclusive)."""
        return parse(
            RecordPage,
            self._get(
                "/v1/entries",
                after=after,
                limit=limit,
                kind=kind,
                subject=subject,
                since=None if since is None else utc_timestamp(since),
                until=None if until is None else utc_timestamp(until),
            ),
        )

    def iter_entries(
        self,
        *,
        after: int | None = None,
        kind: str | None = None,
        subject: str | None = None,
        since: TimeArg | None = None,
        until: TimeArg | None = None,
        page_size: int = MAX_PAGE,
    ) -> Iterator[dict[str, Any]]:
        """Every entry (optionally of one kind or subject, in a time range), following the cursor."""
        return self._iterate(
            lambda cursor: self.list_entries(
                after=cursor, limit=page_size, kind=kind, subject=subject, since=since, until=until
            ),
            after,
        )

    def checkpoint_latest(self) -> dict[str, Any]:
        """The newest signed checkpoint: origin, size, root (hex), note (C2SP signed note), keys."""
        return self._get_object("/v1/checkpoints/latest")

    def consistency_proof(self, old: int, new: int | None = None) -> dict[str, Any]:
        """Proof that the tree of size `old` is a prefix of the tree of size `new` (default: now)."""
        return self._get_object("/v1/proofs/consistency", old=old, new=new)

    def inclusion_proof(self, seq: int, size: int | None = None) -> dict[str, Any]:
        """Proof that entry `seq` is in the tree of `size` entries (default: the current size)."""
        return self._get_object(f"/v1/proofs/inclusion/{int(seq)}", size=size)
