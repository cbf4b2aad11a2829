"""Entry encoding: the bytes spliced under the sequencer lock are exactly RFC 8785 of the envelope."""

from __future__ import annotations

import json
import math

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import InvalidInputError, PayloadTooLargeError
from ledger.log import merkle
from ledger.log.canonical import MAX_SAFE_INTEGER, canonical_json
from ledger.log.entry import Actor, decode_body, make_draft, seal, stored_data_json

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=20,
)
printable = st.text(st.characters(min_codepoint=0x20, exclude_categories=("Cs",)), min_size=1, max_size=30)


@settings(max_examples=500, deadline=None)
@given(
    data=st.dictionaries(text, values, max_size=5),
    subject=st.none() | printable,
    actor_name=printable,
    seq=st.integers(0, 2**40),
    prev=st.binary(min_size=32, max_size=32),
)
def test_sealed_body_is_rfc8785_of_the_envelope(
    data: dict[str, object], subject: str | None, actor_name: str, seq: int, prev: bytes
) -> None:
    actor = Actor("key:1", actor_name)
    draft = make_draft("note.recorded", data, actor=actor, subject=subject)
    sealed = seal(draft, seq=seq, ts="2026-11-23T10:00:00.000000Z", prev=prev)
    envelope = {
        "v": 1,
        "seq": seq,
        "ts": "2026-11-23T10:00:00.000000Z",
        "kind": "note.recorded",
        "actor": {"id": "key:1", "name": actor_name},
        "subject": subject,
        "data": data,
        "prev": prev.hex(),
    }
    assert sealed.body == rfc8785.dumps(envelope)
    assert sealed.leaf_hash == merkle.leaf_hash(sealed.body)
    assert decode_body(sealed.body)["seq"] == seq


@pytest.mark.parametrize(
    ("kind", "data", "subject", "field"),
    [
        ("Note.Recorded", {}, None, "kind"),
        ("note", {}, None, "kind"),
        ("note.recorded", [], None, "data"),
        ("note.recorded", {"x": math.nan}, None, "data"),
        ("note.recorded", {"x": 2**60}, None, "data"),
        ("note.recorded", {"x": "\ud800"}, None, "data"),
        ("note.recorded", {}, "line\nbreak", "subject"),
        ("note.recorded", {}, "", "subject"),
        ("note.recorded", {}, "s" * 257, "subject"),
    ],
)
def test_malformed_envelopes_are_refused_with_the_field_named(
    kind: str, data: object, subject: str | None, field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        make_draft(kind, data, actor=Actor("a", "b"), subject=subject)
    assert caught.value.errors[0]["loc"][0] == field


def test_entry_over_the_size_limit_is_refused() -> None:
    with pytest.raises(PayloadTooLargeError, match="over the limit of 4096"):
        make_draft("note.recorded", {"text": "x" * 5000}, actor=Actor("a", "b"), max_entry_bytes=4096)


def test_stored_data_json_is_the_exact_data_slice_or_nothing() -> None:
    """The read path serves `data` as the stored bytes: the slice must be `data` exactly, even when
    the payload holds strings that look like envelope members, and None when the members given do
    not rebuild the body's ends (never a wrong slice)."""
    data = {"x": ',"kind":"note.recorded","prev":"', "deep": [[[{"seq": 1}]]], "é": "\u2028"}
    draft = make_draft("note.recorded", data, actor=Actor("key:1", "k"), subject="s")
    entry = seal(draft, seq=7, ts="2026-01-01T00:00:00.000000Z", prev=bytes(32))
    envelope = json.loads(entry.body)
    raw = stored_data_json(entry.body, envelope)
    assert raw is not None and json.loads(raw) == data
    assert canonical_json(data) == raw
    for member, value in (("seq", 8), ("kind", "note.other"), ("subject", None), ("v", 2), ("actor", {"id": "x"})):
        assert stored_data_json(entry.body, {**envelope, member: value}) is None, member
    assert stored_data_json(entry.body, {k: v for k, v in envelope.items() if k != "ts"}) is None
