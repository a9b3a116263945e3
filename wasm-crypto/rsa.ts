/**
 * RSA signatures and encryption (RFC 8017) around the core's RSA primitives:
 * RSASSA-PKCS1-v1_5 (§8.2), RSASSA-PSS with MGF1 (§8.1, §9.1), RSAES-OAEP with
 * MGF1 and a label (§7.1), for SHA-256 and SHA-1.
 *
 * - PKCS#1 v1.5 verification re-encodes the expected block and compares it
 *   whole; it never parses the signature's padding or DigestInfo.
 * - OAEP decryption checks every condition without an early exit and fails
 *   with one uniform error (`decryption_failed`), whatever went wrong.
 * - Verification returns false for any signature that is not valid (wrong
 *   length, not below n, bad padding); it throws only for misuse (a bad key
 *   object, an unsupported hash, a non-Uint8Array).
 *
 * @module
 */
import { WasmCryptoError } from "./errors.ts";
import {
  IO_IN,
  IO_OUT,
  IO_RAND,
  mem,
  randomIo,
  state,
  Status,
  wipeIo,
  writeIo,
} from "./runtime.ts";
import { hashLength, type HashName, hashParts, mgf1Xor } from "./sha.ts";
import { RsaPrivateKey, RsaPublicKey } from "./keys.ts";

export type { HashName };

/** DER of DigestInfo up to the digest (RFC 8017 §9.2 note 1), with NULL parameters. */
const DIGEST_INFO_PREFIX: Record<HashName, Uint8Array> = {
  "SHA-256": new Uint8Array([
    0x30,
    0x31,
    0x30,
    0x0d,
    0x06,
    0x09,
    0x60,
    0x86,
    0x48,
    0x01,
    0x65,
    0x03,
    0x04,
    0x02,
    0x01,
    0x05,
    0x00,
    0x04,
    0x20,
  ]),
  "SHA-1": new Uint8Array([
    0x30,
    0x21,
    0x30,
    0x09,
    0x06,
    0x05,
    0x2b,
    0x0e,
    0x03,
    0x02,
    0x1a,
    0x05,
    0x00,
    0x04,
    0x14,
  ]),
};

function _bytes(x: unknown, what: string): asserts x is Uint8Array {
  if (!(x instanceof Uint8Array)) {
    throw new WasmCryptoError("invalid_argument", `rsa: ${what} must be a Uint8Array`);
  }
}

function _priv(key: unknown): RsaPrivateKey {
  if (!(key instanceof RsaPrivateKey)) {
    throw new WasmCryptoError("invalid_argument", "rsa: expected an RsaPrivateKey");
  }
  return key;
}

function _pub(key: unknown): RsaPublicKey {
  if (key instanceof RsaPrivateKey) return key.publicKey;
  if (!(key instanceof RsaPublicKey)) {
    throw new WasmCryptoError("invalid_argument", "rsa: expected an RsaPublicKey");
  }
  return key;
}

/**
 * RSASP1 / RSADP: x^d mod n by the core (CRT, blinded, checked with e).
 * x: exactly the key's byte length. Throws out_of_range when x >= n.
 */
export function rsaPrivateRaw(key: RsaPrivateKey, x: Uint8Array): Uint8Array {
  _bytes(x, "input");
  const addr = _priv(key)._slot();
  const k = key.publicKey.byteLength;
  if (x.length !== k) {
    throw new WasmCryptoError("out_of_range", `rsa: input length ${x.length}, expected ${k}`);
  }
  const s = state();
  for (let attempt = 0;; attempt++) {
    writeIo(IO_IN, x);
    randomIo(IO_RAND, 4 * (k + 8));
    const rc = s.core.rsa_private(addr);
    wipeIo(IO_IN, k);
    wipeIo(IO_RAND, 4 * (k + 8));
    if (rc === Status.OK) {
      const m = mem();
      const out = m.slice(s.io + IO_OUT, s.io + IO_OUT + k);
      m.fill(0, s.io + IO_OUT, s.io + IO_OUT + k);
      return out;
    }
    if (rc === Status.RANGE) {
      throw new WasmCryptoError("out_of_range", "rsa: representative is not below the modulus");
    }
    if (rc === Status.FAULT) {
      throw new WasmCryptoError(
        "fault_detected",
        "rsa: private-key result failed the public check",
      );
    }
    if (rc !== Status.BLINDING || attempt >= 2) {
      throw new WasmCryptoError("internal", `rsa: core status ${rc}`);
    }
  }
}

/** RSAVP1 / RSAEP: x^e mod n. x: exactly the key's byte length. Throws out_of_range when x >= n. */
export function rsaPublicRaw(key: RsaPublicKey, x: Uint8Array): Uint8Array {
  _bytes(x, "input");
  return _pub(key)._publicOp(x);
}

/** MGF1 (RFC 8017 B.2.1) of seed, len bytes. */
export function mgf1(hash: HashName, seed: Uint8Array, len: number): Uint8Array {
  hashLength(hash);
  const out = new Uint8Array(len);
  mgf1Xor(hash, seed, out);
  return out;
}

/** EMSA-PKCS1-v1_5 encoding (RFC 8017 §9.2) of message, emLen bytes. */
function _emsaPkcs1v15(hash: HashName, message: Uint8Array, emLen: number): Uint8Array {
  const h = hashParts(hash, message);
  const prefix = DIGEST_INFO_PREFIX[hash];
  const tLen = prefix.length + h.length;
  if (emLen < tLen + 11) {
    throw new WasmCryptoError("message_too_long", "rsa: modulus too short for this DigestInfo");
  }
  const em = new Uint8Array(emLen);
  em[1] = 0x01;
  em.fill(0xff, 2, emLen - tLen - 1);
  em.set(prefix, emLen - tLen);
  em.set(h, emLen - h.length);
  return em;
}

/** RSASSA-PKCS1-v1_5 signature (RFC 8017 §8.2.1). Deterministic. */
export function signPkcs1v15(key: RsaPrivateKey, hash: HashName, message: Uint8Array): Uint8Array {
  _priv(key);
  hashLength(hash);
  _bytes(message, "message");
  const em = _emsaPkcs1v15(hash, message, key.publicKey.byteLength);
  return rsaPrivateRaw(key, em);
}

/**
 * RSASSA-PKCS1-v1_5 verification (RFC 8017 §8.2.2): s^e mod n must equal the
 * encoding of the message, byte for byte (no parsing of the signature).
 */
export function verifyPkcs1v15(
  pub: RsaPublicKey,
  hash: HashName,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  const key = _pub(pub);
  hashLength(hash);
  _bytes(message, "message");
  _bytes(signature, "signature");
  const k = key.byteLength;
  if (signature.length !== k) return false;
  let em: Uint8Array;
  try {
    em = key._publicOp(signature);
  } catch (e) {
    if (e instanceof WasmCryptoError && e.code === "out_of_range") return false;
    throw e;
  }
  const expected = _emsaPkcs1v15(hash, message, k);
  let diff = 0;
  for (let i = 0; i < k; i++) diff |= em[i] ^ expected[i];
  return diff === 0;
}

function _saltLength(hash: HashName, saltLength: number | undefined): number {
  const s = saltLength ?? hashLength(hash);
  if (!Number.isInteger(s) || s < 0) {
    throw new WasmCryptoError(
      "invalid_salt_length",
      `rsa: salt length ${s} is not a non-negative integer`,
    );
  }
  return s;
}

/** RSASSA-PSS signature (RFC 8017 §8.1.1, EMSA-PSS §9.1.1, MGF1 with the same hash). Salt length defaults to the hash length. */
export function signPss(
  key: RsaPrivateKey,
  hash: HashName,
  message: Uint8Array,
  saltLength?: number,
): Uint8Array {
  _priv(key);
  const hLen = hashLength(hash);
  _bytes(message, "message");
  const sLen = _saltLength(hash, saltLength);
  const k = key.publicKey.byteLength;
  const emBits = key.publicKey.bits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + sLen + 2) {
    throw new WasmCryptoError(
      "invalid_salt_length",
      `rsa: salt length ${sLen} too long for this key`,
    );
  }
  const mHash = hashParts(hash, message);
  const salt = new Uint8Array(sLen);
  crypto.getRandomValues(salt);
  const h = hashParts(hash, new Uint8Array(8), mHash, salt);
  const db = new Uint8Array(emLen - hLen - 1);
  db[emLen - sLen - hLen - 2] = 0x01;
  db.set(salt, emLen - sLen - hLen - 1);
  mgf1Xor(hash, h, db);
  db[0] &= 0xff >>> (8 * emLen - emBits);
  // EM is emLen bytes; the integer is left-padded to k bytes (emLen = k or k - 1)
  const em = new Uint8Array(k);
  em.set(db, k - emLen);
  em.set(h, k - emLen + db.length);
  em[k - 1] = 0xbc;
  return rsaPrivateRaw(key, em);
}

/** RSASSA-PSS verification (RFC 8017 §8.1.2, §9.1.2) with the given salt length (default: hash length). */
export function verifyPss(
  pub: RsaPublicKey,
  hash: HashName,
  message: Uint8Array,
  signature: Uint8Array,
  saltLength?: number,
): boolean {
  const key = _pub(pub);
  const hLen = hashLength(hash);
  _bytes(message, "message");
  _bytes(signature, "signature");
  const sLen = _saltLength(hash, saltLength);
  const k = key.byteLength;
  if (signature.length !== k) return false;
  let m: Uint8Array;
  try {
    m = key._publicOp(signature);
  } catch (e) {
    if (e instanceof WasmCryptoError && e.code === "out_of_range") return false;
    throw e;
  }
  const emBits = key.bits - 1;
  const emLen = Math.ceil(emBits / 8);
  // the integer must fit in emLen bytes
  if (k > emLen && m[0] !== 0) return false;
  const em = m.subarray(k - emLen);
  if (emLen < hLen + sLen + 2) return false;
  if (em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topMask = 0xff >>> (8 * emLen - emBits);
  if ((maskedDb[0] & ~topMask) !== 0) return false;
  const db = maskedDb.slice();
  mgf1Xor(hash, h, db);
  db[0] &= topMask;
  const psLen = emLen - hLen - sLen - 2;
  for (let i = 0; i < psLen; i++) if (db[i] !== 0) return false;
  if (db[psLen] !== 0x01) return false;
  const salt = db.subarray(db.length - sLen);
  const mHash = hashParts(hash, message);
  const h2 = hashParts(hash, new Uint8Array(8), mHash, salt);
  let diff = 0;
  for (let i = 0; i < hLen; i++) diff |= h[i] ^ h2[i];
  return diff === 0;
}

/** lHash of the empty label (RFC 8017 §7.1.1 step 2a) per hash: a public constant, hashed once. */
const _emptyLHash: Partial<Record<HashName, Uint8Array>> = {};

/** lHash = Hash(label); callers only read it (the empty label's is shared). */
function _lHash(hash: HashName, label: Uint8Array): Uint8Array {
  if (label.length > 0) return hashParts(hash, label);
  return _emptyLHash[hash] ??= hashParts(hash, label);
}

/**
 * RSAES-OAEP encryption (RFC 8017 §7.1.1), MGF1 with the same hash, optional label.
 * EM = 0x00 ‖ maskedSeed ‖ maskedDB is built in place at IO_IN (the seed's MGF1 input at
 * IO_RAND, with the 36 bytes of scratch mgf1_xor needs after it) and encrypted there:
 * no copy of the block in JS. Every IO byte that held the seed or DB is wiped.
 */
export function encryptOaep(
  pub: RsaPublicKey,
  hash: HashName,
  plaintext: Uint8Array,
  label: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const key = _pub(pub);
  const hLen = hashLength(hash);
  _bytes(plaintext, "plaintext");
  _bytes(label, "label");
  const k = key.byteLength;
  const mLen = plaintext.length;
  if (mLen > k - 2 * hLen - 2) {
    throw new WasmCryptoError(
      "message_too_long",
      `rsa: OAEP plaintext of ${mLen} bytes, at most ${k - 2 * hLen - 2}`,
    );
  }
  const lHash = _lHash(hash, label); // before IO is written: hashing uses it
  const s = state();
  const m = mem();
  const em = s.io + IO_IN, db = em + 1 + hLen, dbLen = k - hLen - 1, seed = s.io + IO_RAND;
  // DB = lHash ‖ PS ‖ 0x01 ‖ M; EM's other bytes are zero
  m.fill(0, em, em + k);
  m.set(lHash, db);
  m[db + dbLen - mLen - 1] = 0x01;
  m.set(plaintext, db + dbLen - mLen);
  randomIo(IO_RAND, hLen);
  m.copyWithin(em + 1, seed, seed + hLen);
  const sha1 = hash === "SHA-1" ? 1 : 0;
  s.core.mgf1_xor(seed, hLen, db, dbLen, sha1); // maskedDB
  s.core.mgf1_xor(db, dbLen, em + 1, hLen, sha1); // maskedSeed (scratch after EM: below IO_RAND)
  m.fill(0, seed, seed + hLen);
  return key._publicOp();
}

/**
 * RSAES-OAEP decryption (RFC 8017 §7.1.2). Every failure — wrong ciphertext
 * length, ciphertext >= n, bad padding, wrong label — throws the same
 * `decryption_failed`, after the same work (no early exit in the decoding).
 */
export function decryptOaep(
  key: RsaPrivateKey,
  hash: HashName,
  ciphertext: Uint8Array,
  label: Uint8Array = new Uint8Array(0),
): Uint8Array {
  _priv(key);
  const hLen = hashLength(hash);
  _bytes(ciphertext, "ciphertext");
  _bytes(label, "label");
  const k = key.publicKey.byteLength;
  const fail = () => new WasmCryptoError("decryption_failed", "rsa: OAEP decryption failed");
  if (ciphertext.length !== k || k < 2 * hLen + 2) throw fail();
  let em: Uint8Array;
  try {
    em = rsaPrivateRaw(key, ciphertext);
  } catch (e) {
    if (e instanceof WasmCryptoError && e.code === "out_of_range") throw fail();
    throw e;
  }
  const lHash = _lHash(hash, label);
  const maskedSeed = em.subarray(1, 1 + hLen);
  const maskedDb = em.subarray(1 + hLen);
  const seedMask = maskedSeed.slice(); // becomes the seed
  mgf1Xor(hash, maskedDb, seedMask);
  const db = maskedDb.slice();
  mgf1Xor(hash, seedMask, db);
  // bad accumulates every failure; the scan for the 0x01 separator is branch-free
  let bad = em[0];
  for (let i = 0; i < hLen; i++) bad |= db[i] ^ lHash[i];
  let found = 0; // 0 until the separator, then 1
  let index = 0;
  for (let i = hLen; i < db.length; i++) {
    const b = db[i];
    const isOne = ((b ^ 1) - 1) >>> 31 & 1; // b == 1
    const isZero = (b - 1) >>> 31 & 1; // b == 0
    const first = isOne & (found ^ 1);
    index |= (-first) & i;
    // before the separator every byte must be zero
    bad |= (found ^ 1) & (isZero ^ 1) & (isOne ^ 1);
    found |= isOne;
  }
  bad |= found ^ 1;
  em.fill(0);
  seedMask.fill(0);
  if (bad !== 0) {
    db.fill(0);
    throw fail();
  }
  const out = db.slice(index + 1);
  db.fill(0);
  return out;
}
