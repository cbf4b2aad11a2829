"""The demo lender's fair-lending declarations for its Adult-based credit model, in one place.

Regulation B 12 CFR 1002.6(b) forbids taking a prohibited basis into account: of Adult's columns,
`sex`, `race`, `marital_status`, `native_country` (national origin) and `age` (permitted only in
an empirically derived, demonstrably sound system under 1002.6(b)(2), which this demo does not
claim: dropping it is simpler than justifying it). `relationship` ("Husband", "Wife", ...) is a
declared proxy for sex and marital status. None of these is a feature of the mitigated model, and
none may ever be given as a principal reason for adverse action, whichever model scored it.

The reason statements are the demo's "group map": the plain words each feature is given in on an
adverse-action notice (Reg B 1002.9(b)(2)). Excluded features have none, on purpose.
"""

from __future__ import annotations

from typing import Final

from policies.protected import ClassMapping

__all__ = [
    "CLASS_COLUMNS",
    "DECLARED_PROXIES",
    "EXCLUDED_FROM_REASONS",
    "GATE_CLASSES",
    "INPUT_SCHEMA_VERSION",
    "MONITORED",
    "PROHIBITED_BASES",
    "REASON_MAP_VERSION",
    "REASON_TEXT",
]

# Protected class -> the Adult column that holds it: what the gate is told (--sensitive class=column).
CLASS_COLUMNS: Final[dict[str, str]] = {
    "sex": "sex",
    "race": "race",
    "age": "age",
    "marital_status": "marital_status",
    "national_origin": "native_country",
}
PROHIBITED_BASES: Final[tuple[str, ...]] = tuple(CLASS_COLUMNS.values())
DECLARED_PROXIES: Final[tuple[str, ...]] = ("relationship",)
EXCLUDED_FROM_REASONS: Final[frozenset[str]] = frozenset(PROHIBITED_BASES + DECLARED_PROXIES)
# The same declarations as the gate takes them.
GATE_CLASSES: Final[ClassMapping] = ClassMapping(dict(CLASS_COLUMNS), DECLARED_PROXIES)
# Protected classes whose outcomes are monitored (four-fifths rule): sealed with each decision, never scored.
MONITORED: Final[tuple[str, ...]] = ("sex", "race")

REASON_TEXT: Final[dict[str, str]] = {
    "workclass": "Type of employment",
    "education_num": "Length of education",
    "occupation": "Occupation",
    "capital_gain": "Amount of capital gains",
    "capital_loss": "Amount of capital losses",
    "hours_per_week": "Hours worked per week",
}
REASON_MAP_VERSION: Final[str] = "adult-reasons-2"
INPUT_SCHEMA_VERSION: Final[str] = "adult-v1"
