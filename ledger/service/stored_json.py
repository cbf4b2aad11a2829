"""Answers that carry stored payloads as the stored bytes, not re-encoded.

Why: a payload already in the log can nest deeper than pydantic's serializer allows (about 255
levels; the ledger accepted 254-deep run parameters before free-form JSON had a depth limit), and
re-encoding it made every read that touched it a 500, forever, since the log cannot be changed.
Here each record's `data` is validated and serialized as a placeholder object holding a random
token, and the stored `data` bytes (`ledger.log.entry.stored_data_json`) replace the placeholder
in the encoded answer in one pass. The token is fresh per answer, so nothing a caller stored can
match it. The response model is unchanged (the OpenAPI description still names it).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel

from ledger.log.entry import ENTRY_VERSION, stored_data_json

__all__ = ["stored_payload_response"]


class _Splicer:
    def __init__(self) -> None:
        self._token = secrets.token_hex(16)
        self._held: list[bytes] = []
        self._pattern = re.compile(rb'\{"glraw-' + self._token.encode() + rb'-([0-9]+)":0\}')

    def hold(self, item: dict[str, Any]) -> dict[str, Any]:
        """`item` with its `data` swapped for a placeholder, if the stored bytes can be found."""
        raw: bytes | None = item.get("data_json")
        if raw is None and isinstance(item.get("body"), str):  # an entry: its members are beside the body
            envelope = {**item, "v": ENTRY_VERSION}
            raw = stored_data_json(item["body"].encode("utf-8"), envelope)
        if raw is None:
            return item
        self._held.append(raw)
        return {**item, "data": {f"glraw-{self._token}-{len(self._held) - 1}": 0}}

    def splice(self, encoded: bytes) -> bytes:
        if not self._held:
            return encoded
        return self._pattern.sub(lambda match: self._held[int(match[1])], encoded)


def stored_payload_response(model: type[BaseModel], value: dict[str, Any], *, status_code: int = 200) -> Response:
    """`value` (one record or entry with `data`, or a page `{"items": [...], ...}`) validated as
    `model` and encoded, with each `data` given as its stored bytes."""
    splicer = _Splicer()
    if isinstance(value.get("items"), list):
        value = {**value, "items": [splicer.hold(item) for item in value["items"]]}
    else:
        value = splicer.hold(value)
    encoded = model.model_validate(value).model_dump_json().encode("utf-8")
    return Response(splicer.splice(encoded), status_code=status_code, media_type="application/json")
