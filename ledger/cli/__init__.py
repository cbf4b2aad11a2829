"""The ledger's own command modules (init, append, verify, proofs, packs, serve): each is a module-level
Typer app that the composition root (`govledger.cli`) mounts; they can be tested on their own."""
