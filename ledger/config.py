"""Settings from the environment, read when asked (never at import time), overridable by CLI options.

The variables are read and checked by pydantic-settings (`_Environment`); a bad value is refused
naming the variable and the value.

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

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.errors import InvalidInputError
from ledger.log.entry import DEFAULT_MAX_ENTRY_BYTES
from ledger.storage.db import default_url
from ledger.storage.sequencer import CheckpointPolicy

__all__ = ["DEFAULT_KEY_CACHE_S", "DEFAULT_MAX_BATCH_BODY_BYTES", "DEFAULT_MAX_BODY_BYTES", "Settings"]


DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_MAX_BATCH_BODY_BYTES = 32 * 1024 * 1024  # a batch of up to 10,000 decisions
DEFAULT_KEY_CACHE_S = 1.0


def _variable(name: str, *, gt: float | None = None, ge: float | None = None) -> Any:
    """A field read from the variable `name` (exactly), a finite number above `gt` (or at least `ge`)."""
    return Field(validation_alias=AliasChoices(name), gt=gt, ge=ge, allow_inf_nan=False)


class _Environment(BaseSettings):
    """The GOVLEDGER_* variables, parsed and checked by pydantic-settings; empty means unset."""

    model_config = SettingsConfigDict(case_sensitive=True, env_ignore_empty=True, extra="ignore", frozen=True)

    database_url: Annotated[str | None, Field(validation_alias=AliasChoices("GOVLEDGER_DATABASE_URL"))] = None
    home: Annotated[Path | None, Field(validation_alias=AliasChoices("GOVLEDGER_HOME"))] = None
    checkpoint_every: Annotated[int, _variable("GOVLEDGER_CHECKPOINT_EVERY", gt=0)] = 100_000
    checkpoint_interval: Annotated[float, _variable("GOVLEDGER_CHECKPOINT_INTERVAL", gt=0)] = 0.5
    max_entry_bytes: Annotated[int, _variable("GOVLEDGER_MAX_ENTRY_BYTES", gt=0)] = DEFAULT_MAX_ENTRY_BYTES
    max_body_bytes: Annotated[int, _variable("GOVLEDGER_MAX_BODY_BYTES", gt=0)] = DEFAULT_MAX_BODY_BYTES
    max_batch_body_bytes: Annotated[int, _variable("GOVLEDGER_MAX_BATCH_BODY_BYTES", gt=0)] = (
        DEFAULT_MAX_BATCH_BODY_BYTES
    )
    key_cache_s: Annotated[float, _variable("GOVLEDGER_KEY_CACHE_SECONDS", ge=0)] = DEFAULT_KEY_CACHE_S

    @classmethod
    def read(cls, env: Mapping[str, str] | None) -> _Environment:
        """From the process environment, or from `env` alone when given (validated the same way)."""
        try:
            if env is None:
                return cls()
            return cls.model_validate({name: value for name, value in env.items() if value != ""})
        except ValidationError as exc:
            raise _refusal(exc) from None


_BOUNDS = {"greater_than": "positive", "greater_than_equal": "zero or positive"}


def _refusal(error: ValidationError) -> InvalidInputError:
    """The first bad variable, named with the value it holds (one line, as the CLI prints it)."""
    first = error.errors()[0]
    name, raw = first["loc"][0], first["input"]
    bound = _BOUNDS.get(first["type"])
    if bound is not None:
        return InvalidInputError(f"${name} must be {bound}, got {raw!r}")
    if first["type"] == "finite_number":
        return InvalidInputError(f"${name} must be a finite number, got {raw!r}")
    return InvalidInputError(f"${name} must be a number, got {raw!r}")


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
        """The settings the environment (or `env`, instead of it) gives; defaults relative to `cwd`."""
        read = _Environment.read(env)
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
        )

    def with_overrides(self, *, database_url: str | None = None, home: Path | None = None) -> Settings:
        return replace(self, database_url=database_url or self.database_url, home=home or self.home)
