/**
 * SHA peers: hash-wasm (hand-written C compiled to WebAssembly) and @noble/hashes
 * (audited pure JavaScript). hash-wasm is timed through its synchronous hasher
 * (`init().update().digest("binary")` on an instance created once), its fastest API;
 * its one-shot `sha256()` is async and would add a promise per call.
 *
 * @module
 */
import { createSHA1, createSHA256 } from "hash-wasm";
import { sha256 } from "@noble/hashes/sha2.js";
import { sha1 } from "@noble/hashes/legacy.js";
import type { HashAdapter } from "./types.ts";

type Hasher = Awaited<ReturnType<typeof createSHA256>>;

let _sha1: Hasher | undefined;
let _sha256: Hasher | undefined;

function _run(h: Hasher | undefined, d: Uint8Array): Uint8Array {
  if (h === undefined) throw new Error("bench: hash-wasm used before init()");
  return h.init().update(d).digest("binary");
}

export const hashWasm: HashAdapter = {
  name: "hash-wasm",
  kind: "wasm",
  label: "hash-wasm 4.13.0 (C → wasm)",
  async init() {
    _sha1 = await createSHA1();
    _sha256 = await createSHA256();
  },
  sha1: (d) => _run(_sha1, d),
  sha256: (d) => _run(_sha256, d),
};

export const nobleHashes: HashAdapter = {
  name: "noble-hashes",
  kind: "js",
  label: "@noble/hashes 2.4.0 (JS)",
  sha1: (d) => sha1(d),
  sha256: (d) => sha256(d),
};
