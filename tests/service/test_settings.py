"""The service's limits and key cache come from the environment (GOVLEDGER_*), as documented."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ledger.access.api_keys import split_token
from ledger.api import local_actor
from ledger.config import Settings
from ledger.errors import InvalidInputError
from ledger.service import create_app
from tests.lineage.factories import dataset
from tests.service.conftest import Service

pytestmark = pytest.mark.anyio


def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")  # type: ignore[arg-type]


async def test_body_limit_and_key_cache_come_from_the_environment(service: Service, home: Path) -> None:
    env = {"GOVLEDGER_MAX_BODY_BYTES": "2048", "GOVLEDGER_KEY_CACHE_SECONDS": "0"}
    app = create_app(Settings.from_env(env, cwd=home), ledger=service.ledger)
    size = service.ledger.size
    async with _client(app) as client:
        small = await client.post("/v1/datasets", json=dataset("small"), headers=service.headers("producer"))
        assert small.status_code == 201, small.text
        big = await client.post(
            "/v1/datasets", json=dataset("big", description="x" * 3000), headers=service.headers("producer")
        )
        assert big.status_code == 413
        assert big.json()["error"]["code"] == "payload_too_large"
        assert service.ledger.size == size + 1
        parts = split_token(service.tokens["auditor"])
        assert parts is not None
        service.ledger.append("access.key_revoked", {"key_id": parts[0], "reason": "left"}, actor=local_actor())
        revoked = await client.get("/v1/datasets", headers=service.headers("auditor"))
        assert revoked.status_code == 401  # GOVLEDGER_KEY_CACHE_SECONDS=0: the row is read every time


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GOVLEDGER_MAX_BODY_BYTES", "0"),
        ("GOVLEDGER_MAX_BODY_BYTES", "big"),
        ("GOVLEDGER_MAX_BATCH_BODY_BYTES", "-1"),
        ("GOVLEDGER_KEY_CACHE_SECONDS", "-1"),
        ("GOVLEDGER_KEY_CACHE_SECONDS", "nan"),
    ],
)
def test_bad_service_settings_are_refused_with_their_name(name: str, value: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=name):
        Settings.from_env({name: value}, cwd=tmp_path)
