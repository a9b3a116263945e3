/**
 * "ours": roamsign's wasm-crypto, written against the public contract of
 * `wasm-crypto/mod.ts` (issue 2). The module is passed in by whoever loads it (the
 * Deno child imports the file, the page bundle links it in), so this file works
 * before the core exists and never imports it itself.
 *
 * @module
 */
import { bs, jwkInt } from "./bytes.ts";
import type { GeneratedKey, HashAdapter, KeyMaterial, RsaAdapter, RsaOps } from "./types.ts";

type Hash = "SHA-256" | "SHA-1";

/** The public key object of wasm-crypto. */
export interface OursPublicKey {
  exportSpki(): Uint8Array;
}

/** The private key object of wasm-crypto. */
export interface OursPrivateKey {
  publicKey: OursPublicKey;
  exportPkcs8(): Uint8Array;
  destroy(): void;
}

/** The part of `wasm-crypto/mod.ts` the bench uses (issue 2 contract plus `modPowVarTime`). */
export interface WasmCryptoModule {
  initWasmCrypto(source?: unknown): Promise<unknown>;
  sha1(data: Uint8Array): Uint8Array;
  sha256(data: Uint8Array): Uint8Array;
  modPow(base: Uint8Array, exponent: Uint8Array, modulus: Uint8Array): Uint8Array;
  modPowVarTime(base: Uint8Array, exponent: Uint8Array, modulus: Uint8Array): Uint8Array;
  generateRsaKey(bits: 2048 | 3072 | 4096): OursPrivateKey;
  importPrivateKeyPkcs8(der: Uint8Array): OursPrivateKey;
  importPublicKeySpki(der: Uint8Array): OursPublicKey;
  signPkcs1v15(key: OursPrivateKey, hash: Hash, message: Uint8Array): Uint8Array;
  verifyPkcs1v15(
    pub: OursPublicKey,
    hash: Hash,
    message: Uint8Array,
    signature: Uint8Array,
  ): boolean;
  signPss(key: OursPrivateKey, hash: Hash, message: Uint8Array, saltLength?: number): Uint8Array;
  verifyPss(
    pub: OursPublicKey,
    hash: Hash,
    message: Uint8Array,
    signature: Uint8Array,
    saltLength?: number,
  ): boolean;
  encryptOaep(
    pub: OursPublicKey,
    hash: Hash,
    plaintext: Uint8Array,
    label?: Uint8Array,
  ): Uint8Array;
  decryptOaep(
    key: OursPrivateKey,
    hash: Hash,
    ciphertext: Uint8Array,
    label?: Uint8Array,
  ): Uint8Array;
}

/** Every export the bench calls, for a clear message when the core lacks one. */
export const OURS_EXPORTS: readonly (keyof WasmCryptoModule)[] = [
  "initWasmCrypto",
  "sha1",
  "sha256",
  "modPow",
  "modPowVarTime",
  "generateRsaKey",
  "importPrivateKeyPkcs8",
  "importPublicKeySpki",
  "signPkcs1v15",
  "verifyPkcs1v15",
  "signPss",
  "verifyPss",
  "encryptOaep",
  "decryptOaep",
];

/** Names of contract functions the loaded module does not export. */
export function missingOursExports(mod: Record<string, unknown>): string[] {
  return OURS_EXPORTS.filter((name) => typeof mod[name] !== "function");
}

/** What the page or the Deno child hands to the runner when the core is present. */
export interface OursBinding {
  mod: WasmCryptoModule;
  /** Passed to `initWasmCrypto`: wasm bytes in the browser, undefined in Deno. */
  source?: unknown;
}

/** Key components of one of our keys, read back through WebCrypto (outside timing). */
async function _components(key: OursPrivateKey) {
  const der = key.exportPkcs8();
  const imported = await crypto.subtle.importKey(
    "pkcs8",
    bs(der),
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    true,
    ["sign"],
  );
  der.fill(0);
  const jwk = await crypto.subtle.exportKey("jwk", imported);
  return { n: jwkInt(jwk, "n"), e: jwkInt(jwk, "e"), d: jwkInt(jwk, "d") };
}

/** The RSA and SHA adapters over a loaded wasm-crypto module. */
export function oursAdapters(binding: OursBinding): { rsa: RsaAdapter; hash: HashAdapter } {
  const { mod } = binding;
  let ready: Promise<unknown> | undefined;
  const init = async () => {
    ready ??= mod.initWasmCrypto(binding.source);
    await ready;
  };
  const rsa: RsaAdapter = {
    name: "ours",
    kind: "ours",
    label: "roamsign wasm-crypto (AssemblyScript → wasm)",
    init,
    load(key: KeyMaterial): Promise<RsaOps> {
      const priv = mod.importPrivateKeyPkcs8(key.pkcs8);
      const pub = mod.importPublicKeySpki(key.spki);
      return Promise.resolve({
        signPkcs1: (m) => mod.signPkcs1v15(priv, "SHA-256", m),
        verifyPkcs1: (m, s) => mod.verifyPkcs1v15(pub, "SHA-256", m, s),
        signPss: (m) => mod.signPss(priv, "SHA-256", m, 32),
        verifyPss: (m, s) => mod.verifyPss(pub, "SHA-256", m, s, 32),
        encryptOaep: (p) => mod.encryptOaep(pub, "SHA-256", p),
        decryptOaep: (c) => mod.decryptOaep(priv, "SHA-256", c),
        dispose: () => priv.destroy(),
      });
    },
    generate(bits: number): GeneratedKey {
      const key = mod.generateRsaKey(bits as 2048 | 3072 | 4096);
      return { components: () => _components(key), dispose: () => key.destroy() };
    },
    modPow: (b, e, m) => mod.modPow(b, e, m),
  };
  const hash: HashAdapter = {
    name: "ours",
    kind: "ours",
    label: rsa.label,
    init,
    sha1: (d) => mod.sha1(d),
    sha256: (d) => mod.sha256(d),
  };
  return { rsa, hash };
}
