"""Signed notes and checkpoints against the Go reference implementation's known answers."""

from __future__ import annotations

import base64

import pytest

from ledger.log import checkpoint, note

# From the documentation of golang.org/x/mod/sumdb/note. Ed25519 is deterministic, so signing
# the same text with the same key must reproduce this note byte for byte.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_SIGNATURE = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
GO_NOTE = GO_TEXT + "\n\u2014 PeterNeumann " + GO_SIGNATURE + "\n"


def test_signing_reproduces_the_go_reference_note_byte_for_byte() -> None:
    signer = note.parse_signer(GO_SKEY)
    assert signer.verifier.vkey == GO_VKEY
    assert note.sign_note(GO_TEXT, [signer]) == GO_NOTE
    assert signer.skey == GO_SKEY


def test_go_reference_note_opens_with_its_verifier_key() -> None:
    opened = note.open_note(GO_NOTE, [note.parse_verifier(GO_VKEY)])
    assert opened.text == GO_TEXT
    assert [v.key_id_hex for v in opened.verified] == ["c74f20a3"]


def test_changed_text_or_signature_is_rejected() -> None:
    verifier = note.parse_verifier(GO_VKEY)
    with pytest.raises(note.NoteError, match="invalid signature"):
        note.open_note(GO_NOTE.replace("cryptography", "cryptographY"), [verifier])
    blob = bytearray(base64.b64decode(GO_NOTE.rsplit(" ", 1)[1]))
    blob[10] ^= 1
    tampered = GO_NOTE.rsplit(" ", 1)[0] + " " + base64.b64encode(bytes(blob)).decode() + "\n"
    with pytest.raises(note.NoteError, match="invalid signature"):
        note.open_note(tampered, [verifier])


def test_note_signed_only_by_unknown_key_is_rejected() -> None:
    stranger = note.generate_signer("PeterNeumann")
    with pytest.raises(note.NoteError, match="no signature by a known key"):
        note.open_note(GO_NOTE, [stranger.verifier])


def test_key_id_mismatch_and_malformed_keys_are_refused() -> None:
    with pytest.raises(note.NoteError, match="does not match"):
        note.parse_verifier(GO_VKEY.replace("c74f20a3", "c74f20a4"))
    for bad in ("", "name+c74f20a3", "na me+c74f20a3+AAAA", "PeterNeumann+C74F20A3+ARpc", "x+c74f20a3+!!!"):
        with pytest.raises(note.NoteError):
            note.parse_verifier(bad)
    with pytest.raises(note.NoteError, match="PRIVATE"):
        note.parse_signer(GO_VKEY + "+x+y")


def test_malformed_notes_are_refused() -> None:
    verifier = note.parse_verifier(GO_VKEY)
    for bad in (GO_TEXT, GO_NOTE[:-1], GO_NOTE.replace("\u2014", "-"), GO_TEXT + "\n", "a\x01\n\n" + GO_NOTE[-99:]):
        with pytest.raises(note.NoteError):
            note.open_note(bad, [verifier])


def test_checkpoint_round_trip_and_format() -> None:
    signer = note.generate_signer("example.com/log")
    cp = checkpoint.Checkpoint("example.com/log", 42, bytes(range(32)))
    signed = checkpoint.sign(cp, [signer])
    body = signed.note.split("\n\n")[0] + "\n"
    assert body == "example.com/log\n42\n" + base64.b64encode(bytes(range(32))).decode() + "\n"
    assert checkpoint.open_signed(signed.note, [signer.verifier], origin="example.com/log").checkpoint == cp
    with pytest.raises(checkpoint.CheckpointError, match="origin"):
        checkpoint.open_signed(signed.note, [signer.verifier], origin="other")


@pytest.mark.parametrize(
    "body",
    [
        "o\n",
        "o\n01\n" + "A" * 44 + "\n",
        "o\n-1\nAAAA\n",
        "o\n1\nnot base64\n",
        "o\n1\nAAAA\n",
        "\n1\n" + "A" * 44 + "\n",
    ],
)
def test_malformed_checkpoint_bodies_are_refused(body: str) -> None:
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.parse_body(body)


def test_a_checkpoint_root_in_non_canonical_base64_is_refused() -> None:
    """base64 of 32 bytes ends in one character whose low 2 bits are unused: `AA...AB=` decodes
    to the same root as `AA...AA=`. Only the canonical rendering is accepted, as for signature
    lines, so a signed checkpoint has one text."""
    canonical = base64.b64encode(bytes(32)).decode()
    assert canonical.endswith("A=")
    variant = canonical[:-2] + "B="
    assert base64.b64decode(variant) == bytes(32)
    assert checkpoint.parse_body(f"o\n1\n{canonical}\n").root == bytes(32)
    with pytest.raises(checkpoint.CheckpointError, match="canonical base64"):
        checkpoint.parse_body(f"o\n1\n{variant}\n")
