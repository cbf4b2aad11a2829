"""Settings from the environment, read when asked (never at import time), overridable by CLI options.

| variable | meaning | default |
|---|---|---|
| GOVLEDGER_DATABASE_URL | sqlite:///FILE or postgresql://… | sqlite file `govledger.db` in the working directory |
| GOVLEDGER_HOME | keys and local state | `.govledger` in the working directory |
| GOVLEDGER_SIGNING_KEY | the checkpoint key itself (PRIVATE+KEY+…), instead of the key file | unset |
| GOVLEDGER_CHECKPOINT_INTERVAL | seconds between checkpoints while entries arrive | 0.5 |
| GOVLEDGER_CHECKPOINT_EVERY | also checkpoint once this many entries are uncovered | 100000 |
| GOVLEDGER_MAX_ENTRY_BYTES | largest accepted entry | 1048576 |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from ledger.db import default_url
from ledger.entry import DEFAULT_MAX_ENTRY_BYTES
from ledger.errors import InvalidInputError
from ledger.sequencer import CheckpointPolicy

__all__ = ["Settings"]


def _number(env: Mapping[str, str], name: str, default: float, kind: type[int] | type[float]) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise InvalidInputError(f"${name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise InvalidInputError(f"${name} must be positive, got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str
    home: Path
    max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES
    checkpoint_policy: CheckpointPolicy = field(default_factory=CheckpointPolicy)

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
        )

    def with_overrides(self, *, database_url: str | None = None, home: Path | None = None) -> Settings:
        return replace(self, database_url=database_url or self.database_url, home=home or self.home)
