"""Times in payloads must name a moment of the calendar, not only look like one.

Why: the pattern alone admits `2026-13-45T99:00:00Z`; an appeal or a notice stored with such a time
could never be placed on a time line again, and the log cannot be corrected afterwards.
"""

from __future__ import annotations

import pytest

from govledger.registry import full_registry
from ledger.errors import InvalidInputError

APPEAL = {
    "appeal_id": "appeal-1",
    "decision_id": "loan-1",
    "channel": "web form",
    "grounds": "my income was misread",
    "requests": ["human_review"],
}


@pytest.mark.parametrize("when", ["2026-12-07T10:00:00Z", "2024-02-29T23:59:59.999999Z"])
def test_a_time_of_the_calendar_is_accepted(when: str) -> None:
    full_registry().validate("decision.appealed", {**APPEAL, "received_at": when})


@pytest.mark.parametrize(
    "when", ["2026-13-45T99:00:00Z", "2026-02-30T10:00:00Z", "2025-02-29T10:00:00Z", "2026-12-07T24:00:00Z"]
)
def test_a_time_that_names_no_moment_is_refused_naming_the_field(when: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        full_registry().validate("decision.appealed", {**APPEAL, "received_at": when})
    assert refused.value.errors[0]["loc"] == ["data", "received_at"]


def test_a_time_in_another_form_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        full_registry().validate("decision.appealed", {**APPEAL, "received_at": "2026-12-07 10:00:00+01:00"})
