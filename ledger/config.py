"""Settings from the environment, read when asked (never at import time), overridable by CLI options.

The variables are read and checked by pydantic-settings (`ledger.environment`); a bad value is
refused naming the variable and the value.

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
| GOVLEDGER_GATE_TRUSTED_TYPES | model-file types the gate trusts beyond its libraries (`a.B,c.D` or JSON) | none |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from ledger.log.entry import DEFAULT_MAX_ENTRY_BYTES
from ledger.storage.db import default_url
from ledger.storage.sequencer import CheckpointPolicy

__all__ = ["DEFAULT_KEY_CACHE_S", "DEFAULT_MAX_BATCH_BODY_BYTES", "DEFAULT_MAX_BODY_BYTES", "Settings"]


DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_MAX_BATCH_BODY_BYTES = 32 * 1024 * 1024  # a batch of up to 10,000 decisions
DEFAULT_KEY_CACHE_S = 1.0


@dataclass(frozen=True)
class Settings:
    database_url: str
    home: Path
    max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES
    checkpoint_policy: CheckpointPolicy = field(default_factory=CheckpointPolicy)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_batch_body_bytes: int = DEFAULT_MAX_BATCH_BODY_BYTES
    key_cache_s: float = DEFAULT_KEY_CACHE_S
    gate_trusted_types: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
        """The settings the environment (or `env`, instead of it) gives; defaults relative to `cwd`."""
        from ledger.environment import read_environment  # pydantic-settings: imported when asked

        read = read_environment(env)
        cwd = cwd or Path.cwd()
        return cls(
            database_url=read.database_url or default_url(cwd),
            home=read.home or cwd / ".govledger",
            max_entry_bytes=read.max_entry_bytes,
            checkpoint_policy=CheckpointPolicy(
                every_entries=read.checkpoint_every, max_delay_s=read.checkpoint_interval
            ),
            max_body_bytes=read.max_body_bytes,
            max_batch_body_bytes=read.max_batch_body_bytes,
            key_cache_s=read.key_cache_s,
            gate_trusted_types=read.gate_trusted_types,
        )

    def with_overrides(self, *, database_url: str | None = None, home: Path | None = None) -> Settings:
        return replace(self, database_url=database_url or self.database_url, home=home or self.home)
