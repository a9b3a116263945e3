/**
 * Byte conversions the adapters need to speak each library's dialect (hex strings,
 * binary strings, BigInt, base64url). Bench-only helpers, not constant time.
 *
 * @module
 */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
  return s;
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 === 1) hex = "0" + hex;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const v = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    if (Number.isNaN(v)) throw new Error(`bench: bad hex at ${2 * i}`);
    out[i] = v;
  }
  return out;
}

/** Bytes to a "binary string" (one char per byte), node-forge's byte type. */
export function toBinaryString(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

export function fromBinaryString(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt("0x" + toHex(bytes));
}

/** Big-endian bytes of x, left-padded with zeros to `length`. */
export function bigIntToBytes(x: bigint, length: number): Uint8Array {
  const hex = x.toString(16);
  if (hex.length > 2 * length) {
    throw new RangeError(`bench: ${hex.length * 4}-bit value in ${length} bytes`);
  }
  return fromHex(hex.padStart(2 * length, "0"));
}

export function fromBase64url(s: string): Uint8Array {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return fromBinaryString(bin);
}

export function toBase64(bytes: Uint8Array): string {
  return btoa(toBinaryString(bytes));
}

export function fromBase64(s: string): Uint8Array {
  return fromBinaryString(atob(s));
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** JWK integer member (base64url big-endian) as a BigInt. */
export function jwkInt(
  jwk: JsonWebKey,
  member: "n" | "e" | "d" | "p" | "q" | "dp" | "dq" | "qi",
): bigint {
  const v = jwk[member];
  if (typeof v !== "string") throw new Error(`bench: JWK has no ${member}`);
  return bytesToBigInt(fromBase64url(v));
}

/** PEM armour for DER bytes (jsrsasign reads PEM). */
export function toPem(der: Uint8Array, label: string): string {
  const b64 = toBase64(der).replace(/.{64}/g, "$&\n");
  return `-----BEGIN ${label}-----\n${b64}${
    b64.endsWith("\n") ? "" : "\n"
  }-----END ${label}-----\n`;
}

/** DigestInfo prefix for SHA-256 (RFC 8017 §9.2 note 1). */
export const SHA256_DIGEST_INFO_PREFIX = fromHex("3031300d060960864801650304020105000420");

/**
 * The same bytes typed as backed by an ArrayBuffer, which WebCrypto's `BufferSource`
 * demands under TypeScript's strict typed-array generics. Every array in the bench is
 * (none lives on a SharedArrayBuffer), so this is a type-level statement only.
 */
export function bs(u: Uint8Array): Uint8Array<ArrayBuffer> {
  return u as Uint8Array<ArrayBuffer>;
}
