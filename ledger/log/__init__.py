"""The log core: canonical encoding, entries, the RFC 9162 Merkle tree, signed notes and checkpoints,
signing keys and the core payload schemas (the kind registry is `ledger.kinds`).
"""
