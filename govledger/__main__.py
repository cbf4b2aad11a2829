"""`python -m govledger`: the same as the `govledger` command."""

from govledger.cli import main

main()
