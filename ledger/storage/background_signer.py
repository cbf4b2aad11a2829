"""The background checkpointer: signs a checkpoint when one is due although no append comes.

Why: appends sign checkpoints on their cadence, but the last entries of a burst would wait for
the next append; this thread asks every `max_delay_s / 2` so that an appended entry is covered
within about `max_delay_s` (the 1 s p99 promise). It never raises: a busy database or a key
rotated by another writer is retried next period, and so is a tail the sequencer refuses to sign
(`ledger.storage.tail_check`; logged once as an error, not every period).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.exc import OperationalError

from ledger.errors import StaleSigningKeyError
from ledger.storage.sequencer import Sequencer
from ledger.storage.tail_check import TailRefusedError

__all__ = ["BackgroundCheckpointer"]

log = logging.getLogger(__name__)


class BackgroundCheckpointer:
    def __init__(self, sequencer: Sequencer, reload_signer: Callable[[], object], period_s: float) -> None:
        self._sequencer = sequencer
        self._reload_signer = reload_signer
        self._period_s = period_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start once; later calls (every append makes one) do nothing."""
        if self._thread is not None or self._stop.is_set():
            return
        self._thread = threading.Thread(target=self._run, name="govledger-checkpointer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._period_s):
            try:
                self._sequencer.checkpoint(only_if_due=True)
            except StaleSigningKeyError:
                log.warning("the signing key was rotated by another writer; loading the current key")
                try:
                    self._reload_signer()
                except Exception:
                    log.exception("cannot load the current signing key")
            except TailRefusedError:  # logged by the sequencer, once; Ledger.signing_refused says why
                pass
            except OperationalError as exc:  # a busy database: try again next period
                log.warning("checkpoint deferred: %s", exc)
            except Exception:
                log.exception("background checkpoint failed")
