"""The demo scenario (`govledger demo`): the UCI Adult data, two trained models, the gate, the
service, decisions, reports and tamper detection, run end to end on a fresh ledger.
"""
