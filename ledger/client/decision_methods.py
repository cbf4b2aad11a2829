"""`GovledgerClient` methods for decisions: recording them (one, a batch, or pre-encoded for
`DecisionLogger`), reading and tracing them, human reviews, drop reports and subject erasure.

Why a module of its own: this is the hot path of a scoring service, where idempotency matters
(a retried decision id comes back as a duplicate, never a second entry), and the audit path of
an individual decision (its trace and the proof pack that verifies offline).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

from ledger.client.results import BatchResult, DecisionReceipt, ErasureReceipt, Receipt, RecordPage, parse
from ledger.client.transport import MAX_PAGE, ClientBase, TimeArg, query_params, segment, utc_timestamp

__all__ = ["DecisionMethods", "encode_decision"]


def encode_decision(decision: Mapping[str, Any]) -> bytes:
    """One decision as compact JSON bytes (NaN and infinities refused: JSON has none)."""
    return json.dumps(dict(decision), separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


class DecisionMethods(ClientBase):
    def record_decision(self, decision: Mapping[str, Any]) -> DecisionReceipt:
        """Record one decision (the service fills in the model's lineage and seals `input`).
        A retry of a recorded decision id comes back with ``duplicate=True``."""
        return parse(DecisionReceipt, self._post("/v1/decisions", dict(decision)))

    def record_decisions(self, decisions: Sequence[Mapping[str, Any]]) -> BatchResult:
        """Record a batch (up to 10,000) in one transaction: all or nothing, except that decision
        ids already recorded with the same content are skipped and returned as duplicates."""
        if isinstance(decisions, Mapping):
            raise TypeError("record_decisions takes a list of decisions; use record_decision for one")
        if not decisions:
            raise ValueError("no decisions to record")
        return parse(BatchResult, self._post("/v1/decisions", [dict(d) for d in decisions]))

    def record_encoded_decisions(self, encoded: Sequence[bytes]) -> BatchResult:
        """`record_decisions` for decisions already encoded as JSON objects (one bytes each), sent
        as one JSON array; used by `DecisionLogger`, which encodes each decision once when logged."""
        if not encoded:
            raise ValueError("no decisions to record")
        body = b"[" + b",".join(encoded) + b"]"
        return parse(BatchResult, self._request("POST", "/v1/decisions", content=body))

    def get_decision(self, decision_id: str) -> dict[str, Any]:
        """One decision record (its input stays sealed)."""
        return self._get_object(f"/v1/decisions/{segment(decision_id)}")

    def list_decisions(
        self,
        *,
        model: str | None = None,
        subject_ref: str | None = None,
        outcome: str | None = None,
        adverse: bool | None = None,
        since: TimeArg | None = None,
        until: TimeArg | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> RecordPage:
        """Decisions filtered by model (``name`` or ``name@version``), subject, outcome, adverse,
        and the time they were recorded in the log (``since`` inclusive, ``until`` exclusive)."""
        return parse(
            RecordPage,
            self._get(
                "/v1/decisions",
                model=model,
                subject_ref=subject_ref,
                outcome=outcome,
                adverse=adverse,
                since=None if since is None else utc_timestamp(since),
                until=None if until is None else utc_timestamp(until),
                after=after,
                limit=limit,
            ),
        )

    def iter_decisions(
        self,
        *,
        model: str | None = None,
        subject_ref: str | None = None,
        outcome: str | None = None,
        adverse: bool | None = None,
        since: TimeArg | None = None,
        until: TimeArg | None = None,
        after: int | None = None,
        page_size: int = MAX_PAGE,
    ) -> Iterator[dict[str, Any]]:
        return self._iterate(
            lambda cursor: self.list_decisions(
                model=model,
                subject_ref=subject_ref,
                outcome=outcome,
                adverse=adverse,
                since=since,
                until=until,
                after=cursor,
                limit=page_size,
            ),
            after,
        )

    def decision_trace(self, decision_id: str) -> dict[str, Any]:
        """Everything behind one decision: ``{"trace": {...}, "pack": {...}}``. The parsed `pack`
        is re-encoded by any JSON parser; to verify it offline, use `decision_trace_pack`."""
        return self._get_object(f"/v1/decisions/{segment(decision_id)}/trace")

    def decision_trace_pack(self, decision_id: str) -> bytes:
        """The proof pack of a decision's trace, as the exact (canonical) bytes the service sent, for
        `govledger verify-pack` (save them unchanged)."""
        return self._send("GET", f"/v1/decisions/{segment(decision_id)}/trace/pack").content

    def review_decision(
        self,
        decision_id: str,
        outcome: Literal["accepted", "overridden", "reversed"],
        *,
        reviewed_at: TimeArg,
        override_reason: str | None = None,
        new_decision: str | None = None,
        appeal_id: str | None = None,
    ) -> Receipt:
        """Record a human review of a decision (`decision.reviewed`; approvers); `appeal_id`: the
        appeal it answers."""
        body: dict[str, Any] = {"outcome": outcome, "reviewed_at": utc_timestamp(reviewed_at)}
        if override_reason is not None:
            body["override_reason"] = override_reason
        if new_decision is not None:
            body["new_decision"] = new_decision
        if appeal_id is not None:
            body["appeal_id"] = appeal_id
        return parse(Receipt, self._post(f"/v1/decisions/{segment(decision_id)}/reviews", body))

    def appeal_decision(
        self,
        decision_id: str,
        appeal_id: str,
        *,
        received_at: TimeArg,
        channel: str,
        grounds: str,
        requests: Sequence[Literal["human_review", "correction", "explanation"]],
    ) -> Receipt:
        """Record the subject's appeal against a decision (`decision.appealed`; producers, approvers)."""
        body = {
            "appeal_id": appeal_id,
            "received_at": utc_timestamp(received_at),
            "channel": channel,
            "grounds": grounds,
            "requests": list(requests),
        }
        return parse(Receipt, self._post(f"/v1/decisions/{segment(decision_id)}/appeals", body))

    def list_appeals(self, decision_id: str, *, after: int | None = None, limit: int = 100) -> RecordPage:
        """The appeals against one decision, oldest first; NotFoundError if the decision is not recorded."""
        return parse(RecordPage, self._get(f"/v1/decisions/{segment(decision_id)}/appeals", after=after, limit=limit))

    def list_reviews(self, decision_id: str, *, after: int | None = None, limit: int = 100) -> RecordPage:
        """The human reviews of one decision, oldest first (reviewer in ``recorded_by``, outcome,
        and the full review in ``data``); NotFoundError if the decision is not recorded."""
        return parse(RecordPage, self._get(f"/v1/decisions/{segment(decision_id)}/reviews", after=after, limit=limit))

    def iter_reviews(
        self, decision_id: str, *, after: int | None = None, page_size: int = MAX_PAGE
    ) -> Iterator[dict[str, Any]]:
        return self._iterate(lambda cursor: self.list_reviews(decision_id, after=cursor, limit=page_size), after)

    def record_dropped(
        self, *, client_id: str, count: int, first_dropped_at: TimeArg, last_dropped_at: TimeArg, reason: str
    ) -> Receipt:
        """Put on the record that this client dropped `count` decisions (`decisions.dropped`)."""
        body = {
            "client_id": client_id,
            "count": count,
            "first_dropped_at": utc_timestamp(first_dropped_at),
            "last_dropped_at": utc_timestamp(last_dropped_at),
            "reason": reason,
        }
        return parse(Receipt, self._post("/v1/decisions/dropped", body))

    def erase_subject(self, subject_ref: str, *, reason: str, legal_basis: str | None = None) -> Receipt:
        """Erase a subject's personal data (crypto-shredding; admin only). The log stays verifiable."""
        body = self._request(
            "DELETE",
            f"/v1/subjects/{segment(subject_ref)}",
            params=query_params(reason=reason, legal_basis=legal_basis),
        )
        erased = parse(ErasureReceipt, body)
        return Receipt(erased.seq, erased.ts, erased.leaf_hash, "subject.erased")
