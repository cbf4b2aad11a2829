"""The gate against a remote govledger service: lineage facts in, the evaluation out.

The model and data never leave the CI machine; only their hashes and the rule results travel.
Any failure to reach the service, or a refusal by it, is `GateServiceError` (exit 4), carrying
the server's machine-readable error so CI logs say why.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import ValidationError

from ledger.wire import EvaluationContext
from policies.facts import LineageFacts

__all__ = ["GateServiceError", "RemoteLedger"]


class GateServiceError(Exception):
    """The service was unreachable or refused the request."""


class RemoteLedger:
    def __init__(self, server: str, api_key: str, *, timeout: float = 30.0) -> None:
        self._client = httpx.Client(
            base_url=server.rstrip("/"), headers={"Authorization": f"Bearer {api_key}"}, timeout=timeout
        )

    def close(self) -> None:
        self._client.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise GateServiceError(f"service {self._client.base_url} unreachable: {exc}") from None

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return self._answer(method, path, self._send(method, path, **kwargs))

    @staticmethod
    def _answer(method: str, path: str, response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                detail = error["message"] + "".join(f"; {e.get('msg')}" for e in error.get("errors", [])[:3])
            except (ValueError, KeyError, TypeError):
                detail = response.text[:300]
            raise GateServiceError(f"service refused {method} {path} ({response.status_code}): {detail}")
        result: dict[str, Any] = response.json()
        return result

    def facts(self, artifact_sha256: str, data_sha256: str) -> LineageFacts:
        data = self._call(
            "GET", "/v1/evaluation-context", params={"artifact_sha256": artifact_sha256, "data_sha256": data_sha256}
        )
        try:
            context = EvaluationContext.model_validate(data)
        except ValidationError as exc:
            raise GateServiceError(f"service {self._client.base_url} sent no evaluation context: {exc}") from None
        return LineageFacts.from_wire(context)

    def get_or_none(self, path: str) -> dict[str, Any] | None:
        """GET a resource; None if the service answers 404."""
        response = self._send("GET", path)
        return None if response.status_code == 404 else self._answer("GET", path, response)

    def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", path, json=payload)

    def record(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/v1/evaluations", json=payload)
