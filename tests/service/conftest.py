"""The service on a real ledger (SQLite and PostgreSQL), called through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from govledger.registry import open_ledger
from govledger.service import service_routers
from ledger.access.api_keys import create_api_key
from ledger.api import Ledger, local_actor
from ledger.config import Settings
from ledger.service import create_app
from ledger.storage.sequencer import CheckpointPolicy

ROLES = ("admin", "producer", "ci", "approver", "auditor")


@dataclass
class Service:
    app: FastAPI
    ledger: Ledger
    tokens: dict[str, str]

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def service(db_url: str, home: Path) -> Iterator[Service]:
    ledger = open_ledger(
        Settings(database_url=db_url, home=home), policy=CheckpointPolicy(after_batch=True, max_delay_s=None)
    )
    ledger.init(origin="service.example/log")
    tokens = {}
    for role in ROLES:
        tokens[role], _ = create_api_key(ledger, name=f"{role}-key", role=role, actor=local_actor())
    try:
        yield Service(create_app(ledger=ledger, max_body=64 * 1024, routers=service_routers()), ledger, tokens)
    finally:
        ledger.close()


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
