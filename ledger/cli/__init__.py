"""The `govledger` command line (typer + rich). `main` is the console-script entry point."""

from ledger.cli.app import app, main

__all__ = ["app", "main"]
