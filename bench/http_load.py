"""A lean HTTP/1.1 load generator for the service benchmark: N keep-alive connections on one
asyncio event loop, each sending its next request as soon as the previous answer is read.

Why not httpx: its client costs about 1 ms of CPU per request, so on this 2-core machine it, not
the server, capped the single-request figures (the trivial echo endpoint at ~1,250 requests/s).
This client writes pre-encoded request bytes and parses only the status line, the headers it
needs and the body: about 0.03-0.06 ms of client CPU per request, so the server is what is
measured. Every response is kept (status and body) and checked by the caller; a response this
parser does not understand (no Content-Length, chunked, a closed connection) is an error, never
a silent success.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["Answer", "encode_request", "run_connections"]


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


def encode_request(method: str, path: str, body: bytes | None, headers: dict[str, str]) -> bytes:
    """The wire bytes of one request (keep-alive, Content-Length framing)."""
    lines = [f"{method} {path} HTTP/1.1", "Host: bench"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


async def _read_answer(reader: asyncio.StreamReader) -> Answer:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection")
    status = int(status_line.split(b" ", 2)[1])
    length: int | None = None
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            raise ValueError(f"unexpected Transfer-Encoding {value.strip()!r}: this client needs Content-Length")
    if length is None:
        raise ValueError(f"response {status} has no Content-Length")
    return Answer(status, await reader.readexactly(length))


async def _connection(
    host: str, port: int, requests: Sequence[bytes], pending: Iterator[int], out: list[Answer]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for index in pending:  # one iterator shared by all connections: the next request not yet sent
            writer.write(requests[index])
            out[index] = await _read_answer(reader)
    finally:
        writer.close()
        await writer.wait_closed()


async def run_connections(
    base_url: str, requests: Sequence[bytes], connections: int, *, timeout_s: float = 600.0
) -> list[Answer]:
    """Send every request over `connections` keep-alive connections; the answers in request order.
    TimeoutError if the whole run takes longer than `timeout_s` (a stuck server)."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    pending = iter(range(len(requests)))
    out: list[Answer] = [Answer(0, b"")] * len(requests)
    async with asyncio.timeout(timeout_s):
        await asyncio.gather(*(_connection(host, port, requests, pending, out) for _ in range(connections)))
    return out
