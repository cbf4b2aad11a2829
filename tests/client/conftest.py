"""A real govledger service on 127.0.0.1 (uvicorn in a background thread) over a real ledger
(SQLite and PostgreSQL), with one API key per role, for the client SDK's tests. The app is built
as the composition root builds it (`service_routers()`: the policy and report endpoints too), so
the client is tested against every operation the deployed service publishes.

The server can be stopped and started again on the same port (`LiveServer.stop`/`start`), so
tests can take the service away while a `DecisionLogger` is sending.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from govledger.registry import open_ledger
from govledger.service import service_routers
from ledger.access.api_keys import create_api_key
from ledger.api import Ledger, local_actor
from ledger.client import GovledgerClient
from ledger.config import Settings
from ledger.service import create_app
from ledger.storage.sequencer import CheckpointPolicy

ROLES = ("admin", "producer", "ci", "approver", "auditor")
MAX_BODY = 64 * 1024
MAX_BATCH_BODY = 1024 * 1024


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    app: FastAPI
    ledger: Ledger
    tokens: dict[str, str]
    port: int
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    _clients: list[GovledgerClient] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self._server is None, "already running"
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            loop="asyncio",
            http="h11",
            ws="none",
            lifespan="on",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name=f"uvicorn-{self.port}", daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                raise RuntimeError(f"uvicorn did not start on port {self.port}")
            time.sleep(0.01)
        self._server, self._thread = server, thread

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(15)
        assert not self._thread.is_alive(), "uvicorn did not stop"
        self._server = self._thread = None

    def client(self, role: str, **kwargs: Any) -> GovledgerClient:
        client = GovledgerClient(self.url, self.tokens[role], timeout=kwargs.pop("timeout", 5.0), **kwargs)
        self._clients.append(client)
        return client

    def close_clients(self) -> None:
        for client in self._clients:
            client.close()


@pytest.fixture
def live(db_url: str, home: Path) -> Iterator[LiveServer]:
    ledger = open_ledger(
        Settings(database_url=db_url, home=home), policy=CheckpointPolicy(after_batch=True, max_delay_s=None)
    )
    ledger.init(origin="client.example/log")
    tokens = {}
    for role in ROLES:
        tokens[role], _ = create_api_key(ledger, name=f"{role}-key", role=role, actor=local_actor())
    app = create_app(ledger=ledger, max_body=MAX_BODY, max_batch_body=MAX_BATCH_BODY, routers=service_routers())
    server = LiveServer(app, ledger, tokens, free_port())
    server.start()
    try:
        yield server
    finally:
        server.close_clients()
        server.stop()
        ledger.close()


class GatedTransport(httpx.BaseTransport):
    """Holds every POST /v1/decisions until `gate` is set (to fill a logger's queue)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.gate = threading.Event()
        self.entered = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v1/decisions":
            self.entered.set()
            self.gate.wait(15)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class LosingTransport(httpx.BaseTransport):
    """Delivers the first `lose` POST /v1/decisions to the server, then loses the answer (as a
    connection reset after the server committed would): the client sees a ReadError."""

    def __init__(self, lose: int) -> None:
        self.inner = httpx.HTTPTransport()
        self.lose = lose
        self.lost = 0
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST" and request.url.path == "/v1/decisions":
            with self.lock:
                losing = self.lost < self.lose and response.status_code in (200, 201)
                self.lost += losing
            if losing:
                response.read()
                response.close()
                raise httpx.ReadError("connection reset by peer (simulated)", request=request)
        return response

    def close(self) -> None:
        self.inner.close()
