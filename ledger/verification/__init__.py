"""Verification: the deep chain scan, tree and checkpoint checks, offline proof packs and decision
traces, and checking that a report file was issued by this ledger.
"""
