"""Proof packs: built from real logs (SQLite and PostgreSQL), verified from bytes alone.

A pack must verify across a key rotation, be anchored only by a pinned key of the real log, and
refuse every single-byte change of its file, every re-encoding, and every semantic forgery.
"""

from __future__ import annotations

import base64
import json
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from govledger.cli import main
from ledger.api import Ledger
from ledger.errors import CorruptLedgerError, InvalidInputError, NotFoundError
from ledger.log import checkpoint as cp
from ledger.log import merkle
from ledger.log.canonical import canonical_json
from ledger.log.entry import Actor, decode_body
from ledger.log.note import Signer, generate_signer, parse_signer
from ledger.log.signing_keys import key_path
from ledger.storage.sequencer import CheckpointPolicy
from ledger.verification.proofpack import FORMAT, PackError, build_pack, verify_pack
from tests.ledger import tampering

ORIGIN = "test.example/log"


@pytest.fixture
def rotated(ledger: Ledger, home: Path, actor: Actor) -> tuple[Ledger, Signer]:
    """Entries 1, 2; the rotation at 3; entries 4, 5. Returns the ledger and the retired private key."""
    ledger.append("note.recorded", {"text": "model m-7 approved", "refs": [0]}, actor=actor, subject="model/m-7")
    ledger.append("note.recorded", {"text": 'héllo "quoted"\nline \u2028 [markup]'}, actor=actor)
    old = parse_signer(key_path(home, ORIGIN).read_text().strip())
    ledger.rotate_key(actor=actor, reason="scheduled")
    ledger.append("note.recorded", {"text": "after rotation"}, actor=actor)
    ledger.append("note.recorded", {"text": "evaluation", "refs": [1, 4]}, actor=actor, subject="model/m-7")
    return ledger, old


def edited(data: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    """The pack with a semantic change, re-encoded canonically (so only the change is wrong)."""
    pack = json.loads(data)
    change(pack)
    return canonical_json(pack)


def rejected(data: bytes, message: str = "", **kwargs: Any) -> str:
    with pytest.raises(PackError) as caught:
        verify_pack(data, **kwargs)
    assert message in str(caught.value)
    return str(caught.value)


# -- building and verifying ----------------------------------------------------------------------


def test_pack_across_a_key_rotation_verifies(rotated: tuple[Ledger, Signer]) -> None:
    ledger, _ = rotated
    data = build_pack(ledger, [5, 1, 4, 2, 1, 3], purpose="audit request 2026-17")
    assert canonical_json(json.loads(data)) == data
    pack = json.loads(data)
    assert sorted(pack) == ["checkpoint", "entries", "format", "key_entries", "origin", "purpose"]
    assert pack["format"] == FORMAT and pack["origin"] == ORIGIN
    assert [item["seq"] for item in pack["entries"]] == [1, 2, 3, 4, 5]
    assert [item["seq"] for item in pack["key_entries"]] == [0, 3]
    latest = ledger.latest_checkpoint()
    assert latest is not None and pack["checkpoint"] == latest.note
    for item in pack["entries"]:
        assert item["body"].encode() == ledger.get(item["seq"]).body
        assert item["path"] == [h.hex() for h in ledger.inclusion_proof(item["seq"], latest.size).path]

    report = verify_pack(data)
    ring = ledger.key_ring()
    assert (report.origin, report.size, report.root) == (ORIGIN, ledger.size, ledger.root())
    assert report.key_ids == tuple(v.key_id_hex for v in ring.verifiers) and len(report.key_ids) == 2
    assert report.signed_by == (ring.current.key_id_hex,)
    assert report.entries == tuple(decode_body(ledger.get(seq).body) for seq in (1, 2, 3, 4, 5))
    assert report.pinned is False and report.purpose == "audit request 2026-17"
    assert report.as_json()["entries"][0]["data"]["text"] == "model m-7 approved"


def test_pack_before_the_rotation_is_signed_by_the_old_key(rotated: tuple[Ledger, Signer]) -> None:
    """A pack can use any covering checkpoint: the size-4 one (ending at the rotation) is signed
    by the old key, which is allowed at that size."""
    ledger, old = rotated
    data = build_pack(ledger, [1])
    size4 = cp.sign(cp.Checkpoint(ORIGIN, 4, ledger.root(4)), [old]).note

    def to_size_4(pack: dict[str, Any]) -> None:
        pack["checkpoint"] = size4
        for item in (*pack["entries"], *pack["key_entries"]):
            item["path"] = [h.hex() for h in ledger.inclusion_proof(item["seq"], 4).path]

    report = verify_pack(edited(data, to_size_4))
    assert report.size == 4 and report.signed_by == (old.verifier.key_id_hex,)


def test_pinned_keys_anchor_the_pack_and_a_strangers_key_does_not(rotated: tuple[Ledger, Signer]) -> None:
    ledger, _ = rotated
    data = build_pack(ledger, [1, 4])
    ring = ledger.key_ring()
    assert verify_pack(data, trusted_keys=[ring.records[0].verifier]).pinned is True  # the first key
    assert verify_pack(data, trusted_keys=[ring.current]).pinned is True
    stranger = generate_signer(ORIGIN).verifier
    assert verify_pack(data, trusted_keys=[stranger, ring.current]).pinned is True  # one of them suffices
    rejected(data, "none of the trusted keys is in the pack's key ring", trusted_keys=[stranger])
    assert verify_pack(data, trusted_keys=[]).pinned is False


def test_a_pack_from_a_look_alike_log_verifies_alone_but_not_when_pinned(
    ledger: Ledger, actor: Actor, tmp_path: Path
) -> None:
    """Someone who rebuilds a log under the same origin with their own key makes a self-consistent
    pack; only a key pinned out of band tells it apart."""
    ledger.append("note.recorded", {"text": "real"}, actor=actor)
    policy = CheckpointPolicy(after_batch=True, max_delay_s=None)
    with Ledger.open(f"sqlite:///{tmp_path / 'fake.db'}", home=tmp_path / "fake-home", policy=policy) as fake:
        fake.init(origin=ORIGIN)
        fake.append("note.recorded", {"text": "forged"}, actor=actor)
        forged = build_pack(fake, [1])
    assert verify_pack(forged).entries[0]["data"] == {"text": "forged"}
    rejected(forged, "none of the trusted keys", trusted_keys=[ledger.key_ring().current])
    assert verify_pack(build_pack(ledger, [1]), trusted_keys=[ledger.key_ring().current]).pinned


def test_uses_the_newest_checkpoint_and_signs_one_when_entries_are_uncovered(
    ledger: Ledger, db_url: str, home: Path, actor: Actor
) -> None:
    lazy = Ledger.open(
        db_url, home=home, policy=CheckpointPolicy(after_batch=False, every_entries=None, max_delay_s=None)
    )
    try:
        lazy.append_many([{"kind": "note.recorded", "data": {"text": str(i)}} for i in range(3)], actor=actor)
        before = lazy.latest_checkpoint()
        assert before is not None and before.size == 1 and lazy.size == 4
        assert verify_pack(build_pack(lazy, [0])).size == 1  # the newest checkpoint already covers entry 0
        report = verify_pack(build_pack(lazy, [2]))
        latest = lazy.latest_checkpoint()
        assert latest is not None and report.size == latest.size == 4
    finally:
        lazy.close()


@pytest.mark.parametrize(
    ("seqs", "purpose", "error", "message"),
    [
        ([], None, InvalidInputError, "at least one entry"),
        ([1, -1], None, InvalidInputError, "not a non-negative integer"),
        ([True], None, InvalidInputError, "not a non-negative integer"),
        ([99], None, NotFoundError, "99"),
        ([1], "", InvalidInputError, "purpose"),
        ([1], "x" * 1001, InvalidInputError, "purpose"),
        ([1], "two\nlines", InvalidInputError, "control characters"),
    ],
)
def test_build_refuses_bad_requests(
    rotated: tuple[Ledger, Signer], seqs: list[Any], purpose: str | None, error: type[Exception], message: str
) -> None:
    ledger, _ = rotated
    with pytest.raises(error, match=message):
        build_pack(ledger, seqs, purpose=purpose)


def test_build_refuses_to_pack_a_damaged_log(ledger: Ledger, actor: Actor) -> None:
    ledger.append("note.recorded", {"text": "one"}, actor=actor)
    tampering.drop_append_only_triggers(ledger.engine)
    body = tampering.body_of(ledger.engine, 1)
    tampering.run(ledger.engine, "UPDATE entries SET body = :b WHERE seq = 1", b=body.replace(b"one", b"two"))
    with pytest.raises(CorruptLedgerError, match="entry 1: inclusion proof does not lead to the checkpoint root"):
        build_pack(ledger, [1])


def test_proofpack_does_not_import_the_database_layer() -> None:
    code = (
        "import sys, ledger.verification.proofpack\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'fastapi', 'alembic', 'pydantic'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


# -- tampering with the file ---------------------------------------------------------------------


def _replacements(original: int, position: int) -> set[int]:
    """Different bytes to put at `position`: a look-alike of the same class (a hex digit for a hex
    digit, a letter for a letter), one bit flipped, and a random printable byte."""
    char = chr(original)
    if char.isdigit():
        similar = ord("0") + (int(char) + 1) % 10
    elif "a" <= char <= "z":
        similar = ord("a") + (original - ord("a") + 1) % 26
    elif "A" <= char <= "Z":
        similar = ord("A") + (original - ord("A") + 1) % 26
    else:
        similar = ord("x")
    printable = [c for c in range(0x20, 0x7F) if c != original]
    return {similar, original ^ 0x01, random.Random(position).choice(printable)} - {original}


def test_changing_any_single_byte_of_the_file_is_rejected(rotated: tuple[Ledger, Signer]) -> None:
    """Exhaustive: every byte position of a 3-entry pack (across a rotation), three replacements each."""
    ledger, _ = rotated
    data = build_pack(ledger, [1, 2, 4])
    assert verify_pack(data).size == ledger.size
    accepted = []
    tried = 0
    for position, original in enumerate(data):
        for replacement in _replacements(original, position):
            tried += 1
            try:
                verify_pack(data[:position] + bytes([replacement]) + data[position + 1 :])
            except PackError:
                continue
            accepted.append((position, chr(original), chr(replacement)))
    assert tried > 2 * len(data) and not accepted, accepted[:10]


def test_inserting_or_deleting_a_byte_is_rejected(rotated: tuple[Ledger, Signer]) -> None:
    ledger, _ = rotated
    data = build_pack(ledger, [2])
    for position in range(0, len(data), 7):
        rejected(data[:position] + data[position + 1 :])
        rejected(data[:position] + b" " + data[position:])
    rejected(data + b"\n", "canonical")
    rejected(b"", "not JSON")


def test_re_encodings_of_the_same_content_are_rejected(rotated: tuple[Ledger, Signer]) -> None:
    ledger, _ = rotated
    data = build_pack(ledger, [1, 2])
    pack = json.loads(data)
    reordered = json.dumps(dict(reversed(list(pack.items()))), ensure_ascii=False, separators=(",", ":"))
    rejected(reordered.encode(), "not in canonical form")
    rejected(json.dumps(pack, ensure_ascii=False, indent=2, sort_keys=True).encode(), "not in canonical form")
    rejected(json.dumps(pack, ensure_ascii=False, sort_keys=True).encode(), "not in canonical form")  # ", " and ": "
    rejected(json.dumps(pack, sort_keys=True, separators=(",", ":")).encode(), "not in canonical form")  # \u00e9
    rejected(b"\xef\xbb\xbf" + data, "not JSON")  # a byte-order mark
    rejected(data.decode().encode("utf-16"), "not UTF-8")
    duplicated = data.replace(b'{"checkpoint":', b'{"checkpoint":"x","checkpoint":', 1)
    rejected(duplicated, "not in canonical form")


def test_signature_base64_with_other_unused_bits_is_rejected(rotated: tuple[Ledger, Signer]) -> None:
    """The last base64 character of a 68-byte signature carries 2 unused bits: a variant decodes to
    the same signature and must be refused as non-canonical, by the note parser and by the pack."""
    ledger, _ = rotated
    data = build_pack(ledger, [1])
    note = json.loads(data)["checkpoint"]
    line = note.splitlines()[-1]
    last = line[-2]  # before the "=" padding
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    variant = alphabet[alphabet.index(last) ^ 0x01]
    assert base64.b64decode(line[-4:-2] + variant + "=") == base64.b64decode(line[-4:])
    forged = note.replace(line, line[:-2] + variant + "=")
    with pytest.raises(cp.CheckpointError, match="canonical base64"):
        cp.open_signed(forged, ledger.key_ring().verifiers)
    rejected(edited(data, lambda pack: pack.update(checkpoint=forged)), "canonical base64")


# -- semantic forgeries, each re-encoded canonically ---------------------------------------------


def _swap_bodies(pack: dict[str, Any]) -> None:
    first, second = pack["entries"][0], pack["entries"][1]
    first["body"], second["body"] = second["body"], first["body"]


def _swap_bodies_and_leaf_hashes(pack: dict[str, Any]) -> None:
    _swap_bodies(pack)
    first, second = pack["entries"][0], pack["entries"][1]
    first["leaf_hash"], second["leaf_hash"] = second["leaf_hash"], first["leaf_hash"]


def _replace_entry_with_its_neighbour(pack: dict[str, Any]) -> None:
    """Entry 2 presented as entry 1 with its own hash and path: its body still says 2."""
    pack["entries"] = [dict(pack["entries"][1], seq=1)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.update(extra=1), "unknown members: extra"),
        (lambda p: p.pop("purpose"), "lacks members: purpose"),
        (lambda p: p.update(format="govledger-proof-pack/2"), "format"),
        (lambda p: p.update(origin="other.example/log"), "origin mismatch"),
        (lambda p: p.update(purpose="x\u0007"), "control characters"),
        (lambda p: p.update(entries=[]), "entries is not a non-empty list"),
        (lambda p: p["entries"][0].update(note="hi"), "entry at position 0 has unknown members: note"),
        (lambda p: p["entries"][0].update(seq=True), "seq is not a non-negative integer"),
        (lambda p: p["entries"][0]["path"].pop(), "entry 1: inclusion proof does not lead to the checkpoint root"),
        (lambda p: p["entries"][0]["path"].pop(0), "entry 1: inclusion proof does not lead to the checkpoint root"),
        (
            lambda p: p["entries"][0]["path"].append("00" * 32),
            "entry 1: inclusion proof does not lead to the checkpoint root",
        ),
        (lambda p: p["entries"][0].update(leaf_hash=p["entries"][0]["leaf_hash"].upper()), "lower-case hex"),
        (_swap_bodies, "entry 1: body does not hash to its leaf_hash"),
        (_swap_bodies_and_leaf_hashes, "entry 1: its body says it is entry 2"),
        (_replace_entry_with_its_neighbour, "entry 1: its body says it is entry 2"),
        (lambda p: p["entries"].reverse(), "not in increasing seq order"),
        (lambda p: p["entries"].append(p["entries"][-1]), "without duplicates"),
        (lambda p: p["entries"][-1].update(seq=7), "entry 7: not covered by the checkpoint"),
        (lambda p: p["key_entries"].pop(), "checkpoint: not signed by a key of the ring allowed"),  # rotation dropped
        (lambda p: p["key_entries"].pop(0), "key entries do not start with entry 0"),
        (lambda p: p["key_entries"][1]["path"].pop(), "key entry 3: inclusion proof does not lead"),
        (lambda p: p["key_entries"].insert(1, p["entries"][0]), "key entry 1: is a 'note.recorded' entry"),
        (lambda p: p.update(checkpoint=p["checkpoint"].replace("\n\n", "\n")), "checkpoint: malformed"),
    ],
)
def test_forgeries_are_rejected_naming_what_failed(
    rotated: tuple[Ledger, Signer], change: Callable[[dict[str, Any]], None], message: str
) -> None:
    ledger, _ = rotated
    data = build_pack(ledger, [1, 2])
    rejected(edited(data, change), message)


def test_a_body_edited_with_its_hash_fails_the_inclusion_proof(rotated: tuple[Ledger, Signer]) -> None:
    ledger, _ = rotated
    data = build_pack(ledger, [1])

    def rewrite(pack: dict[str, Any]) -> None:
        body = pack["entries"][0]["body"].replace("approved", "rejected")
        pack["entries"][0].update(body=body, leaf_hash=merkle.leaf_hash(body.encode()).hex())

    rejected(edited(data, rewrite), "entry 1: inclusion proof does not lead to the checkpoint root")


def test_checkpoints_signed_by_a_stranger_or_a_retired_key_are_rejected(rotated: tuple[Ledger, Signer]) -> None:
    ledger, old = rotated
    data = build_pack(ledger, [1, 4])
    body = cp.Checkpoint(ORIGIN, ledger.size, ledger.root())
    stranger = cp.sign(body, [generate_signer(ORIGIN)]).note
    rejected(edited(data, lambda p: p.update(checkpoint=stranger)), "checkpoint: not signed by a key of the ring")
    # The retired key may not sign beyond the checkpoint that ends at its rotation (entry 3, size 4).
    retired = cp.sign(body, [old]).note
    rejected(edited(data, lambda p: p.update(checkpoint=retired)), "allowed to sign size 6")
    # A checkpoint for another origin, signed by a key named after it.
    other = cp.sign(
        cp.Checkpoint("evil.example/log", ledger.size, ledger.root()), [generate_signer("evil.example/log")]
    )
    rejected(edited(data, lambda p: p.update(checkpoint=other.note)), "origin mismatch")
    rejected(edited(data, lambda p: p.update(checkpoint=other.note, origin="evil.example/log")), "origin mismatch")


def test_a_forged_rotation_to_the_forgers_key_is_rejected(rotated: tuple[Ledger, Signer]) -> None:
    """Replacing the rotation entry's statement (so the ring would accept a key of the forger's)
    changes its body: it is no longer the proven leaf."""
    ledger, _ = rotated
    data = build_pack(ledger, [4])

    def forge(pack: dict[str, Any]) -> None:
        item = pack["key_entries"][1]
        envelope = json.loads(item["body"])
        envelope["data"]["reason"] = "forged"
        body = canonical_json(envelope).decode()
        item.update(body=body, leaf_hash=merkle.leaf_hash(body.encode()).hex())

    rejected(edited(data, forge), "key entry 3: inclusion proof does not lead to the checkpoint root")


def test_the_purpose_is_an_unsigned_label(rotated: tuple[Ledger, Signer]) -> None:
    """Nothing authenticates the purpose (it is not in the log): an edit keeps the pack valid, and
    the report and the CLI call it unsigned. Every other member is covered."""
    ledger, _ = rotated
    data = build_pack(ledger, [1], purpose="audit A")
    assert verify_pack(data).purpose == "audit A"
    assert verify_pack(edited(data, lambda p: p.update(purpose="audit B"))).purpose == "audit B"
    assert verify_pack(edited(data, lambda p: p.update(purpose=None))).purpose is None


# -- the command line ----------------------------------------------------------------------------

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(db_url: str, home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    monkeypatch.setenv("GOVLEDGER_DATABASE_URL", db_url)
    monkeypatch.setenv("GOVLEDGER_HOME", str(home))

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exited:
            main(list(args))
        captured = capsys.readouterr()
        return int(exited.value.code or 0), captured.out, captured.err

    assert run("init", "--origin", "cli.example/log")[0] == 0
    for text in ("one", "two"):
        assert run("append", "--kind", "note.recorded", "--data", json.dumps({"text": text}))[0] == 0
    assert run("keys", "rotate", "--reason", "test")[0] == 0
    assert run("append", "--kind", "note.recorded", "--data", '{"text":"three [bold]"}')[0] == 0
    return run


def test_cli_pack_then_verify_pack(cli: Run, tmp_path: Path) -> None:
    pack_file = tmp_path / "pack.json"
    code, out, err = cli("pack", "4", "1", "2", "-o", str(pack_file), "--purpose", "audit [x]")
    assert code == 0, err
    assert "3 entries proven against checkpoint size 5" in out
    code, out, err = cli("verify-pack", str(pack_file))
    assert code == 0, err
    assert "cli.example/log" in out and "checkpoint size 5" in out and "3 entries verified: 1, 2, 4" in out
    assert "purpose (not signed): audit [x]" in out
    assert "warning: no --trusted-key given: the pack is only self-consistent" in out

    code, out, _ = cli("keys", "list", "--json")
    first_key = json.loads(out)["keys"][0]["key"]
    code, out, err = cli("verify-pack", str(pack_file), "--trusted-key", first_key)
    assert code == 0, err
    assert "warning" not in out and "anchored" in out
    code, out, _ = cli("verify-pack", str(pack_file), "--trusted-key", first_key, "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] is True and report["pinned"] is True and report["size"] == 5
    assert [e["seq"] for e in report["entries"]] == [1, 2, 4] and report["entries"][2]["data"]["text"] == "three [bold]"


def test_cli_verify_pack_exit_1_when_the_pack_fails(cli: Run, tmp_path: Path) -> None:
    pack_file = tmp_path / "pack.json"
    assert cli("pack", "1", "-o", str(pack_file))[0] == 0
    data = pack_file.read_bytes()
    pack_file.write_bytes(data.replace(b"one", b"One"))
    code, out, err = cli("verify-pack", str(pack_file))
    assert code == 1 and out == ""
    assert err.strip().splitlines() == [
        "govledger: error: proof pack rejected: entry 1: body does not hash to its leaf_hash"
    ]
    code, out, err = cli("verify-pack", str(pack_file), "--json")
    assert code == 1 and json.loads(out) == {"ok": False, "error": "entry 1: body does not hash to its leaf_hash"}
    pack_file.write_bytes(data)
    stranger = generate_signer("cli.example/log").verifier.vkey
    code, _, err = cli("verify-pack", str(pack_file), "--trusted-key", stranger)
    assert code == 1 and "none of the trusted keys" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("verify-pack", "{missing}"), "cannot read proof pack"),
        (("verify-pack", "{dir}"), "cannot read proof pack"),
        (("verify-pack", "{pack}", "--trusted-key", "not-a-key"), "--trusted-key is not a verifier key"),
        (("verify-pack",), "Missing argument"),
        (("pack", "-o", "{out}"), "Missing argument"),
        (("pack", "1"), "Missing option"),
        (("pack", "99", "-o", "{out}"), "does not exist"),
        (("pack", "-1", "-o", "{out}"), ""),
        (("pack", "1", "-o", "{dir}/no/such/dir/p.json"), "cannot write"),
        (("pack", "1", "-o", "{out}", "--purpose", ""), "purpose"),
    ],
)
def test_cli_bad_usage_exits_2(cli: Run, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    pack_file = tmp_path / "pack.json"
    assert cli("pack", "1", "-o", str(pack_file))[0] == 0
    names = {"missing": tmp_path / "missing.json", "dir": tmp_path, "pack": pack_file, "out": tmp_path / "out.json"}
    code, _, err = cli(*(arg.format(**names) for arg in args))
    assert code == 2, err
    assert message in err


def test_cli_verify_pack_touches_no_database(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pack_file = tmp_path / "pack.json"
    assert cli("pack", "1", "2", "-o", str(pack_file))[0] == 0
    nowhere = tmp_path / "no" / "such" / "dir"
    monkeypatch.setenv("GOVLEDGER_DATABASE_URL", f"sqlite:///{nowhere / 'ledger.db'}")
    monkeypatch.setenv("GOVLEDGER_HOME", str(nowhere / "home"))

    def no_database(*args: object, **kwargs: object) -> None:
        raise AssertionError("verify-pack opened a database")

    monkeypatch.setattr("ledger.api.create_engine", no_database)
    monkeypatch.setattr("ledger.api.Ledger.from_settings", no_database)
    for extra, expected in (((), "2 entries verified: 1, 2"), (("--json",), '"ok": true')):
        with pytest.raises(SystemExit) as exited:
            main(["verify-pack", str(pack_file), *extra])
        captured = capsys.readouterr()
        assert exited.value.code == 0, captured.err
        assert expected in captured.out
    assert not (tmp_path / "no").exists()
