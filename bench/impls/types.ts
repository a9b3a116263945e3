/**
 * The shape every benchmarked implementation is wrapped in. An adapter turns one
 * library's API into bytes-in, bytes-out operations on the bench's shared keys, so
 * that every implementation does the same work: conversions a caller holding
 * `Uint8Array`s would need (binary strings for node-forge, hex for jsrsasign, BigInt
 * for micro-rsa-dsa-dh) are part of the timed call.
 *
 * A missing member means "this library does not offer the operation"; the report
 * shows it as n/a, never as a number.
 *
 * @module
 */

/** What an implementation is, for colouring and for the "fastest JS/wasm peer" targets. */
export type ImplKind = "ours" | "native" | "js" | "wasm";

/** A result that may come synchronously (JS, wasm) or as a promise (WebCrypto). */
export type MaybePromise<T> = T | Promise<T>;

/** One RSA key, as WebCrypto exported it, shared by every implementation. */
export interface KeyMaterial {
  bits: number;
  /** PKCS#8 DER private key. */
  pkcs8: Uint8Array;
  /** SubjectPublicKeyInfo DER public key. */
  spki: Uint8Array;
  /** The same key as a JWK (n, e, d, p, q, dp, dq, qi in base64url). */
  jwk: JsonWebKey;
}

/** Operations bound to one key. PSS uses salt length 32; OAEP uses SHA-256, MGF1-SHA-256, no label. */
export interface RsaOps {
  signPkcs1?(message: Uint8Array): MaybePromise<Uint8Array>;
  verifyPkcs1?(message: Uint8Array, signature: Uint8Array): MaybePromise<boolean>;
  signPss?(message: Uint8Array): MaybePromise<Uint8Array>;
  verifyPss?(message: Uint8Array, signature: Uint8Array): MaybePromise<boolean>;
  encryptOaep?(plaintext: Uint8Array): MaybePromise<Uint8Array>;
  decryptOaep?(ciphertext: Uint8Array): MaybePromise<Uint8Array>;
  /** Release library-side resources (wasm memory, key objects). */
  dispose?(): void;
}

/** The public parts and private exponent of a generated key, for the correctness check. */
export interface KeyComponents {
  n: bigint;
  e: bigint;
  d: bigint;
}

/** A freshly generated key; `components` is called once per run, outside the timed region. */
export interface GeneratedKey {
  components(): MaybePromise<KeyComponents>;
  dispose?(): void;
}

/** modPow on big-endian byte strings; the result has the modulus's length. */
export type ModPowFn = (base: Uint8Array, exponent: Uint8Array, modulus: Uint8Array) => Uint8Array;

/** One RSA implementation. */
export interface RsaAdapter {
  name: string;
  kind: ImplKind;
  /** Library and version as shown in the report. */
  label: string;
  init?(): Promise<void>;
  /** Import the shared key; returns the operations this library offers. */
  load(key: KeyMaterial): Promise<RsaOps>;
  generate?(bits: number): MaybePromise<GeneratedKey>;
  /** modPow, bytes in and bytes out like every other operation. */
  modPow?: ModPowFn;
}

/** One hash implementation. */
export interface HashAdapter {
  name: string;
  kind: ImplKind;
  label: string;
  init?(): Promise<void>;
  sha1?(data: Uint8Array): MaybePromise<Uint8Array>;
  sha256?(data: Uint8Array): MaybePromise<Uint8Array>;
}
