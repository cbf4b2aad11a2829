// govledger proof-pack verifier for the browser: RFC 9162 inclusion proofs (SHA-256 via WebCrypto)
// against a C2SP signed checkpoint, whose Ed25519 signature (WebCrypto) must verify under a
// verifier key the user supplies. No dependency, no network: it checks the pack it is given.
//
// What it trusts: this code, as the page served it. For a check that trusts nothing the server
// sends, download the pack and run `govledger verify-pack PACK --trusted-key VKEY` on your own machine.

const encoder = new TextEncoder();

export function hexToBytes(hex) {
  if (!/^([0-9a-f]{2})*$/.test(hex)) throw new Error(`not lower-case hex: ${hex.slice(0, 20)}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
  return out;
}

export function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function base64ToBytes(text) {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new Error("not base64");
  const raw = atob(text);
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

export async function leafHash(bytes) { return sha256(concat(new Uint8Array([0]), bytes)); }

export async function nodeHash(left, right) { return sha256(concat(new Uint8Array([1]), left, right)); }

// RFC 9162 section 2.1.3.2: the root an inclusion proof leads to.
export async function rootFromInclusionProof(leaf, index, size, proof) {
  if (size <= 0 || index < 0 || index >= size) throw new Error(`index ${index} is beyond tree size ${size}`);
  let fn = index, sn = size - 1, result = leaf;
  for (const element of proof) {
    if (sn === 0) throw new Error(`proof too long for index ${index} in size ${size}`);
    if (fn % 2 === 1 || fn === sn) {
      result = await nodeHash(element, result);
      if (fn % 2 === 0) { while (fn !== 0 && fn % 2 === 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); } }
    } else {
      result = await nodeHash(result, element);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Error(`proof too short for index ${index} in size ${size}`);
  return result;
}

// A verifier key "name+hexid+base64(0x01 || 32-byte Ed25519 key)", its id checked (C2SP signed-note).
export async function parseVerifierKey(text) {
  // the base64 key may itself hold "+": split at the first two only
  const trimmed = text.trim();
  const first = trimmed.indexOf("+");
  const second = trimmed.indexOf("+", first + 1);
  if (first <= 0 || second < 0) throw new Error("a verifier key has the form name+keyid+key");
  const name = trimmed.slice(0, first), idHex = trimmed.slice(first + 1, second), keyB64 = trimmed.slice(second + 1);
  const raw = base64ToBytes(keyB64);
  if (raw.length !== 33 || raw[0] !== 1) throw new Error("not an Ed25519 verifier key");
  const publicKey = raw.slice(1);
  const digest = await sha256(concat(encoder.encode(name + "\n"), new Uint8Array([1]), publicKey));
  if (bytesToHex(digest.slice(0, 4)) !== idHex) throw new Error("the key id does not match the key");
  return { name, idHex, publicKey };
}

export async function ed25519Verify(publicKey, message, signature) {
  const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
}

// A C2SP checkpoint note: origin, size, base64 root, extension lines; a blank line; signature lines.
export function parseCheckpoint(note) {
  const split = note.indexOf("\n\n");
  if (split < 0) throw new Error("the checkpoint has no signature block");
  const text = note.slice(0, split + 1);
  const lines = text.split("\n");
  const size = Number(lines[1]);
  if (!/^[0-9]+$/.test(lines[1]) || !Number.isSafeInteger(size)) throw new Error("the checkpoint size is not a number");
  const root = base64ToBytes(lines[2]);
  if (root.length !== 32) throw new Error("the checkpoint root is not 32 bytes");
  const signatures = note.slice(split + 2).split("\n").filter((l) => l !== "").map((line) => {
    if (!line.startsWith("\u2014 ")) throw new Error("a signature line must start with an em dash");
    const [name, sig] = line.slice(2).split(" ");
    const raw = base64ToBytes(sig);
    return { name, idHex: bytesToHex(raw.slice(0, 4)), signature: raw.slice(4) };
  });
  return { origin: lines[0], size, root, text, signatures };
}

// Verify a proof pack (the parsed JSON) under the verifier key text. Returns
// { verified, items: [{ what, ok, detail }], firstFailure }: every item is checked and listed.
export async function verifyPack(pack, verifierKeyText) {
  const items = [];
  const record = (what, ok, detail) => { items.push({ what, ok, detail }); return ok; };
  let checkpoint;
  try {
    checkpoint = parseCheckpoint(pack.checkpoint);
    record("checkpoint", true, `size ${checkpoint.size} of ${checkpoint.origin}`);
  } catch (error) {
    record("checkpoint", false, String(error.message || error));
  }
  if (checkpoint) {
    try {
      const key = await parseVerifierKey(verifierKeyText);
      const line = checkpoint.signatures.find((s) => s.name === key.name && s.idHex === key.idHex);
      if (!line) {
        record("checkpoint signature", false, `not signed by ${key.name}+${key.idHex} (if the log rotated its key, run govledger verify-pack offline)`);
      } else {
        const ok = await ed25519Verify(key.publicKey, encoder.encode(checkpoint.text), line.signature);
        record("checkpoint signature", ok, ok ? `Ed25519 signature by ${key.name}+${key.idHex}` : "the signature does not verify under this key");
      }
    } catch (error) {
      record("checkpoint signature", false, String(error.message || error));
    }
    for (const item of [...(pack.key_entries || []), ...(pack.entries || [])]) {
      const what = `entry ${item.seq}`;
      try {
        const leaf = await leafHash(encoder.encode(item.body));
        if (bytesToHex(leaf) !== item.leaf_hash) { record(what, false, "its body does not hash to its leaf hash"); continue; }
        const root = await rootFromInclusionProof(leaf, item.seq, checkpoint.size, item.path.map(hexToBytes));
        const ok = bytesToHex(root) === bytesToHex(checkpoint.root);
        record(what, ok, ok ? "included under the checkpoint's root" : "its inclusion proof leads to another root");
      } catch (error) {
        record(what, false, String(error.message || error));
      }
    }
  }
  const firstFailure = items.find((i) => !i.ok) || null;
  return { verified: items.length > 1 && firstFailure === null, items, firstFailure };
}
