"""`govledger gate --register NAME@VERSION`: register the model file in the same step as its gate.

A model version is registered with the training run that produced it (the ledger's lineage
invariant: every model traces to its data), so `--register` needs `--training-run RUN_ID`. If the
run is already recorded, the model is registered against it (the run's artifact must be this
file); if not, `--training-data DATASET_ID` (repeatable, registered datasets) records the run too.
A model version already registered with this very artifact is left as it is, so a re-run of the
same CI job is not an error.

Registration happens only once the model, the data and the mapping have been read and the model
has scored the data: bad input still writes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ledger.api import Ledger
from ledger.lineage.registry_reads import model_version, run_seq
from ledger.log.entry import Actor
from policies.remote import RemoteLedger
from policies.results import MetricInputError

__all__ = ["Registration", "parse_registration", "register_locally", "register_remotely"]

_REF = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]{0,119})@(?P<version>[A-Za-z0-9][A-Za-z0-9._+-]{0,59})$")


@dataclass(frozen=True)
class Registration:
    name: str
    version: str
    run_id: str
    training_data: tuple[str, ...] = ()
    # estimator, hyperparameters, input_features read off the scored model (policies.describe)
    described: dict[str, Any] = field(default_factory=dict)

    def run_payload(self, artifact_sha256: str) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "code_version": "not recorded (registered by govledger gate --register)",
            "input_datasets": list(self.training_data),
            "artifact_sha256": artifact_sha256,
        }

    def model_payload(self, artifact_sha256: str) -> dict[str, Any]:
        return {
            "model": {"name": self.name, "version": self.version},
            "artifact_sha256": artifact_sha256,
            "run_id": self.run_id,
            **self.described,
        }


def parse_registration(ref: str, training_run: str | None, training_data: list[str] | None) -> Registration:
    """Check `--register NAME@VERSION`, `--training-run` and `--training-data` before anything runs."""
    match = _REF.match(ref.strip())
    if match is None:
        raise MetricInputError(f"--register {ref!r}: expected NAME@VERSION, e.g. credit-risk@1.4.0")
    if not training_run:
        raise MetricInputError(
            "--register needs --training-run RUN_ID: the run that produced this model (add --training-data "
            "DATASET_ID to record the run in the same step)"
        )
    return Registration(match["name"], match["version"], training_run, tuple(dict.fromkeys(training_data or ())))


def register_locally(ledger: Ledger, registration: Registration, artifact_sha256: str, *, actor: Actor) -> list[int]:
    """Record the run (if new and its data is given) and the model version; returns the new entries."""
    with ledger.engine.connect() as conn:
        existing = model_version(conn, registration.name, registration.version)
        run_known = run_seq(conn, registration.run_id) is not None
    if not _needed(registration, existing.artifact_sha256 if existing else None, artifact_sha256, run_known=run_known):
        return []
    seqs = []
    if not run_known:
        seqs.append(ledger.append("training_run.recorded", registration.run_payload(artifact_sha256), actor=actor).seq)
    seqs.append(ledger.append("model.registered", registration.model_payload(artifact_sha256), actor=actor).seq)
    return seqs


def register_remotely(remote: RemoteLedger, registration: Registration, artifact_sha256: str) -> None:
    """The same through the service (the API key needs the producer role to register)."""
    name, version = registration.name, registration.version
    existing = remote.get_or_none(f"/v1/models/{name}/{version}")
    run_known = remote.get_or_none(f"/v1/runs/{registration.run_id}") is not None
    registered = str(existing["artifact_sha256"]) if existing is not None else None
    if not _needed(registration, registered, artifact_sha256, run_known=run_known):
        return
    if not run_known:
        remote.post("/v1/runs", registration.run_payload(artifact_sha256))
    remote.post("/v1/models", registration.model_payload(artifact_sha256))


def _needed(registration: Registration, registered: str | None, artifact_sha256: str, *, run_known: bool) -> bool:
    """Whether anything must be written; refuses a version taken by another file or a run without data."""
    if registered is not None:
        if registered != artifact_sha256:
            raise MetricInputError(
                f"model {registration.name}@{registration.version} is already registered with another artifact "
                f"({registered[:12]}); register this file as a new version"
            )
        return False
    if not run_known and not registration.training_data:
        raise MetricInputError(
            f"training run {registration.run_id!r} is not recorded; add --training-data DATASET_ID "
            "(repeatable) to record it with this model"
        )
    return True
