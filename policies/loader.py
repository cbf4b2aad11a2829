"""Load a policy from a YAML file or a shipped pack, keeping the exact text and its SHA-256.

The hash is of the file's bytes as published, so an evaluation's `policy.sha256` names exactly
the text a reader can fetch from the log and re-read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from policies.results import MetricInputError
from policies.schema import Policy

__all__ = ["PACKS_DIR", "LoadedPolicy", "PolicyError", "available_packs", "load_policy", "parse_policy"]

PACKS_DIR = Path(__file__).parent / "packs"


class PolicyError(MetricInputError):
    """The policy file is missing, not YAML, or not a valid policy (exit 2 / HTTP 422). Its one
    finding has type `policy_text`, so an API client can tell a bad policy from a bad request."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, errors or [{"loc": ["policy"], "msg": message, "type": "policy_text"}])


@dataclass(frozen=True)
class LoadedPolicy:
    policy: Policy
    text: str
    sha256: str
    source: str


def available_packs() -> list[str]:
    return sorted(p.stem for p in PACKS_DIR.glob("*.yaml"))


def parse_policy(text: str, *, source: str = "<text>") -> LoadedPolicy:
    """Validate policy text; errors name the rule and field at fault."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML: {exc}".replace("\n", " ")) from None
    if not isinstance(raw, dict):
        raise PolicyError(f"{source}: a policy is a YAML mapping with name, version and rules")
    try:
        policy = Policy.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "policy"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise PolicyError(f"{source}: {where}: {first['msg']}{more}") from None
    return LoadedPolicy(policy, text, hashlib.sha256(text.encode("utf-8")).hexdigest(), source)


def load_policy(file_or_pack: str) -> LoadedPolicy:
    """A path to a YAML file, or the name of a shipped pack (e.g. `four-fifths`)."""
    path = Path(file_or_pack)
    if not path.exists() and (PACKS_DIR / f"{file_or_pack}.yaml").exists():
        path = PACKS_DIR / f"{file_or_pack}.yaml"
    if not path.is_file():
        raise PolicyError(
            f"policy {file_or_pack!r} is neither a file nor a shipped pack ({', '.join(available_packs())})"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read policy {path}: {exc}") from None
    return parse_policy(text, source=str(path))
