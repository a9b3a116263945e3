/**
 * The RSA operations `deno task bench` times (bench/runner.ts): each one's preparation,
 * its correctness check against WebCrypto, and the BigInt oracle for modPow. A table, apart
 * from the runner that walks it.
 *
 * @module
 */
import { bs, bytesEqual } from "./impls/bytes.ts";
import { importWebCryptoKeys } from "./impls/webcrypto.ts";
import type { KeyMaterial, MaybePromise, RsaAdapter, RsaOps } from "./impls/types.ts";

/** Straightforward BigInt square-and-multiply: the modPow oracle (not a peer, not timed). */
export function refModPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  for (let i = e.toString(2), j = 0; j < i.length; j++) {
    r = (r * r) % m;
    if (i[j] === "1") r = (r * b) % m;
  }
  return r;
}

export interface Loaded {
  adapter: RsaAdapter;
  ops?: RsaOps;
  error?: string;
}

/** One RSA operation kind: how to check it and what to time, given WebCrypto's reference outputs. */
export interface RsaOpSpec {
  id: (bits: number) => string;
  title: (bits: number) => string;
  member: keyof Omit<RsaOps, "dispose">;
  group: "sign" | "oaep";
  /** Throws when the implementation's output is wrong; returns the timed call. */
  prepare: (ops: RsaOps, ref: RsaReference) => Promise<() => unknown>;
}

export interface RsaReference {
  message: Uint8Array;
  plaintext: Uint8Array;
  pkcs1Sig: Uint8Array;
  pssSig: Uint8Array;
  oaepCt: Uint8Array;
  wc: Awaited<ReturnType<typeof importWebCryptoKeys>>;
}

export function tamper(sig: Uint8Array): Uint8Array {
  const t = sig.slice();
  t[t.length >> 1] ^= 0x01;
  return t;
}

export function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`check failed: ${what}`);
}

export const RSA_OPS: RsaOpSpec[] = [
  {
    id: (b) => `rsa.pkcs1.sign.${b}`,
    title: (b) => `RSA-${b} PKCS#1 v1.5 SHA-256 sign`,
    member: "signPkcs1",
    group: "sign",
    async prepare(ops, ref) {
      const sig = await settle(ops.signPkcs1!(ref.message));
      check(
        bytesEqual(sig, ref.pkcs1Sig),
        "signature differs from WebCrypto's (PKCS#1 v1.5 is deterministic)",
      );
      return () => ops.signPkcs1!(ref.message);
    },
  },
  {
    id: (b) => `rsa.pkcs1.verify.${b}`,
    title: (b) => `RSA-${b} PKCS#1 v1.5 SHA-256 verify`,
    member: "verifyPkcs1",
    group: "sign",
    async prepare(ops, ref) {
      check(
        (await settle(ops.verifyPkcs1!(ref.message, ref.pkcs1Sig))) === true,
        "rejects WebCrypto's signature",
      );
      check(
        (await settle(ops.verifyPkcs1!(ref.message, tamper(ref.pkcs1Sig)))) === false,
        "accepts a tampered signature",
      );
      return () => ops.verifyPkcs1!(ref.message, ref.pkcs1Sig);
    },
  },
  {
    id: (b) => `rsa.pss.sign.${b}`,
    title: (b) => `RSA-${b} PSS SHA-256 sign`,
    member: "signPss",
    group: "sign",
    async prepare(ops, ref) {
      const sig = await settle(ops.signPss!(ref.message));
      const ok = await crypto.subtle.verify(
        { name: "RSA-PSS", saltLength: 32 },
        ref.wc.pssPub,
        bs(sig),
        bs(ref.message),
      );
      check(ok, "WebCrypto rejects the PSS signature (salt 32)");
      return () => ops.signPss!(ref.message);
    },
  },
  {
    id: (b) => `rsa.pss.verify.${b}`,
    title: (b) => `RSA-${b} PSS SHA-256 verify`,
    member: "verifyPss",
    group: "sign",
    async prepare(ops, ref) {
      check(
        (await settle(ops.verifyPss!(ref.message, ref.pssSig))) === true,
        "rejects WebCrypto's PSS signature",
      );
      check(
        (await settle(ops.verifyPss!(ref.message, tamper(ref.pssSig)))) === false,
        "accepts a tampered PSS signature",
      );
      return () => ops.verifyPss!(ref.message, ref.pssSig);
    },
  },
  {
    id: (b) => `rsa.oaep.encrypt.${b}`,
    title: (b) => `RSA-${b} OAEP SHA-256 encrypt`,
    member: "encryptOaep",
    group: "oaep",
    async prepare(ops, ref) {
      const ct = await settle(ops.encryptOaep!(ref.plaintext));
      const pt = new Uint8Array(
        await crypto.subtle.decrypt({ name: "RSA-OAEP" }, ref.wc.oaepPriv, bs(ct)),
      );
      check(
        bytesEqual(pt, ref.plaintext),
        "WebCrypto does not decrypt the ciphertext to the plaintext",
      );
      return () => ops.encryptOaep!(ref.plaintext);
    },
  },
  {
    id: (b) => `rsa.oaep.decrypt.${b}`,
    title: (b) => `RSA-${b} OAEP SHA-256 decrypt`,
    member: "decryptOaep",
    group: "oaep",
    async prepare(ops, ref) {
      const pt = await settle(ops.decryptOaep!(ref.oaepCt));
      check(bytesEqual(pt, ref.plaintext), "does not decrypt WebCrypto's ciphertext");
      return () => ops.decryptOaep!(ref.oaepCt);
    },
  },
];

/** OAEP is measured at 2048 bits only, as the issue asks. */
export const OAEP_BITS = 2048;

export async function rsaReference(
  key: KeyMaterial,
  message: Uint8Array,
  plaintext: Uint8Array,
): Promise<RsaReference> {
  const wc = await importWebCryptoKeys(key);
  const [pkcs1Sig, pssSig, oaepCt] = await Promise.all([
    crypto.subtle.sign({ name: "RSASSA-PKCS1-v1_5" }, wc.pkcs1Priv, bs(message)),
    crypto.subtle.sign({ name: "RSA-PSS", saltLength: 32 }, wc.pssPriv, bs(message)),
    crypto.subtle.encrypt({ name: "RSA-OAEP" }, wc.oaepPub, bs(plaintext)),
  ]);
  return {
    message,
    plaintext,
    wc,
    pkcs1Sig: new Uint8Array(pkcs1Sig),
    pssSig: new Uint8Array(pssSig),
    oaepCt: new Uint8Array(oaepCt),
  };
}

/** A value or a promise of it, awaited (adapters may answer either way). */
export async function settle<T>(v: MaybePromise<T>): Promise<T> {
  return await v;
}
