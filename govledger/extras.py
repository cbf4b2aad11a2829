"""Which optional extra a command or a missing module needs, and the one line that says so.

The base install (`pip install govledger`) is the ledger, the service and the client; the gate
and the reports need extras (`govledger[gate]`, `govledger[reports]`), whose top-level modules are
listed in `EXTRA_MODULES` (numpy and pandas come with both). Their commands import the ML and PDF
libraries only when they run, so `--help` works without them, and `govledger.cli.main` turns a
missing one into one line naming the extra to install and exit code 2.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

__all__ = ["EXTRA_MODULES", "EXTRA_OF_COMMAND", "absent_module", "command_of", "install_hint", "missing_extra"]

EXTRA_MODULES = {
    "gate": ("numpy", "pandas", "sklearn", "fairlearn", "shap", "skops"),
    "reports": ("numpy", "pandas", "jinja2", "weasyprint", "matplotlib"),
}
# The extra each command needs beyond the base install (the demo runs the gate and writes every report).
EXTRA_OF_COMMAND = {"gate": "gate", "report": "reports", "demo": "all"}
_GLOBAL_OPTIONS_WITH_VALUE = ("--database-url", "--home")


def command_of(args: Sequence[str]) -> str | None:
    """The command named in `args` (the first word after the global options)."""
    words = iter(args)
    for arg in words:
        if arg in _GLOBAL_OPTIONS_WITH_VALUE:
            next(words, None)
        elif not arg.startswith("-"):
            return arg
    return None


def missing_extra(error: ModuleNotFoundError, args: Sequence[str] = ()) -> str | None:
    """The extra to install for the module `error` names (None: it is not a module of an extra);
    the command's own extra when that brings the module."""
    missing = (error.name or "").partition(".")[0]
    extras = [extra for extra, modules in EXTRA_MODULES.items() if missing in modules]
    if not extras:
        return None
    needed = EXTRA_OF_COMMAND.get(command_of(args) or "")
    if needed == "all" or needed in extras:
        return needed
    return extras[0] if len(extras) == 1 else "all"


def absent_module(extra: str) -> str | None:
    """The first module of `extra` that is not installed (looked up, not imported: cheap)."""
    extras = list(EXTRA_MODULES) if extra == "all" else [extra]
    modules = dict.fromkeys(module for name in extras for module in EXTRA_MODULES[name])
    return next((module for module in modules if importlib.util.find_spec(module) is None), None)


def install_hint(extra: str, missing: str | None) -> str:
    return f"this needs govledger[{extra}] ({missing} is not installed): pip install 'govledger[{extra}]'"
