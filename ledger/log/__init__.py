"""The log core: canonical encoding, entries, the RFC 9162 Merkle tree, signed notes and checkpoints,
signing keys and the entry-kind registry.
"""
