"""`python -m ledger.cli`: the same as the `govledger` command."""

from ledger.cli import main

main()
