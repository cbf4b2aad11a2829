"""A governance ledger that knows the real Adult data and both trained models."""

from __future__ import annotations

import pytest

from ledger.api import Ledger
from ledger.log.entry import Actor
from tests.conftest import AdultModels, register_adult_models

DATA_SCIENTIST = Actor("key:ds1", "dana (data scientist)")


@pytest.fixture
def adult_ledger(gov: Ledger, adult_models: AdultModels) -> Ledger:
    """Adult datasets, and both models registered with their training runs."""
    register_adult_models(gov, adult_models, actor=DATA_SCIENTIST)
    return gov
