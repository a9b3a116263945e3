/**
 * @hazae41/rsa.wasm: the RustCrypto `rsa` crate compiled to WebAssembly. It offers
 * PKCS#1 v1.5 "unprefixed" sign/verify only (it pads whatever it is given), so the
 * adapter hashes with @noble/hashes and prepends the SHA-256 DigestInfo itself;
 * PSS and OAEP are n/a.
 *
 * @module
 */
import { initBundled, Memory, RsaPrivateKey, RsaPublicKey } from "@hazae41/rsa.wasm";
import { sha256 } from "@noble/hashes/sha2.js";
import { bs, jwkInt, SHA256_DIGEST_INFO_PREFIX } from "./bytes.ts";
import type { GeneratedKey, KeyMaterial, RsaAdapter, RsaOps } from "./types.ts";

function _digestInfo(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(SHA256_DIGEST_INFO_PREFIX.length + 32);
  out.set(SHA256_DIGEST_INFO_PREFIX);
  out.set(sha256(message), SHA256_DIGEST_INFO_PREFIX.length);
  return out;
}

/** Copy a wasm-side buffer out and free it. */
function _take(memory: Memory): Uint8Array {
  try {
    return memory.bytes.slice();
  } finally {
    memory[Symbol.dispose]();
  }
}

function _withMemory<T>(bytes: Uint8Array, f: (m: Memory) => T): T {
  const m = new Memory(bytes);
  try {
    return f(m);
  } finally {
    m[Symbol.dispose]();
  }
}

export const hazaeRsa: RsaAdapter = {
  name: "rsa.wasm",
  kind: "wasm",
  label: "@hazae41/rsa.wasm 1.0.10 (Rust rsa 0.9 → wasm)",
  async init() {
    await initBundled();
  },
  load(key: KeyMaterial): Promise<RsaOps> {
    const priv = _withMemory(key.pkcs8, (m) => RsaPrivateKey.from_pkcs8_der(m));
    const pub = _withMemory(key.spki, (m) => RsaPublicKey.from_public_key_der(m));
    return Promise.resolve({
      signPkcs1: (msg) =>
        _withMemory(_digestInfo(msg), (m) => _take(priv.sign_pkcs1v15_unprefixed(m))),
      verifyPkcs1: (msg, sig) => {
        try {
          return _withMemory(
            _digestInfo(msg),
            (m) => _withMemory(sig, (s) => pub.verify_pkcs1v15_unprefixed(m, s)),
          );
        } catch {
          return false;
        }
      },
      dispose() {
        priv[Symbol.dispose]();
        pub[Symbol.dispose]();
      },
    });
  },
  generate(bits: number): GeneratedKey {
    const key = new RsaPrivateKey(bits);
    return {
      async components() {
        const der = _take(key.to_pkcs8_der());
        const imported = await crypto.subtle.importKey(
          "pkcs8",
          bs(der),
          { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
          true,
          ["sign"],
        );
        const jwk = await crypto.subtle.exportKey("jwk", imported);
        return { n: jwkInt(jwk, "n"), e: jwkInt(jwk, "e"), d: jwkInt(jwk, "d") };
      },
      dispose: () => key[Symbol.dispose](),
    };
  },
};
