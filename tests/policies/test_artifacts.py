"""Model files: skops round trip, refusal of pickles and joblib files, and the trust rule: classes of
the default libraries load, anything else only when trusted explicitly."""

from __future__ import annotations

import os
import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

import joblib  # type: ignore[import-untyped]
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from govledger.demo.adult import load_adult
from govledger.demo.training import BASELINE_FEATURES, train_baseline, train_mitigated
from policies.artifacts import (
    DEFAULT_LIBRARIES,
    ModelFileError,
    TrustedType,
    artifact_sha256,
    audit_types,
    load_model,
    load_model_audited,
    save_model,
    trusted_types,
)
from policies.results import MetricInputError


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    """A few thousand real rows: enough for working models, quick to train."""
    return load_adult("train").dropna().head(3000).reset_index(drop=True)


@pytest.fixture(scope="module")
def models(sample: pd.DataFrame) -> dict[str, Any]:
    return {"baseline": train_baseline(sample), "mitigated": train_mitigated(sample)}


class Tripwire:
    """Unpickling this touches `marker`: the proof that a loader ran pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


class Untrusted(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A harmless estimator whose type is not on the allow-list."""

    def fit(self, x: Any, y: Any) -> Untrusted:
        self.classes_ = np.array([0, 1])
        return self

    def predict(self, x: Any) -> Any:
        return np.zeros(len(x), dtype=np.int64)


@pytest.mark.parametrize("kind", ["baseline", "mitigated"])
def test_round_trip_gives_identical_predictions(
    kind: str, models: dict[str, Any], sample: pd.DataFrame, tmp_path: Path
) -> None:
    model = models[kind]
    path = tmp_path / f"{kind}.skops"
    digest = save_model(model, path)
    assert digest == artifact_sha256(path)
    assert zipfile.is_zipfile(path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind
    loaded = load_model(path)
    x = sample[list(BASELINE_FEATURES)]
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    np.testing.assert_array_equal(loaded.predict_proba(x), model.predict_proba(x))


def test_tripwire_really_fires_when_unpickled(tmp_path: Path) -> None:
    """Control for the next test: the payload is live, so its marker staying absent means something."""
    marker = tmp_path / "control-marker"
    pickle.loads(pickle.dumps(Tripwire(marker)))
    assert marker.exists()


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_a_pickle_is_refused_without_being_unpickled(protocol: int, tmp_path: Path) -> None:
    marker = tmp_path / "unpickled-marker"
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(Tripwire(marker), protocol=protocol))
    with pytest.raises(ModelFileError, match=r"is a pickle.*never unpickles.*skops\.io\.dump"):
        load_model(path)
    assert not marker.exists()


@pytest.mark.parametrize("compress", [0, 3, ("gzip", 3), ("bz2", 3), ("xz", 3), ("lzma", 3)])
def test_a_joblib_file_is_refused_without_being_unpickled(compress: Any, tmp_path: Path) -> None:
    marker = tmp_path / "unpickled-marker"
    path = tmp_path / "model.joblib"
    joblib.dump(Tripwire(marker), path, compress=compress)
    with pytest.raises(ModelFileError, match=r"never unpickles model files; save it with skops\.io\.dump"):
        load_model(path)
    assert not marker.exists()


def test_an_untrusted_class_is_refused_by_name(sample: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "custom.skops"
    model = Pipeline([("scale", StandardScaler()), ("clf", Untrusted())])
    model.fit(sample[["age", "hours_per_week"]], sample["income"])
    sio.dump(model, path)
    with pytest.raises(ModelFileError, match=r"does not trust: tests\.policies\.test_artifacts\.Untrusted"):
        load_model(path)


def test_an_untrusted_function_inside_a_trusted_transformer_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "function.skops"
    sio.dump(Pipeline([("f", FunctionTransformer(func=os.system))]), path)
    with pytest.raises(ModelFileError, match=r"posix\.system|os\.system"):
        load_model(path)


def test_save_refuses_an_untrusted_model_and_writes_nothing(sample: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "custom.skops"
    with pytest.raises(ModelFileError, match="Untrusted"):
        save_model(Untrusted().fit(sample, sample["income"]), path)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="does not exist"):
        load_model(tmp_path / "nope.skops")
    with pytest.raises(ModelFileError, match="cannot read"):
        artifact_sha256(tmp_path / "nope.skops")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not a file"):
        load_model(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a skops file"),
        (b"just some text\n", "not a skops file"),
        (b"PK\x03\x04 truncated zip", "not a valid skops file"),
    ],
)
def test_other_bytes_are_refused(content: bytes, message: str, tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=message):
        load_model(path)


def test_a_zip_that_is_not_skops_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps(Tripwire(tmp_path / "marker")))
    with pytest.raises(ModelFileError, match="not a skops file"):
        load_model(path)
    assert not (tmp_path / "marker").exists()


def test_a_skops_file_without_a_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "array.skops"
    sio.dump(np.arange(3), path)
    with pytest.raises(ModelFileError, match="not a model with predict"):
        load_model(path)


def test_model_file_error_is_a_metric_input_error() -> None:
    assert issubclass(ModelFileError, MetricInputError)
    assert issubclass(ModelFileError, ValueError)


def test_the_baseline_loads_by_the_library_rule_alone(models: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "baseline.skops"
    save_model(models["baseline"], path)
    audit = load_model_audited(path).audit
    assert audit.explicit == ()
    assert "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor" in audit.by_library
    assert all(name.split(".")[0] in DEFAULT_LIBRARIES for name in audit.by_library)


def test_a_class_of_ones_own_is_refused_until_trusted_and_then_recorded(sample: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "own.skops"
    model = Pipeline([("scale", StandardScaler()), ("clf", Untrusted())]).fit(
        sample[["age", "hours_per_week"]], sample["income"]
    )
    name = f"{Untrusted.__module__}.Untrusted"
    with pytest.raises(ModelFileError, match=r"refusing to save a Pipeline.*Untrusted.*--trust TYPE"):
        save_model(model, path)
    assert list(tmp_path.iterdir()) == []
    save_model(model, path, trust=(name,))
    with pytest.raises(ModelFileError, match=r"Untrusted.*--trust TYPE"):
        load_model(path)
    audit = load_model_audited(path, trust=[TrustedType(name, "cli")]).audit
    assert audit.as_record() == {
        "default_libraries": list(DEFAULT_LIBRARIES),
        "explicit": [{"type": name, "source": "cli"}],
    }


def test_a_class_from_the_test_module_loads_only_when_trusted(sample: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "custom.skops"
    model = Pipeline([("scale", StandardScaler()), ("clf", Untrusted())])
    model.fit(sample[["age", "hours_per_week"]], sample["income"])
    sio.dump(model, path)
    name = f"{Untrusted.__module__}.Untrusted"
    loaded = load_model_audited(path, trust=trusted_types([name], "settings"))
    assert isinstance(loaded.model[-1], Untrusted)
    assert [(t.name, t.source) for t in loaded.audit.explicit] == [(name, "settings")]
    # trusting something else does not help
    with pytest.raises(ModelFileError, match=r"does not trust: tests\.policies\.test_artifacts\.Untrusted"):
        load_model(path, trust=["sklearn.Untrusted", "tests.policies.test_artifacts.Other"])


@pytest.mark.parametrize(
    "name",
    [
        "sklearnfoo.ensemble.Forest",  # a package whose name starts like a trusted one
        "numpy_evil.ndarray",
        "sklearn.tree",  # a module is not a class
        "sklearn.not_a_module.Thing",  # does not resolve
        "sklearn.tree.nothing_here",
        "numpy.load",  # a function: reads files, so trusted only explicitly
        "numpy.f2py.f2py2e.run_main",  # runs a program
        "scipy.io.savemat",
        "numpy.f2py.__main__.Anything",  # importing it would run f2py on our own argv
        "numpy.conftest.Anything",
        "numpy.ctypeslib.ctypes.CDLL",  # a class reachable from numpy, defined by ctypes
        "builtins.eval",
        "builtins.type",
        "collections.defaultdict",
    ],
)
def test_look_alikes_functions_and_unknown_names_are_refused_by_default(name: str) -> None:
    with pytest.raises(ModelFileError, match=re.escape(name)):
        audit_types([name])
    assert audit_types([name], trusted_types([name], "policy")).explicit == (TrustedType(name, "policy"),)


@pytest.mark.parametrize(
    "name",
    [
        "sklearn.tree._tree.Tree",
        "numpy.dtype",
        "numpy.random._generator.Generator",
        "scipy.sparse._csr.csr_matrix",
        "xgboost.core.Booster",
        "lightgbm.basic.Booster",
        "collections.OrderedDict",
    ],
)
def test_classes_of_the_default_libraries_are_trusted(name: str) -> None:
    assert audit_types([name]).by_library == (name,)


def test_the_first_source_to_trust_a_type_is_recorded() -> None:
    trust = [TrustedType("a.B", "cli"), TrustedType("a.B", "policy"), TrustedType("c.D", "settings")]
    audit = audit_types(["a.B", "c.D", "sklearn.tree._tree.Tree"], trust)
    assert audit.explicit == (TrustedType("a.B", "cli"), TrustedType("c.D", "settings"))
    assert audit.names == ["sklearn.tree._tree.Tree", "a.B", "c.D"]


@pytest.mark.parametrize("name", ["", "Untrusted", "a..b", "a.b c", "1a.b", "a.b;import os"])
def test_a_trusted_name_must_be_a_dotted_python_name(name: str) -> None:
    with pytest.raises(ModelFileError, match="full dotted name"):
        trusted_types([name], "cli")
