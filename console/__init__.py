"""The web console: pages for risk officers and auditors over the same ledger, roles and rules as
the API. Mounted under `/ui` by the composition root (`govledger.service`); nothing below it
imports this package."""
