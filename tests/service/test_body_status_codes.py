"""Hostile bodies get the status that names what is wrong, on every route that reads JSON (issue 15,
item 2): 413 over the limit however the body is sent, 422 for JSON nested past the parser's limit
or numbers too long to read, 415 for a body that is not UTF-8. None of them writes anything."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.service.conftest import Service

pytestmark = pytest.mark.anyio

# Every route that reads a JSON body (path parameters need not exist: the body is refused first).
JSON_ROUTES = [
    "/v1/datasets",
    "/v1/runs",
    "/v1/models",
    "/v1/models/m/1/promotions",
    "/v1/models/m/1/retirement",
    "/v1/approvals",
    "/v1/decisions/d-1/reviews",
    "/v1/decisions/d-1/appeals",
    "/v1/decisions",
    "/v1/decisions/dropped",
    "/v1/policies",
    "/v1/evaluations",
]


async def chunks(total: int, size: int = 16 * 1024) -> AsyncIterator[bytes]:
    yield b'{"x":"'
    for _ in range(total // size):
        yield b"a" * size
    yield b'"}'


async def post(client: httpx.AsyncClient, service: Service, url: str, **kwargs: object) -> httpx.Response:
    headers = {**service.headers("admin"), "Content-Type": "application/json"}
    return await client.post(url, headers=headers, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["/v1/runs", "/v1/decisions", "/v1/policies"])
async def test_an_over_limit_body_sent_chunked_is_413(client: httpx.AsyncClient, service: Service, url: str) -> None:
    size = service.ledger.size
    over = 33 * 1024 * 1024 if url == "/v1/decisions" else 128 * 1024  # past the 32 MiB batch limit, the 64 KiB one
    response = await post(client, service, url, content=chunks(over))
    assert "content-length" not in response.request.headers  # really sent chunked
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"
    assert service.ledger.size == size


@pytest.mark.parametrize("url", JSON_ROUTES)
async def test_json_nested_past_the_parser_limit_is_422(client: httpx.AsyncClient, service: Service, url: str) -> None:
    size = service.ledger.size
    response = await post(client, service, url, content=b"[" * 5000 + b"]" * 5000)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_input"
    assert service.ledger.size == size


@pytest.mark.parametrize("url", JSON_ROUTES)
async def test_a_5001_digit_integer_is_422(client: httpx.AsyncClient, service: Service, url: str) -> None:
    size = service.ledger.size
    response = await post(client, service, url, content=b'{"n":' + b"7" * 5001 + b"}")
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_input"
    assert service.ledger.size == size


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
@pytest.mark.parametrize("url", JSON_ROUTES)
async def test_a_body_that_is_not_utf8_is_415(
    client: httpx.AsyncClient, service: Service, url: str, encoding: str
) -> None:
    size = service.ledger.size
    response = await post(client, service, url, content='{"dataset_id": "d"}'.encode(encoding))
    assert response.status_code == 415, response.text
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert service.ledger.size == size
