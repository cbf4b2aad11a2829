"""Protected classes, and which of the user's columns hold them.

Policies and packs are written over protected classes (sex, race, age, ...), never over column
names: a bank's data calls the column `gender` or `applicant_race` or `borrower_age`, and a pack
that names `sex` must not force anyone to rename their data. The user maps classes to columns
(`--sensitive sex=gender,race=applicant_race`, a bare `--sensitive sex` meaning the column is
called `sex`, or a mapping file); the mapping is recorded in the evaluation, so an auditor sees
which column stood for which class.

A rule over a class the user did not map is *not evaluated*, and every output says so by name.
Whether that is acceptable is the policy's decision (`protected_classes.required`,
`protected_classes.at_least`): `nyc-ll144` needs sex and race, `four-fifths` any one of the
classes it covers.

A numeric column for a class the policy bands (age, typically) is cut into the policy's bands
(`bands: {age: [40]}` gives "under 40" / "40 and over", the ADEA line); a column that already
holds bands ("40+", "18-24") is used as it is.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import yaml

from policies.results import MetricInputError
from policies.schema import CLASS_NAME

if TYPE_CHECKING:  # numpy and pandas load with the gate extra, when a frame is read; the policy kinds need neither
    import pandas as pd

__all__ = [
    "KNOWN_CLASSES",
    "ClassMapping",
    "Coverage",
    "band_labels",
    "class_frame",
    "coverage",
    "features_on_prohibited_bases",
    "parse_mapping_file",
    "parse_sensitive",
]

_CLASS_RE: Final[re.Pattern[str]] = re.compile(CLASS_NAME)

# The protected classes of US and EU anti-discrimination law a pack may name (Title VII, ECOA /
# Regulation B 1002.6, the Fair Housing Act, ADEA, ADA, GINA, EU Charter Art. 21). A user's own
# policy may name others; these are the ones a bare `--sensitive NAME` is recognised as.
KNOWN_CLASSES: Final[dict[str, str]] = {
    "sex": "sex (including pregnancy, sexual orientation and gender identity under Title VII)",
    "race": "race (or race/ethnicity where the data combines them)",
    "ethnicity": "ethnicity (e.g. Hispanic or Latino)",
    "color": "color",
    "religion": "religion",
    "national_origin": "national origin",
    "age": "age",
    "marital_status": "marital status",
    "public_assistance": "receipt of income from a public assistance program",
    "disability": "disability",
    "genetic_information": "genetic information",
    "familial_status": "familial status",
    "veteran_status": "veteran status",
    "citizenship": "citizenship or immigration status",
    "sexual_orientation": "sexual orientation",
    "gender_identity": "gender identity",
    "pregnancy": "pregnancy",
}

# Column names that, used as model features, plainly are a protected class even when the user did
# not map that class: a model feature called `gender` is sex whatever the mapping says. Matching is on
# the normalised name (lower case, separators removed), so `Marital-Status` and `marital_status` match.
_NAMES_FOR: Final[dict[str, tuple[str, ...]]] = {
    "sex": ("sex", "gender"),
    "race": ("race", "racial", "raceethnicity"),
    "ethnicity": ("ethnicity", "ethnic", "hispanic"),
    "color": ("color", "colour", "skincolor", "skincolour"),
    "religion": ("religion", "religious", "faith"),
    "national_origin": (
        "nationalorigin",
        "nationality",
        "countryoforigin",
        "nativecountry",
        "birthcountry",
        "countryofbirth",
    ),
    "age": ("age", "dateofbirth", "dob", "birthdate", "birthyear", "yearofbirth"),
    "marital_status": ("maritalstatus", "marital", "married"),
    "public_assistance": ("publicassistance", "welfare", "benefits"),
    "disability": ("disability", "disabled"),
}

# Classes whose raw values are a number per person: the policy must band them before groups exist.
_NEEDS_BANDS: Final[frozenset[str]] = frozenset({"age"})
# More distinct values than this in a non-numeric column is not a column of bands.
_MAX_BANDS: Final[int] = 50


@dataclass(frozen=True)
class ClassMapping:
    """Protected class → the data column that holds it, plus the user's declared proxies
    (columns that stand in for a protected class, e.g. a postcode for race)."""

    columns: dict[str, str] = field(default_factory=dict)
    proxies: tuple[str, ...] = ()

    def merged(self, other: ClassMapping) -> ClassMapping:
        """Both mappings; a class mapped in both is an error (which column would it be?)."""
        twice = sorted(set(self.columns) & set(other.columns))
        if twice:
            raise MetricInputError(f"protected class {twice[0]!r} is mapped twice; map each class to one column")
        return ClassMapping({**self.columns, **other.columns}, tuple(dict.fromkeys([*self.proxies, *other.proxies])))

    def as_record(self, not_mapped: Sequence[str], bands: Mapping[str, Sequence[float]]) -> dict[str, Any]:
        """What the evaluation entry records about protected classes."""
        return {
            "mapping": dict(sorted(self.columns.items())),
            "not_mapped": list(not_mapped),
            "proxies": list(self.proxies),
            "bands": {name: [float(cut) for cut in cuts] for name, cuts in sorted(bands.items())},
        }


def _check_class_name(name: str, where: str) -> None:
    if not _CLASS_RE.match(name):
        raise MetricInputError(f"{where}: {name!r} is not a protected class name (letters, digits and _)")


def parse_sensitive(spec: str, *, used_by_policy: Iterable[str] = ()) -> ClassMapping:
    """`sex=gender,race=applicant_race,age` → {sex: gender, race: applicant_race, age: age}.

    A bare name maps the class to a column of the same name, and must be a known class or one the
    policy uses: `--sensitive gender` under a pack over `sex` is almost certainly meant as
    `sex=gender`, and silently evaluating nothing would let a CI job pass for the wrong reason.
    """
    used = set(used_by_policy)
    columns: dict[str, str] = {}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        name, sep, column = (s.strip() for s in part.partition("="))
        if sep and not column:
            raise MetricInputError(f"--sensitive {part!r}: give the column after '=' (e.g. sex=gender)")
        _check_class_name(name, "--sensitive")
        if not sep and name not in KNOWN_CLASSES and name not in used:
            suggestion = _suggest(name)
            hint = f"; did you mean --sensitive {suggestion}={name}?" if suggestion else ""
            raise MetricInputError(
                f"--sensitive {name!r}: not a protected class this policy uses "
                f"({', '.join(sorted(used)) or 'none'}) nor a known one{hint}"
            )
        if name in columns:
            raise MetricInputError(f"protected class {name!r} is mapped twice; map each class to one column")
        columns[name] = column if sep else name
    return ClassMapping(columns)


def _suggest(column: str) -> str | None:
    key = _normalised(column)
    for name, spellings in _NAMES_FOR.items():
        if key in spellings:
            return name
    return None


def parse_mapping_file(path: Path) -> ClassMapping:
    """A YAML or JSON file: `classes: {sex: gender, race: applicant_race}` and optionally
    `proxies: [postcode]`. Unknown keys are refused: a typo must not drop a class."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MetricInputError(f"cannot read class mapping {path}: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise MetricInputError(f"class mapping {path} is not YAML or JSON: {exc}".replace("\n", " ")) from None
    if not isinstance(raw, dict):
        raise MetricInputError(f"class mapping {path}: expected a mapping with `classes` (and optionally `proxies`)")
    unknown = sorted(set(raw) - {"classes", "proxies"})
    if unknown:
        raise MetricInputError(f"class mapping {path}: unknown keys {unknown}; expected classes and proxies")
    classes = raw.get("classes") or {}
    proxies = raw.get("proxies") or []
    if not isinstance(classes, dict) or not all(isinstance(v, str) and v for v in classes.values()):
        raise MetricInputError(f"class mapping {path}: `classes` maps each class to one column name")
    if not isinstance(proxies, list) or not all(isinstance(p, str) and p for p in proxies):
        raise MetricInputError(f"class mapping {path}: `proxies` is a list of column names")
    for name in classes:
        _check_class_name(str(name), f"class mapping {path}")
    return ClassMapping({str(k): v for k, v in classes.items()}, tuple(dict.fromkeys(proxies)))


@dataclass(frozen=True)
class Coverage:
    """Which of the policy's classes the user mapped, and whether that is enough for the policy."""

    mapped: tuple[str, ...]
    not_mapped: tuple[str, ...]
    shortfall: str | None  # why the policy cannot be judged with this mapping, if it cannot


def coverage(
    used: Sequence[str], required: Sequence[str], at_least: int, mapped: Iterable[str], *, policy: str
) -> Coverage:
    """Held against `required` (every one must be mapped) and `at_least` (that many of `used`)."""
    have = set(mapped)
    missing_required = [c for c in required if c not in have]
    mapped_used = tuple(c for c in used if c in have)
    shortfall = None
    if missing_required:
        names = ", ".join(f"{c} (--sensitive {c}=COLUMN)" for c in missing_required)
        shortfall = f"{policy} needs protected class{'es' if len(missing_required) > 1 else ''} {names}"
    elif len(mapped_used) < at_least:
        shortfall = (
            f"{policy} needs at least {at_least} of its protected classes ({', '.join(used)}) mapped to "
            "columns, e.g. --sensitive sex=COLUMN"
        )
    return Coverage(mapped_used, tuple(c for c in used if c not in have), shortfall)


def band_labels(cuts: Sequence[float]) -> list[str]:
    """Labels for the bands the cut points make: [40] → under 40, 40 and over; [25, 40] → under 25,
    25 to 39, 40 and over (whole-number cuts read as ages in years)."""
    ordered = sorted(float(c) for c in cuts)
    whole = all(c.is_integer() for c in ordered)

    def shown(value: float) -> str:
        return str(int(value)) if value.is_integer() else f"{value:g}"

    labels = [f"under {shown(ordered[0])}"]
    for low, high in itertools.pairwise(ordered):
        upper = shown(high - 1) if whole else f"under {shown(high)}"
        labels.append(f"{shown(low)} to {upper}")
    labels.append(f"{shown(ordered[-1])} and over")
    return labels


def _banded(values: pd.Series[Any], cuts: Sequence[float]) -> pd.Series[Any]:
    import numpy as np
    import pandas as pd

    ordered = sorted(float(c) for c in cuts)
    positions = np.searchsorted(np.asarray(ordered), values.to_numpy(dtype=np.float64), side="right")
    labels = np.asarray(band_labels(ordered), dtype=object)
    return pd.Series(labels[positions], index=values.index, name=values.name)


def _as_groups(name: str, column: str, values: pd.Series[Any], bands: Sequence[float] | None) -> pd.Series[Any]:
    import pandas as pd

    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    textual = values.dtype == object or pd.api.types.is_string_dtype(values)
    if not numeric and textual and (bands is not None or name in _NEEDS_BANDS):  # numbers written as text?
        as_numbers = pd.to_numeric(values, errors="coerce")
        share = float(as_numbers.notna().mean())
        if share == 1.0 and (bands is not None or name in _NEEDS_BANDS):
            values, numeric = as_numbers, True
        elif bands is not None and share > 0.0:
            sample = values[as_numbers.isna()].iloc[0]
            raise MetricInputError(
                f"column {column!r} (protected class {name}) mixes numbers and labels (e.g. {sample!r}); "
                f"give numbers to band, or a column of bands"
            )
    if numeric:
        if bands is None:
            if name in _NEEDS_BANDS:
                raise MetricInputError(
                    f"column {column!r} (protected class {name}) is numeric and the policy declares no {name} bands; "
                    f"give a column of bands, or add `protected_classes: {{bands: {{{name}: [40]}}}}` to the policy"
                )
            return values.astype(str)
        return _banded(values, bands)
    distinct = int(values.nunique())
    if name in _NEEDS_BANDS and distinct > _MAX_BANDS:
        raise MetricInputError(
            f"column {column!r} (protected class {name}) is not numeric and has {distinct} distinct values: "
            f"not a column of {name} bands; give numbers (banded by the policy) or bands"
        )
    return values.astype(str)


def class_frame(
    frame: pd.DataFrame,
    mapping: ClassMapping,
    classes: Sequence[str],
    bands: Mapping[str, Sequence[float]],
    *,
    source: str,
) -> pd.DataFrame:
    """One column per mapped class (named by the class), as group labels: what fairness and
    per-group metrics are computed by. Refuses a missing column or missing values."""
    import pandas as pd

    columns = {name: mapping.columns[name] for name in classes if name in mapping.columns}
    missing = [
        f"{column!r} (protected class {name})" for name, column in columns.items() if column not in frame.columns
    ]
    if missing:
        raise MetricInputError(
            f"column {missing[0]} is not in {source} (it has {', '.join(map(str, list(frame.columns)[:20]))})"
        )
    out: dict[str, pd.Series[Any]] = {}
    for name, column in columns.items():
        values = frame[column]
        if values.isna().any():
            raise MetricInputError(
                f"column {column!r} (protected class {name}) has {int(values.isna().sum())} missing values"
            )
        out[name] = _as_groups(name, column, values, bands.get(name))
    return pd.DataFrame(out, index=frame.index)


def _normalised(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def features_on_prohibited_bases(
    features: Sequence[str], mapping: ClassMapping, bases: Sequence[str]
) -> dict[str, str]:
    """Model features that are a prohibited basis, or stand for one: feature → why.

    A feature is caught if it is the column mapped to a basis, a declared proxy, or named as a
    basis plainly is (`gender`, `marital_status`, `date_of_birth`) whether or not it was mapped.
    """
    found: dict[str, str] = {}
    mapped = {column: name for name, column in mapping.columns.items() if name in bases}
    spellings = {spelling: name for name in bases for spelling in (_normalised(name), *_NAMES_FOR.get(name, ()))}
    for feature in features:
        if feature in mapped:
            found[feature] = f"the column mapped to {mapped[feature]}"
        elif feature in mapping.proxies:
            found[feature] = "a declared proxy"
        elif _normalised(feature) in spellings:
            found[feature] = f"named as {spellings[_normalised(feature)]}"
    return found
