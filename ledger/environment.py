"""The GOVLEDGER_* variables, read and checked by pydantic-settings (`ledger.config.Settings.from_env`
asks for them, and imports this module only then: pydantic-settings adds 0.02-0.07 s to
`import govledger.cli` even after the ledger's own pydantic models, measured on 2 cores)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ledger.config import DEFAULT_KEY_CACHE_S, DEFAULT_MAX_BATCH_BODY_BYTES, DEFAULT_MAX_BODY_BYTES
from ledger.errors import InvalidInputError
from ledger.log.entry import DEFAULT_MAX_ENTRY_BYTES

__all__ = ["Environment", "read_environment"]


def _variable(name: str, *, gt: float | None = None, ge: float | None = None) -> Any:
    """A field read from the variable `name` (exactly), a finite number above `gt` (or at least `ge`)."""
    return Field(validation_alias=AliasChoices(name), gt=gt, ge=ge, allow_inf_nan=False)


class Environment(BaseSettings):
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
    # NoDecode: pydantic-settings would otherwise demand JSON for a list; a comma-separated list is
    # what people write in CI variables, so both are accepted (see `_type_names`).
    gate_trusted_types: Annotated[
        tuple[str, ...], NoDecode, Field(validation_alias=AliasChoices("GOVLEDGER_GATE_TRUSTED_TYPES"))
    ] = ()

    @field_validator("gate_trusted_types", mode="before")
    @classmethod
    def _type_names(cls, value: Any) -> Any:
        """`a.B,c.D` or `["a.B", "c.D"]`; blanks around names are dropped."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise ValueError("not a JSON array") from None
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError("not a JSON array of strings")
            return tuple(v.strip() for v in value if v.strip())
        return tuple(part.strip() for part in text.split(",") if part.strip())


_BOUNDS = {"greater_than": "positive", "greater_than_equal": "zero or positive"}


def _refusal(error: ValidationError) -> InvalidInputError:
    """The first bad variable, named with the value it holds (one line, as the CLI prints it)."""
    first = error.errors()[0]
    name, raw = first["loc"][0], first["input"]
    bound = _BOUNDS.get(first["type"])
    if bound is not None:
        return InvalidInputError(f"${name} must be {bound}, got {raw!r}")
    if name == "GOVLEDGER_GATE_TRUSTED_TYPES":
        return InvalidInputError(f"${name} must be type names, comma-separated or a JSON array, got {raw!r}")
    if first["type"] == "finite_number":
        return InvalidInputError(f"${name} must be a finite number, got {raw!r}")
    return InvalidInputError(f"${name} must be a number, got {raw!r}")


def read_environment(env: Mapping[str, str] | None = None) -> Environment:
    """From the process environment, or from `env` alone when given (validated the same way)."""
    try:
        if env is None:
            return Environment()
        return Environment.model_validate({name: value for name, value in env.items() if value != ""})
    except ValidationError as exc:
        raise _refusal(exc) from None
