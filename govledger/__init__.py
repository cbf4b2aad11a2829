"""The composition root: the one package that imports `ledger`, `policies` and `reports` and wires
them into the command line, the HTTP service and the demo.
"""
