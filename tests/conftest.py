"""Shared fixtures: real databases only.

`db_url` runs a test once on a fresh SQLite file and once on PostgreSQL (a schema of its own on
the server at $GOVLEDGER_TEST_PG_URL, default postgresql://postgres@127.0.0.1:5432/test). When
PostgreSQL is unreachable those runs are skipped, and the session ends with a loud banner
saying so. Set GOVLEDGER_REQUIRE_POSTGRES=1 to make them fail instead; neither .ci/run nor
`make test` sets it: .ci/run starts the local server if it is down, prints a warning if it is
still unreachable and runs `make test`, so there the PostgreSQL runs are skipped loudly, not failed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from govledger.demo.adult import PreparedAdult, prepare_adult_csvs
from govledger.demo.adult_lineage import register_adult_datasets, register_trained_model
from govledger.demo.training import train_baseline, train_mitigated
from govledger.registry import open_ledger
from ledger.api import Ledger, local_actor
from ledger.config import Settings
from ledger.log.entry import Actor
from ledger.storage.sequencer import CheckpointPolicy
from policies.artifacts import save_model

PG_URL = os.environ.get("GOVLEDGER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("GOVLEDGER_REQUIRE_POSTGRES") == "1"
_skipped_for_pg: list[str] = []


@cache
def postgres_error() -> str | None:
    """None when the PostgreSQL test server answers, else why not."""
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


def require_postgres(request: pytest.FixtureRequest) -> None:
    error = postgres_error()
    if error is None:
        return
    if REQUIRE_PG:
        pytest.fail(f"PostgreSQL is required (GOVLEDGER_REQUIRE_POSTGRES=1) but unreachable: {error}")
    _skipped_for_pg.append(request.node.nodeid)
    pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {error}")


@pytest.fixture
def pg_schema_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A URL whose connections live in a fresh schema (dropped afterwards)."""
    require_postgres(request)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
    else:
        yield request.getfixturevalue("pg_schema_url")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("GOVLEDGER_SIGNING_KEY", raising=False)
    return tmp_path / "home"


@pytest.fixture
def actor() -> Actor:
    return local_actor()


@pytest.fixture
def ledger(db_url: str, home: Path) -> Iterator[Ledger]:
    """An initialised ledger that checkpoints after every batch (deterministic for tests)."""
    opened = Ledger.open(db_url, home=home, policy=CheckpointPolicy(after_batch=True, max_delay_s=None))
    opened.init(origin="test.example/log")
    try:
        yield opened
    finally:
        opened.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _skipped_for_pg:
        bar = "!" * 78
        terminalreporter.write_line(bar, red=True, bold=True)
        terminalreporter.write_line(
            f"!! {len(_skipped_for_pg)} PostgreSQL tests were SKIPPED: no server at {PG_URL}", red=True, bold=True
        )
        terminalreporter.write_line(f"!! reason: {postgres_error()}", red=True, bold=True)
        terminalreporter.write_line(
            "!! start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start", red=True, bold=True
        )
        terminalreporter.write_line(bar, red=True, bold=True)


@dataclass(frozen=True)
class AdultModels:
    prepared: PreparedAdult
    baseline: Path
    mitigated: Path


@pytest.fixture
def gov(db_url: str, home: Path) -> Iterator[Ledger]:
    """An initialised ledger with the lineage and policy kinds, rules and projections."""
    opened = open_ledger(
        Settings(database_url=db_url, home=home), policy=CheckpointPolicy(after_batch=True, max_delay_s=None)
    )
    opened.init(origin="gov.example/log")
    try:
        yield opened
    finally:
        opened.close()


def register_adult_models(ledger: Ledger, models: AdultModels, *, actor: Actor) -> dict[str, str]:
    """The Adult datasets, and both models registered with their training runs; returns the dataset ids."""
    ids = register_adult_datasets(ledger, models.prepared, actor=actor)
    for name, path in (("baseline", models.baseline), ("mitigated", models.mitigated)):
        register_trained_model(
            ledger,
            name=f"income-{name}",
            version="1",
            model_path=path,
            run_id=f"run-{name}",
            train_dataset=ids["train"],
            parameters={"seed": 0, "kind": name},
            actor=actor,
        )
    return ids


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
