"""How `DecisionLogger` puts dropped decisions on the record: one tally per reason, reported as
`decisions.dropped` entries through ``POST /v1/decisions/dropped``.

Why a module of its own: dropping is never silent. Every drop is counted at once, under the
logger's lock, in the tally of its reason (count, first and last drop time, the service's or the
logger's message, the first few decision ids); tallies are reported at most every
`report_interval` seconds, and always by `flush()` and `close()`. A report that cannot be
delivered is kept and merged into the next round, unless the service refused it (a 4xx: it would
refuse again); `dropped - dropped_reported` is what no entry accounts for.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ledger.client.api import ClientError, ServiceUnavailable
from ledger.client.logger_core import Item, LoggerCore, log

__all__ = ["DropReporting", "DropTally", "utc_text"]

_MAX_REASON = 5000  # DecisionsDropped.reason
_IDS_IN_REASON = 20


@dataclass
class DropTally:
    """Drops of one reason not yet reported."""

    count: int
    first: datetime
    last: datetime
    message: str
    ids: list[str] = field(default_factory=list)

    def add(self, ids: Sequence[str], when: datetime) -> None:
        self.count += len(ids)
        self.first = min(self.first, when)
        self.last = max(self.last, when)
        room = _IDS_IN_REASON - len(self.ids)
        if room > 0:
            self.ids.extend(ids[:room])

    def merge(self, other: DropTally) -> None:
        self.count += other.count
        self.first = min(self.first, other.first)
        self.last = max(self.last, other.last)
        self.ids = (other.ids + self.ids)[:_IDS_IN_REASON]

    def reason(self, category: str) -> str:
        shown = ", ".join(self.ids)
        more = f" (+{self.count - len(self.ids)} more)" if self.count > len(self.ids) else ""
        text = f"{category}: {self.message}; decision ids: {shown}{more}"
        return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 3] + "..."


def utc_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class DropReporting(LoggerCore):
    """Counting drops and reporting them (the report state is set by `DecisionLogger.__init__`)."""

    _dropped_reported: int
    _reports_started: int  # report rounds begun / finished: a flush waits for a round that
    _reports_done: int  # began after it, when drops are waiting to be reported
    _unreported: dict[str, DropTally]
    _last_report: float

    def _drop(self, part: Sequence[Item], category: str, message: str) -> None:
        log.warning("DecisionLogger %s: dropping %d decisions: %s: %s", self.client_id, len(part), category, message)
        self._record_drop(category, message, [decision_id for decision_id, _ in part], settled=True)

    def _record_drop(self, category: str, message: str, ids: Sequence[str], *, settled: bool) -> None:
        now = datetime.now(UTC)
        with self._changed:
            self._dropped += len(ids)
            if settled:
                self._settled += len(ids)
            tally = self._unreported.get(category)
            if tally is None:
                self._unreported[category] = tally = DropTally(0, now, now, message)
            tally.add(ids, now)
            self._changed.notify_all()

    def _maybe_report(self) -> None:
        if not self._unreported:
            return
        if self._urgent() or time.monotonic() - self._last_report >= self.report_interval:
            self._report(final=False)

    def _report(self, *, final: bool) -> None:
        """One `decisions.dropped` entry per reason; what cannot be delivered is kept for later."""
        with self._changed:
            pending, self._unreported = self._unreported, {}
            self._reports_started += 1
        self._last_report = time.monotonic()
        for category, tally in pending.items():
            try:
                self._report_one(category, tally, retries=not final or not self._abort.is_set())
            except Exception as exc:
                # Kept for the next round unless the service refused it (a 4xx: it would refuse again).
                keep = not isinstance(exc, ClientError) or isinstance(exc, ServiceUnavailable)
                log.error(
                    "DecisionLogger %s: could not report %d dropped decisions (%s)%s",
                    self.client_id,
                    tally.count,
                    exc,
                    "; will try again" if keep and not final else "",
                )
                if keep:
                    with self._changed:
                        earlier = self._unreported.setdefault(category, tally)
                        if earlier is not tally:
                            earlier.merge(tally)
            else:
                with self._changed:
                    self._dropped_reported += tally.count
        with self._changed:
            self._reports_done += 1
            self._changed.notify_all()

    def _report_one(self, category: str, tally: DropTally, *, retries: bool) -> None:
        def report() -> None:
            self.client.record_dropped(
                client_id=self.client_id,
                count=tally.count,
                first_dropped_at=utc_text(tally.first),
                last_dropped_at=utc_text(tally.last),
                reason=tally.reason(category),
            )

        if retries:
            self._with_retries(report, f"reporting {tally.count} dropped decisions")
        else:
            report()
