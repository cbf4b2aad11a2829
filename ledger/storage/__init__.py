"""Storage of the log: the database engine, the entries tables, the sequencer that appends, the
repository of log reads, proofs from stored subtree hashes, migrations and the writer queue.
"""
