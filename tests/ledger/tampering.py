"""What an attacker with database-owner rights can do: drop the triggers and edit rows directly."""

from __future__ import annotations

import base64
import json

from sqlalchemy import Engine, text

from ledger.log import merkle
from ledger.log.entry import Actor, make_draft, seal
from ledger.log.subtrees import Frontier

SIGNATURE_PREFIX = "\u2014 "  # a signed note's signature lines: em dash, space, name, space, base64


def drop_append_only_triggers(engine: Engine) -> None:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            for table in ("entries", "checkpoints"):
                conn.execute(text(f"DROP TRIGGER {table}_append_only ON {table}"))
                conn.execute(text(f"DROP TRIGGER {table}_no_truncate ON {table}"))
        else:
            for table in ("entries", "checkpoints"):
                conn.execute(text(f"DROP TRIGGER {table}_no_update"))
                conn.execute(text(f"DROP TRIGGER {table}_no_delete"))


def run(engine: Engine, sql: str, **params: object) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql), params)


def body_of(engine: Engine, seq: int) -> bytes:
    with engine.connect() as conn:
        return bytes(conn.execute(text("SELECT body FROM entries WHERE seq = :s"), {"s": seq}).scalar_one())


def rows(engine: Engine) -> list[tuple[int, bytes, bytes, bytes, str, str | None, str]]:
    with engine.connect() as conn:
        result = conn.execute(text("SELECT seq, body, leaf_hash, closes, kind, subject, ts FROM entries ORDER BY seq"))
        return [(r[0], bytes(r[1]), bytes(r[2]), bytes(r[3]), r[4], r[5], r[6]) for r in result]


def rewrite_from(engine: Engine, bodies: list[bytes]) -> None:
    """Replace the whole log with `bodies`, recomputing every hash, link and subtree: a perfect forgery
    of everything except signatures."""
    frontier = Frontier()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM entries"))
        last_hash = bytes(32)
        for seq, body in enumerate(bodies):
            leaf = merkle.leaf_hash(body)
            closes = b"".join(frontier.append(leaf))
            envelope = json.loads(body)
            conn.execute(
                text(
                    "INSERT INTO entries (seq, leaf_hash, closes, kind, subject, ts, body) "
                    "VALUES (:seq, :leaf, :closes, :kind, :subject, :ts, :body)"
                ),
                {
                    "seq": seq,
                    "leaf": leaf,
                    "closes": closes,
                    "body": body,
                    "kind": envelope["kind"],
                    "subject": envelope["subject"],
                    "ts": envelope["ts"],
                },
            )
            last_hash = leaf
        conn.execute(text("UPDATE log_head SET size = :n, head_hash = :h"), {"n": len(bodies), "h": last_hash})


def forged_body(seq: int, prev: bytes, text_value: str, ts: str = "2026-01-01T00:00:00.000000Z") -> bytes:
    draft = make_draft("note.recorded", {"text": text_value}, actor=Actor("local:mallory", "mallory"))
    return seal(draft, seq=seq, ts=ts, prev=prev).body


def corrupt_signature(note: str, key_id: int) -> str:
    """Flip one bit of the Ed25519 signature by `key_id` in a signed note, leaving its key id intact
    (so the verifier finds the key and must reject the signature)."""
    lines = note.split("\n")
    for number, line in enumerate(lines):
        if not line.startswith(SIGNATURE_PREFIX):
            continue
        name, encoded = line[len(SIGNATURE_PREFIX) :].rsplit(" ", 1)
        blob = bytearray(base64.b64decode(encoded))
        if int.from_bytes(blob[:4], "big") == key_id:
            blob[4 + 17] ^= 0x08
            lines[number] = f"{SIGNATURE_PREFIX}{name} {base64.b64encode(bytes(blob)).decode()}"
            return "\n".join(lines)
    raise ValueError(f"no signature by key {key_id:08x} in the note")


def drop_signature(note: str, key_id: int) -> str:
    """Remove the signature line by `key_id` from a signed note."""
    kept = []
    for line in note.split("\n"):
        if line.startswith(SIGNATURE_PREFIX):
            blob = base64.b64decode(line.rsplit(" ", 1)[1])
            if int.from_bytes(blob[:4], "big") == key_id:
                continue
        kept.append(line)
    if len(kept) == len(note.split("\n")):
        raise ValueError(f"no signature by key {key_id:08x} in the note")
    return "\n".join(kept)


def relink(bodies: list[bytes]) -> list[bytes]:
    """Fix every `prev` link after an edit, as a forger would."""
    from ledger.log.canonical import canonical_json

    fixed: list[bytes] = []
    prev = bytes(32)
    for body in bodies:
        envelope = json.loads(body)
        envelope["prev"] = prev.hex()
        new_body = canonical_json(envelope)
        fixed.append(new_body)
        prev = merkle.leaf_hash(new_body)
    return fixed


def append_forged_tail(engine: Engine, actor: Actor, text_value: str = "forged") -> int:
    """Append one entry straight into the database at the tail, as the sequencer would (valid
    chain, leaf hash, subtree hashes, head row moved) but without it. Returns its seq."""
    from ledger.storage import store

    with engine.begin() as conn:
        head = store.read_head(conn)
        nodes = Frontier.nodes(head.size)
        found = store.fetch_nodes(conn, nodes)
        frontier = Frontier(head.size, [found[node] for node in nodes])
        ts = head.last_ts
        draft = make_draft("note.recorded", {"text": text_value}, actor=actor)
        entry = seal(draft, seq=head.size, ts=ts, prev=head.head_hash)
        closes = b"".join(frontier.append(entry.leaf_hash))
        conn.execute(
            text(
                "INSERT INTO entries (seq, leaf_hash, closes, kind, subject, ts, body) "
                "VALUES (:seq, :leaf, :closes, :kind, NULL, :ts, :body)"
            ),
            {"seq": entry.seq, "leaf": entry.leaf_hash, "closes": closes, "kind": entry.kind}
            | {"ts": ts, "body": entry.body},
        )
        conn.execute(text("UPDATE log_head SET size = :n, head_hash = :h"), {"n": entry.seq + 1, "h": entry.leaf_hash})
    return entry.seq
