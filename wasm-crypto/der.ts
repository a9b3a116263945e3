/**
 * A small, strict DER reader and writer for the RSA key formats:
 * PKCS#8 `PrivateKeyInfo` (RFC 5208; version 0, no attributes) holding an
 * `RSAPrivateKey` (RFC 8017 A.1.2; two primes), and `SubjectPublicKeyInfo`
 * (RFC 5280) holding an `RSAPublicKey` (RFC 8017 A.1.1), algorithm
 * rsaEncryption with NULL parameters (RFC 3279).
 *
 * Only the canonical (DER) encoding is accepted: definite minimal lengths,
 * minimal positive INTEGERs, no trailing bytes anywhere. Variable time; the
 * integers it returns are views into the input (no copies of secrets).
 *
 * @module
 */
import { WasmCryptoError } from "./errors.ts";

const TAG_INTEGER = 0x02;
const TAG_BIT_STRING = 0x03;
const TAG_OCTET_STRING = 0x04;
const TAG_NULL = 0x05;
const TAG_OID = 0x06;
const TAG_SEQUENCE = 0x30;

/** DER of OBJECT IDENTIFIER 1.2.840.113549.1.1.1 (rsaEncryption), tag and length included. */
const RSA_ENCRYPTION_OID = new Uint8Array([
  0x06,
  0x09,
  0x2a,
  0x86,
  0x48,
  0x86,
  0xf7,
  0x0d,
  0x01,
  0x01,
  0x01,
]);

function _bad(message: string): never {
  throw new WasmCryptoError("invalid_der", `der: ${message}`);
}

/** Reads TLVs from bytes[pos, end). */
class _Reader {
  constructor(private bytes: Uint8Array, private pos = 0, private end = bytes.length) {}

  get done(): boolean {
    return this.pos === this.end;
  }

  /** Reads one element with the given tag; returns its contents. */
  read(tag: number): Uint8Array {
    const start = this.pos;
    if (start + 2 > this.end) _bad("truncated");
    const t = this.bytes[start];
    if (t !== tag) _bad(`tag 0x${t.toString(16)}, expected 0x${tag.toString(16)}`);
    let len = this.bytes[start + 1];
    let p = start + 2;
    if (len >= 0x80) {
      const n = len & 0x7f;
      if (n === 0) _bad("indefinite length");
      if (n > 3) _bad("length too large");
      if (p + n > this.end) _bad("truncated length");
      if (this.bytes[p] === 0) _bad("non-minimal length");
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + this.bytes[p + i];
      if (len < 0x80) _bad("non-minimal length");
      p += n;
    }
    if (p + len > this.end) _bad("truncated contents");
    this.pos = p + len;
    return this.bytes.subarray(p, p + len);
  }

  /** Reads a SEQUENCE and returns a reader over its contents. */
  sequence(): _Reader {
    const c = this.read(TAG_SEQUENCE);
    return new _Reader(c);
  }

  /** Reads a non-negative minimal INTEGER and returns its magnitude (no leading zero byte). */
  uint(): Uint8Array {
    const c = this.read(TAG_INTEGER);
    if (c.length === 0) _bad("empty INTEGER");
    if (c[0] & 0x80) _bad("negative INTEGER");
    if (c.length > 1 && c[0] === 0 && (c[1] & 0x80) === 0) _bad("non-minimal INTEGER");
    return c[0] === 0 && c.length > 1 ? c.subarray(1) : c;
  }

  finish(what: string): void {
    if (!this.done) _bad(`trailing bytes after ${what}`);
  }
}

function _readAlgorithm(r: _Reader): void {
  const alg = r.sequence();
  const oid = alg.read(TAG_OID);
  const expected = RSA_ENCRYPTION_OID.subarray(2);
  if (oid.length !== expected.length || oid.some((b, i) => b !== expected[i])) {
    throw new WasmCryptoError("unsupported_key", "der: algorithm is not rsaEncryption");
  }
  const nul = alg.read(TAG_NULL);
  if (nul.length !== 0) _bad("NULL with contents");
  alg.finish("AlgorithmIdentifier");
}

/** The integers of an RSA private key, big-endian, without leading zero bytes. */
export interface RsaPrivateComponents {
  n: Uint8Array;
  e: Uint8Array;
  d: Uint8Array;
  p: Uint8Array;
  q: Uint8Array;
  dP: Uint8Array;
  dQ: Uint8Array;
  qInv: Uint8Array;
}

/** The integers of an RSA public key, big-endian, without leading zero bytes. */
export interface RsaPublicComponents {
  n: Uint8Array;
  e: Uint8Array;
}

function _isZero(x: Uint8Array): boolean {
  return x.length === 1 && x[0] === 0;
}

/** Parses PKCS#8 DER holding an RSA private key. The results are views into `der`. */
export function parsePkcs8(der: Uint8Array): RsaPrivateComponents {
  const top = new _Reader(der);
  const info = top.sequence();
  top.finish("PrivateKeyInfo");
  const version = info.uint();
  if (!_isZero(version)) {
    throw new WasmCryptoError("unsupported_key", "der: PKCS#8 version is not 0");
  }
  _readAlgorithm(info);
  const octets = info.read(TAG_OCTET_STRING);
  if (!info.done) {
    throw new WasmCryptoError("unsupported_key", "der: PKCS#8 attributes are not supported");
  }
  const outer = new _Reader(octets);
  const k = outer.sequence();
  outer.finish("RSAPrivateKey");
  const v = k.uint();
  if (!_isZero(v)) {
    throw new WasmCryptoError("unsupported_key", "der: multi-prime RSA keys are not supported");
  }
  const out: RsaPrivateComponents = {
    n: k.uint(),
    e: k.uint(),
    d: k.uint(),
    p: k.uint(),
    q: k.uint(),
    dP: k.uint(),
    dQ: k.uint(),
    qInv: k.uint(),
  };
  k.finish("RSAPrivateKey fields");
  return out;
}

/** Parses SPKI DER holding an RSA public key. */
export function parseSpki(der: Uint8Array): RsaPublicComponents {
  const top = new _Reader(der);
  const spki = top.sequence();
  top.finish("SubjectPublicKeyInfo");
  _readAlgorithm(spki);
  const bits = spki.read(TAG_BIT_STRING);
  spki.finish("SubjectPublicKeyInfo fields");
  if (bits.length < 1 || bits[0] !== 0) _bad("BIT STRING with unused bits");
  const inner = new _Reader(bits.subarray(1));
  const k = inner.sequence();
  inner.finish("RSAPublicKey");
  const out = { n: k.uint(), e: k.uint() };
  k.finish("RSAPublicKey fields");
  return out;
}

// ---------------------------------------------------------------- writer

function _lengthBytes(len: number): number[] {
  if (len < 0x80) return [len];
  const out: number[] = [];
  for (let l = len; l > 0; l = Math.floor(l / 256)) out.unshift(l & 0xff);
  return [0x80 | out.length, ...out];
}

/** Total encoded size of a TLV with `len` content bytes. */
function _tlvSize(len: number): number {
  return 1 + _lengthBytes(len).length + len;
}

/** Builds DER into one preallocated buffer (so secrets are never copied into intermediate arrays). */
class _Writer {
  buf: Uint8Array;
  pos = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }
  header(tag: number, len: number): void {
    this.buf[this.pos++] = tag;
    for (const b of _lengthBytes(len)) this.buf[this.pos++] = b;
  }
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  uint(x: Uint8Array): void {
    const pad = x.length === 0 || (x[0] & 0x80) !== 0 ? 1 : 0;
    this.header(TAG_INTEGER, x.length + pad);
    if (pad) this.buf[this.pos++] = 0;
    this.bytes(x);
  }
}

function _uintSize(x: Uint8Array): number {
  return _tlvSize(x.length + (x.length === 0 || (x[0] & 0x80) !== 0 ? 1 : 0));
}

const _ALG_ID_LEN = RSA_ENCRYPTION_OID.length + 2; // OID + NULL

/** Encodes an RSA private key as PKCS#8 DER (inputs: big-endian, no leading zeros). */
export function encodePkcs8(c: RsaPrivateComponents): Uint8Array {
  const zero = new Uint8Array([0]);
  const fields = [zero, c.n, c.e, c.d, c.p, c.q, c.dP, c.dQ, c.qInv];
  const rsaLen = fields.reduce((s, f) => s + _uintSize(f), 0);
  const octLen = _tlvSize(rsaLen);
  const infoLen = _uintSize(zero) + _tlvSize(_ALG_ID_LEN) + _tlvSize(octLen);
  const w = new _Writer(_tlvSize(infoLen));
  w.header(TAG_SEQUENCE, infoLen);
  w.uint(zero);
  w.header(TAG_SEQUENCE, _ALG_ID_LEN);
  w.bytes(RSA_ENCRYPTION_OID);
  w.header(TAG_NULL, 0);
  w.header(TAG_OCTET_STRING, octLen);
  w.header(TAG_SEQUENCE, rsaLen);
  for (const f of fields) w.uint(f);
  return w.buf;
}

/** Encodes an RSA public key as SPKI DER (inputs: big-endian, no leading zeros). */
export function encodeSpki(c: RsaPublicComponents): Uint8Array {
  const rsaLen = _uintSize(c.n) + _uintSize(c.e);
  const bitLen = 1 + _tlvSize(rsaLen);
  const spkiLen = _tlvSize(_ALG_ID_LEN) + _tlvSize(bitLen);
  const w = new _Writer(_tlvSize(spkiLen));
  w.header(TAG_SEQUENCE, spkiLen);
  w.header(TAG_SEQUENCE, _ALG_ID_LEN);
  w.bytes(RSA_ENCRYPTION_OID);
  w.header(TAG_NULL, 0);
  w.header(TAG_BIT_STRING, bitLen);
  w.buf[w.pos++] = 0;
  w.header(TAG_SEQUENCE, rsaLen);
  w.uint(c.n);
  w.uint(c.e);
  return w.buf;
}
