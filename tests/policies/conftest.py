"""Real Adult data and two real models (trained once per session), and a ledger that knows them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.api import Ledger
from ledger.config import Settings
from ledger.entry import Actor
from ledger.lineage import open_governance_ledger
from ledger.sequencer import CheckpointPolicy
from policies.adult import PreparedAdult, prepare_adult_csvs
from policies.adult_lineage import register_adult_datasets, register_trained_model
from policies.artifacts import save_model
from policies.training import train_baseline, train_mitigated

DATA_SCIENTIST = Actor("key:ds1", "dana (data scientist)")


@dataclass(frozen=True)
class AdultModels:
    prepared: PreparedAdult
    baseline: Path
    mitigated: Path


@pytest.fixture(scope="session")
def adult_models(tmp_path_factory: pytest.TempPathFactory) -> AdultModels:
    import pandas as pd

    directory = tmp_path_factory.mktemp("adult")
    prepared = prepare_adult_csvs(directory)
    train = pd.read_csv(prepared.train.path)
    baseline, mitigated = directory / "baseline.skops", directory / "mitigated.skops"
    save_model(train_baseline(train, seed=0), baseline)
    save_model(train_mitigated(train, seed=0), mitigated)
    return AdultModels(prepared, baseline, mitigated)


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
