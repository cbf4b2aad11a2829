from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.api import Ledger
from ledger.config import Settings
from ledger.lineage import open_governance_ledger
from ledger.sequencer import CheckpointPolicy


@pytest.fixture
def gov(db_url: str, home: Path) -> Iterator[Ledger]:
    """An initialised ledger with the lineage kinds, rules and projections."""
    opened = open_governance_ledger(
        Settings(database_url=db_url, home=home), policy=CheckpointPolicy(after_batch=True, max_delay_s=None)
    )
    opened.init(origin="lineage.example/log")
    try:
        yield opened
    finally:
        opened.close()
