"""Settings from the environment, read when asked (never at import time), overridable by CLI options.

| variable | meaning | default |
|---|---|---|
| GOVLEDGER_DATABASE_URL | sqlite:///FILE or postgresql://… | sqlite file `govledger.db` in the working directory |
| GOVLEDGER_HOME | keys and local state | `.govledger` in the working directory |
| GOVLEDGER_SIGNING_KEY | the checkpoint key itself (PRIVATE+KEY+…), instead of the key file | unset |
| GOVLEDGER_CHECKPOINT_INTERVAL | seconds between checkpoints while entries arrive | 0.5 |
| GOVLEDGER_CHECKPOINT_EVERY | also checkpoint once this many entries are uncovered | 100000 |
| GOVLEDGER_MAX_ENTRY_BYTES | largest accepted entry | 1048576 |
| GOVLEDGER_MAX_BODY_BYTES | largest HTTP request body (413 above it) | 1048576 |
| GOVLEDGER_MAX_BATCH_BODY_BYTES | largest body of POST /v1/decisions (up to 10,000 decisions) | 33554432 |
| GOVLEDGER_KEY_CACHE_SECONDS | how long the service trusts an API key's row before reading it again | 1 (0: never) |
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from ledger.errors import InvalidInputError
from ledger.log.entry import DEFAULT_MAX_ENTRY_BYTES
from ledger.storage.db import default_url
from ledger.storage.sequencer import CheckpointPolicy

__all__ = ["DEFAULT_KEY_CACHE_S", "DEFAULT_MAX_BATCH_BODY_BYTES", "DEFAULT_MAX_BODY_BYTES", "Settings"]


DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_MAX_BATCH_BODY_BYTES = 32 * 1024 * 1024  # a batch of up to 10,000 decisions
DEFAULT_KEY_CACHE_S = 1.0


def _number(
    env: Mapping[str, str], name: str, default: float, kind: type[int] | type[float], *, zero_ok: bool = False
) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except (ValueError, OverflowError):
        raise InvalidInputError(f"${name} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
        raise InvalidInputError(f"${name} must be {'zero or ' if zero_ok else ''}positive, got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str
    home: Path
    max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES
    checkpoint_policy: CheckpointPolicy = field(default_factory=CheckpointPolicy)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_batch_body_bytes: int = DEFAULT_MAX_BATCH_BODY_BYTES
    key_cache_s: float = DEFAULT_KEY_CACHE_S

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
        env = os.environ if env is None else env
        cwd = cwd or Path.cwd()
        policy = CheckpointPolicy(
            every_entries=int(_number(env, "GOVLEDGER_CHECKPOINT_EVERY", 100_000, int)),
            max_delay_s=float(_number(env, "GOVLEDGER_CHECKPOINT_INTERVAL", 0.5, float)),
        )
        return cls(
            database_url=env.get("GOVLEDGER_DATABASE_URL") or default_url(cwd),
            home=Path(env.get("GOVLEDGER_HOME") or cwd / ".govledger"),
            max_entry_bytes=int(_number(env, "GOVLEDGER_MAX_ENTRY_BYTES", DEFAULT_MAX_ENTRY_BYTES, int)),
            checkpoint_policy=policy,
            max_body_bytes=int(_number(env, "GOVLEDGER_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, int)),
            max_batch_body_bytes=int(_number(env, "GOVLEDGER_MAX_BATCH_BODY_BYTES", DEFAULT_MAX_BATCH_BODY_BYTES, int)),
            key_cache_s=float(_number(env, "GOVLEDGER_KEY_CACHE_SECONDS", DEFAULT_KEY_CACHE_S, float, zero_ok=True)),
        )

    def with_overrides(self, *, database_url: str | None = None, home: Path | None = None) -> Settings:
        return replace(self, database_url=database_url or self.database_url, home=home or self.home)
