// Checks, in the customer's own browser, that each ledger entry on the page is in the
// tree whose root the ledger's key signed: SHA-256 leaf and node hashes (RFC 9162
// §2.1.1 and §2.1.3.2) and the Ed25519 signature over the RFC 6962 tree head, all with
// WebCrypto. The row's cells are then filled from the bytes that were checked, so what
// is shown is what was verified, not what the server's HTML said.
"use strict";

const hex = (text) => Uint8Array.from(text.match(/../g) || [], (b) => parseInt(b, 16));
const base64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const join = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};
const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

async function rootFrom(leaf, index, size, proof) {
  // RFC 9162 §2.1.3.2: the root an inclusion proof leads to, or null if it cannot.
  if (index < 0 || index >= size) return null;
  let fn = BigInt(index), sn = BigInt(size - 1), r = leaf;
  for (const p of proof) {
    if (p.length !== 32 || sn === 0n) return null;
    if ((fn & 1n) === 1n || fn === sn) {
      r = await sha256(join(Uint8Array.of(1), p, r));
      while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      r = await sha256(join(Uint8Array.of(1), r, p));
    }
    fn >>= 1n; sn >>= 1n;
  }
  return sn === 0n ? r : null;
}

function treeHeadBytes(timestamp, size, root) {
  // RFC 6962 §3.5 TreeHeadSignature: version 0, signature type 1 (tree_hash), then
  // the timestamp and tree size as 64-bit big-endian integers, then the root.
  const view = new DataView(new ArrayBuffer(18));
  view.setUint8(0, 0);
  view.setUint8(1, 1);
  view.setBigUint64(2, BigInt(timestamp));
  view.setBigUint64(10, BigInt(size));
  return join(new Uint8Array(view.buffer), root);
}

async function headIsSigned(head) {
  const key = await crypto.subtle.importKey("raw", hex(head.dataset.key), { name: "Ed25519" }, false, ["verify"]);
  const signed = treeHeadBytes(head.dataset.timestamp, head.dataset.size, hex(head.dataset.root));
  return crypto.subtle.verify({ name: "Ed25519" }, key, hex(head.dataset.signature), signed);
}

function show(row, entry) {
  const words = (v) => (v === undefined || v === null ? "—" : String(v).replaceAll("_", " "));
  for (const cell of row.querySelectorAll("[data-field]")) {
    const field = cell.dataset.field;
    cell.textContent = field === "time" ? String(entry.time) : words(entry[field]);
    if (field === "kind" && entry.decision === "deny") cell.textContent += " — " + cell.dataset.refused;
  }
}

async function checkRow(row, head, signed) {
  // "yes": the entry's own bytes are in the signed tree; "partial": an entry naming
  // other customers, shown with their ids taken out — its place in the tree is proven
  // but what is shown cannot be re-hashed, so it is not counted as verified; "no".
  const cell = row.querySelector(".check");
  let state = "no";
  try {
    const bytes = base64(row.dataset.entry);
    const redacted = row.dataset.leaf !== "";
    const leaf = redacted ? hex(row.dataset.leaf) : await sha256(join(Uint8Array.of(0), bytes));
    const proof = row.dataset.proof ? row.dataset.proof.split(",").map(hex) : [];
    const index = Number(row.dataset.index), size = Number(head.dataset.size);
    const root = Number.isSafeInteger(index) && Number.isSafeInteger(size)
      ? await rootFrom(leaf, index, size, proof) : null;
    const inTree = signed && root !== null && same(root, hex(head.dataset.root));
    show(row, JSON.parse(new TextDecoder().decode(bytes)));
    state = inTree ? (redacted ? "partial" : "yes") : "no";
  } catch (err) {
    state = "no";  // unreadable bytes or proof: not verified
  }
  const mark = { yes: "✓ ", partial: "◐ ", no: "✗ " }[state];
  cell.textContent = mark + cell.dataset[{ yes: "ok", partial: "partial", no: "bad" }[state]];
  cell.className = "check " + (state === "no" ? "failed" : "verified");
  row.dataset.verified = state;
  return state;
}

async function main() {
  const head = document.getElementById("head");
  const summary = document.getElementById("summary");
  if (!head || !summary) return;
  let signed;
  try {
    signed = await headIsSigned(head);
  } catch (err) {
    summary.textContent = summary.dataset.unsupported;
    summary.className = "failed";
    summary.dataset.result = "unsupported";
    return;
  }
  const states = [];
  for (const row of document.querySelectorAll("tr.entry")) states.push(await checkRow(row, head, signed));
  const ok = signed && !states.includes("no");
  let text = ok ? summary.dataset.ok : summary.dataset.bad;
  if (ok && states.length === 0) text = summary.dataset.none;
  if (ok && states.includes("partial")) text += " " + summary.dataset.partial;
  summary.textContent = text;
  summary.className = ok ? "verified" : "failed";
  summary.dataset.result = ok ? "verified" : "failed";
}

main();
