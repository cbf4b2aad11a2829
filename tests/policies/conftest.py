"""Real Adult data and two real models (trained once per session), and a ledger that knows them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.api import Ledger
from ledger.config import Settings
from ledger.entry import Actor
from ledger.lineage import open_governance_ledger
from ledger.sequencer import CheckpointPolicy
from policies.adult_lineage import register_adult_datasets, register_trained_model
from tests.conftest import AdultModels

DATA_SCIENTIST = Actor("key:ds1", "dana (data scientist)")


@pytest.fixture
def gov(db_url: str, home: Path) -> Iterator[Ledger]:
    opened = open_governance_ledger(
        Settings(database_url=db_url, home=home), policy=CheckpointPolicy(after_batch=True, max_delay_s=None)
    )
    opened.init(origin="policies.example/log")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def adult_ledger(gov: Ledger, adult_models: AdultModels) -> Ledger:
    """Adult datasets, and both models registered with their training runs."""
    ids = register_adult_datasets(gov, adult_models.prepared, actor=DATA_SCIENTIST)
    for name, path in (("baseline", adult_models.baseline), ("mitigated", adult_models.mitigated)):
        register_trained_model(
            gov,
            name=f"income-{name}",
            version="1",
            model_path=path,
            run_id=f"run-{name}",
            train_dataset=ids["train"],
            parameters={"seed": 0, "kind": name},
            actor=DATA_SCIENTIST,
        )
    return gov
