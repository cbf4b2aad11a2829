"""Exit codes and the one place where domain errors become a one-line message and an exit code."""

from __future__ import annotations

import sys
from typing import NoReturn

from ledger.errors import CorruptLedgerError, GovledgerError, InvalidInputError

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "exit_code_for", "fail", "one_line", "report_error"]

EXIT_OK = 0
EXIT_FAILED = 1  # verification found tampering, or stored data is corrupt
EXIT_USAGE = 2  # bad usage or bad input; nothing was written


def exit_code_for(error: GovledgerError) -> int:
    return EXIT_FAILED if isinstance(error, CorruptLedgerError) else EXIT_USAGE


def one_line(error: GovledgerError) -> str:
    message = " ".join(str(error).split())
    if isinstance(error, InvalidInputError) and error.errors:
        details = "; ".join(
            f"{'.'.join(str(part) for part in item.get('loc', [])) or 'input'}: {item.get('msg', '')}"
            for item in error.errors[:3]
        )
        message = f"{message} ({details})"
    return message


def report_error(message: str) -> None:
    """The one line a failed command prints on standard error."""
    sys.stderr.write(f"govledger: error: {message}\n")


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    report_error(message)
    raise SystemExit(code)
