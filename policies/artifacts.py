"""Model files: written with skops, loaded only against an explicit allow-list, never unpickled.

A model file handed to the gate comes from a CI job, i.e. from whoever could push to the
repository. Unpickling it would run any code it carries, on the machine that signs the ledger.
skops stores a model as a JSON schema plus numpy arrays, and `skops.io.load` constructs only
types it is told to trust; so a file is first audited (`skops.io.get_untrusted_types`) and
refused, naming the types, unless every type skops does not trust by default is in
`TRUSTED_TYPES`. Pickles and joblib files are recognised from their first bytes and refused
without being opened as pickles.

skops itself trusts scikit-learn estimators, numpy arrays and builtin containers by default;
`TRUSTED_TYPES` still lists every type our two models are made of, so the list documents what a
govledger model file may contain and keeps working if skops narrows its defaults.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path
from typing import Any, Final

import skops.io as sio

from policies.results import MetricInputError

__all__ = ["TRUSTED_TYPES", "ModelFileError", "artifact_sha256", "load_model", "save_model"]

TRUSTED_TYPES: Final[tuple[str, ...]] = (
    # shared by both models
    "numpy.float64",
    "numpy.ndarray",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    # baseline: passthrough numerics + HistGradientBoostingClassifier
    "numpy.random._generator.Generator",
    "numpy.uint64",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.preprocessing._function_transformer.FunctionTransformer",
    "sklearn.preprocessing._label.LabelEncoder",
    # mitigated: scaled numerics + fairlearn's ExponentiatedGradient outcome over logistic regressions
    "govledger.demo.training.FairlearnMixture",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.preprocessing._data.StandardScaler",
)

_ZIP_MAGIC: Final[bytes] = b"PK\x03\x04"
# What joblib.dump(compress=...) and friends write around a pickle.
_COMPRESSED_MAGIC: Final[dict[bytes, str]] = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
    b"\x5d\x00\x00": "lzma",
    b"ZF": "joblib zlib",
    b"\x78\x01": "zlib",
    b"\x78\x5e": "zlib",
    b"\x78\x9c": "zlib",
    b"\x78\xda": "zlib",
}
# First opcodes of a pickle: PROTO (protocols 2-5), or MARK / GLOBAL / EMPTY_* / STOP of protocols 0-1.
_PICKLE_FIRST_BYTES: Final[frozenset[int]] = frozenset(b"\x80(c}])N.")


class ModelFileError(MetricInputError):
    """The model file cannot be accepted: missing, unreadable, not a skops file, or holding types
    outside `TRUSTED_TYPES`. A usage error (exit 2 / HTTP 422), never a partial load."""


def artifact_sha256(path: Path) -> str:
    """SHA-256 hex of the file's bytes: what the ledger records as the model's identity."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {path}: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def _refuse_non_skops(path: Path) -> None:
    """Classify the file by its first bytes only; nothing here parses a pickle."""
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {path}: {exc.strerror or exc}") from exc
    if head.startswith(_ZIP_MAGIC):
        return
    advice = "govledger never unpickles model files; save it with skops.io.dump"
    for magic, kind in _COMPRESSED_MAGIC.items():
        if head.startswith(magic):
            raise ModelFileError(f"{path} is {kind}-compressed data (a compressed joblib/pickle file); {advice}")
    if head and head[0] in _PICKLE_FIRST_BYTES:
        raise ModelFileError(f"{path} is a pickle (or a joblib file); {advice}")
    raise ModelFileError(f"{path} is not a skops file (not a zip archive); {advice}")


def _untrusted(path: Path) -> list[str]:
    """Types in the file that neither skops nor `TRUSTED_TYPES` trusts."""
    try:
        found: list[str] = sio.get_untrusted_types(file=path)
    except zipfile.BadZipFile as exc:
        raise ModelFileError(f"{path} is not a valid skops file: {exc}") from exc
    except KeyError as exc:  # a zip without schema.json, e.g. a PyTorch checkpoint
        raise ModelFileError(f"{path} is a zip archive but not a skops file: {exc}") from exc
    except Exception as exc:  # skops raises assorted errors on malformed schemas
        raise ModelFileError(f"{path} is not a readable skops file: {type(exc).__name__}: {exc}") from exc
    return sorted(set(found) - set(TRUSTED_TYPES))


def load_model(path: Path) -> Any:
    """Load a skops model file after auditing its types; refuse anything else (see module doc)."""
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist or is not a file")
    _refuse_non_skops(path)
    untrusted = _untrusted(path)
    if untrusted:
        raise ModelFileError(
            f"{path} contains types govledger does not trust: {', '.join(untrusted)}; "
            "only the types in policies.artifacts.TRUSTED_TYPES are loaded"
        )
    try:
        model = sio.load(path, trusted=list(TRUSTED_TYPES))
    except Exception as exc:
        raise ModelFileError(f"cannot load model file {path}: {type(exc).__name__}: {exc}") from exc
    if not callable(getattr(model, "predict", None)):
        raise ModelFileError(f"{path} holds a {type(model).__name__}, not a model with predict()")
    return model


def save_model(model: Any, path: Path) -> str:
    """Write `model` with skops (atomically: a reader never sees half a file) and return the file's
    SHA-256. Refuses, writing nothing, a model that `load_model` would refuse: failing at training
    time is cheaper than failing at the gate. skops output is not byte-reproducible across saves
    (array member names are object ids), so the hash names this file, not the model."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as fh:
            sio.dump(model, fh)
        untrusted = _untrusted(tmp)
        if untrusted:
            raise ModelFileError(
                f"refusing to save a {type(model).__name__}: it contains types govledger does not trust: "
                f"{', '.join(untrusted)}"
            )
        tmp.replace(path)
    except OSError as exc:
        raise ModelFileError(f"cannot write model file {path}: {exc.strerror or exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return artifact_sha256(path)
