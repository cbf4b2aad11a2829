"""Model files: written with skops, loaded only when every type they hold is trusted, never unpickled.

A model file handed to the gate comes from a CI job, i.e. from whoever could push to the
repository. Unpickling it would run any code it carries, on the machine that signs the ledger.
skops stores a model as a JSON schema plus numpy arrays, and `skops.io.load` constructs only
types it is told to trust; so a file is first audited (`skops.io.get_untrusted_types`) and every
type skops does not trust by default must be trusted here, by one of two rules:

- by library: a *class* whose top-level package is one of `DEFAULT_LIBRARIES` (scikit-learn,
  NumPy, SciPy, XGBoost, LightGBM), e.g. `sklearn.tree._tree.Tree`, `xgboost.core.Booster`, plus
  the plain-data standard types in `STANDARD_TYPES`. Only classes: a model file can also name a
  *function* (`FunctionTransformer(func=numpy.load)`, `numpy.f2py.f2py2e.run_main`) that the model
  then calls on the data, and a library's functions include ones that read files or run
  programs, so a function is trusted only explicitly. Whether a name is a class is found by
  importing its module, which only ever happens inside those installed libraries, and never for
  a `__main__` or test module (importing `numpy.f2py.__main__` would run f2py).
- explicitly: `--trust TYPE` on the gate, `trust:` in the policy, `GOVLEDGER_GATE_TRUSTED_TYPES`
  in the environment, or `trust=` from Python (the demo trusts its own `FairlearnMixture` so).
  Every explicitly trusted type the file holds is returned with where its trust came from, and
  the gate records that in the evaluation entry.

Anything else is refused before loading, naming each type. Pickles and joblib files are
recognised from their first bytes and refused without being opened as pickles.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import skops.io as sio

from policies.results import MetricInputError

__all__ = [
    "DEFAULT_LIBRARIES",
    "STANDARD_TYPES",
    "LoadedModel",
    "ModelFileError",
    "TrustAudit",
    "TrustSource",
    "TrustedType",
    "artifact_sha256",
    "audit_types",
    "load_model",
    "load_model_audited",
    "save_model",
    "trusted_types",
]

DEFAULT_LIBRARIES: Final[tuple[str, ...]] = ("sklearn", "numpy", "scipy", "xgboost", "lightgbm")
# Standard-library data types skops reports although they hold only data (LightGBM keeps an OrderedDict).
STANDARD_TYPES: Final[frozenset[str]] = frozenset({"collections.OrderedDict"})

TrustSource = Literal["cli", "policy", "settings", "api"]
_TEST_MODULES: Final[frozenset[str]] = frozenset({"conftest", "tests", "testing", "_testing"})
_DOTTED_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


@dataclass(frozen=True)
class TrustedType:
    """A type (or function) someone chose to trust, and where that choice was made."""

    name: str
    source: TrustSource


@dataclass(frozen=True)
class TrustAudit:
    """What a model file holds beyond skops' own defaults, and why each of those types was trusted."""

    by_library: tuple[str, ...]
    explicit: tuple[TrustedType, ...]

    @property
    def names(self) -> list[str]:
        """Every type to hand to `skops.io.load(trusted=...)`."""
        return [*self.by_library, *(t.name for t in self.explicit)]

    def as_record(self) -> dict[str, Any]:
        """The `trusted_types` of the evaluation entry: the library rule, and each explicit trust used."""
        return {
            "default_libraries": list(DEFAULT_LIBRARIES),
            "explicit": [{"type": t.name, "source": t.source} for t in self.explicit],
        }


@dataclass(frozen=True)
class LoadedModel:
    model: Any
    audit: TrustAudit


def trusted_types(names: Iterable[str], source: TrustSource) -> list[TrustedType]:
    """Explicit trust from one source; a name that is not a dotted Python name is a usage error."""
    out = []
    for raw in names:
        name = raw.strip()
        if not _DOTTED_NAME.match(name):
            raise ModelFileError(
                f"cannot trust {raw!r} ({source}): give the type's full dotted name, e.g. mypackage.models.MyModel"
            )
        out.append(TrustedType(name, source))
    return out


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
    nobody trusted. A usage error (exit 2 / HTTP 422), never a partial load."""


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


def _reported(path: Path) -> list[str]:
    """Every type in the file that skops itself does not trust by default."""
    try:
        found: list[str] = sio.get_untrusted_types(file=path)
    except zipfile.BadZipFile as exc:
        raise ModelFileError(f"{path} is not a valid skops file: {exc}") from exc
    except KeyError as exc:  # a zip without schema.json, e.g. a PyTorch checkpoint
        raise ModelFileError(f"{path} is a zip archive but not a skops file: {exc}") from exc
    except Exception as exc:  # skops raises assorted errors on malformed schemas
        raise ModelFileError(f"{path} is not a readable skops file: {type(exc).__name__}: {exc}") from exc
    return sorted(set(found))


def _unsafe_to_import(part: str) -> bool:
    """Modules whose import does something: `__main__` runs a program (`numpy.f2py.__main__` runs f2py
    on the gate's own arguments), test modules configure pytest/hypothesis. No model class lives there."""
    return (part.startswith("__") and part.endswith("__")) or part in _TEST_MODULES


def _is_library_class(name: str) -> bool:
    """True for a class defined under one of `DEFAULT_LIBRARIES` (top-level package matched exactly,
    so `sklearnfoo.X` is not scikit-learn). Functions, and names that do not resolve, are False."""
    parts = name.split(".")
    if parts[0] not in DEFAULT_LIBRARIES or len(parts) < 2 or any(_unsafe_to_import(part) for part in parts):
        return False
    for split in range(len(parts) - 1, 0, -1):  # longest importable module prefix, then attributes
        try:
            found: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        except Exception:  # a module that fails to import on its own is nothing to trust
            return False
        try:
            for attribute in parts[split:]:
                found = getattr(found, attribute)
        except AttributeError:
            return False
        # defined in the library, not merely reachable from it (`numpy.ctypeslib.ctypes.CDLL` is ctypes')
        return isinstance(found, type) and str(found.__module__).split(".")[0] in DEFAULT_LIBRARIES
    return False


def audit_types(
    reported: Iterable[str], trust: Sequence[TrustedType] = (), *, what: str = "the model file"
) -> TrustAudit:
    """Decide each type skops reported: trusted by library, trusted explicitly, or refused.

    Raises ModelFileError naming every refused type (and saying how to trust one), so a file is
    either loaded with all its types accounted for or not at all. When a type is trusted by more
    than one source, the first in `trust` is the one recorded."""
    explicit: dict[str, TrustedType] = {}
    for trusted in trust:
        explicit.setdefault(trusted.name, trusted)
    by_library: list[str] = []
    used: list[TrustedType] = []
    refused: list[str] = []
    for name in sorted(set(reported)):
        if name in STANDARD_TYPES or _is_library_class(name):
            by_library.append(name)
        elif name in explicit:
            used.append(explicit[name])
        else:
            refused.append(name)
    if refused:
        raise ModelFileError(
            f"{what} contains types govledger does not trust: {', '.join(refused)}; only classes of "
            f"{', '.join(DEFAULT_LIBRARIES)} are trusted by default. If you have reviewed a type, trust it "
            "with --trust TYPE (repeatable), `trust:` in the policy or GOVLEDGER_GATE_TRUSTED_TYPES"
        )
    return TrustAudit(tuple(by_library), tuple(used))


def _as_trust(trust: Iterable[TrustedType | str]) -> list[TrustedType]:
    """Plain strings are trust given from Python (source "api")."""
    out: list[TrustedType] = []
    for item in trust:
        out.extend([item] if isinstance(item, TrustedType) else trusted_types([item], "api"))
    return out


def load_model_audited(path: Path, trust: Iterable[TrustedType | str] = ()) -> LoadedModel:
    """Load a skops model file after auditing its types (see module doc); refuse anything else."""
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist or is not a file")
    _refuse_non_skops(path)
    audit = audit_types(_reported(path), _as_trust(trust), what=str(path))
    try:
        model = sio.load(path, trusted=audit.names)
    except Exception as exc:
        raise ModelFileError(f"cannot load model file {path}: {type(exc).__name__}: {exc}") from exc
    if not callable(getattr(model, "predict", None)):
        raise ModelFileError(f"{path} holds a {type(model).__name__}, not a model with predict()")
    return LoadedModel(model, audit)


def load_model(path: Path, trust: Iterable[TrustedType | str] = ()) -> Any:
    """The model in a skops file, its types audited first (see `load_model_audited`)."""
    return load_model_audited(path, trust).model


def save_model(model: Any, path: Path, trust: Iterable[TrustedType | str] = ()) -> str:
    """Write `model` with skops (atomically: a reader never sees half a file) and return the file's
    SHA-256. Refuses, writing nothing, a model that `load_model` would refuse given the same `trust`:
    failing at training time is cheaper than failing at the gate. skops output is not
    byte-reproducible across saves (array member names are object ids), so the hash names this
    file, not the model."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as fh:
            sio.dump(model, fh)
        audit_types(_reported(tmp), _as_trust(trust), what=f"refusing to save a {type(model).__name__}: it")
        tmp.replace(path)
    except OSError as exc:
        raise ModelFileError(f"cannot write model file {path}: {exc.strerror or exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return artifact_sha256(path)
