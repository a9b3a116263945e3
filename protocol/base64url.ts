/**
 * base64url without padding (RFC 4648 §5), strict: decoding rejects padding,
 * characters outside the alphabet and non-canonical trailing bits, so one byte
 * string has exactly one text form.
 *
 * @module
 */

const _ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const _LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < _ALPHABET.length; i++) _LOOKUP[_ALPHABET.charCodeAt(i)] = i;

/** Thrown for text that is not canonical base64url. */
export class Base64UrlError extends Error {
  readonly code = "bad_base64url";
  constructor(message: string) {
    super(message);
    this.name = "Base64UrlError";
  }
}

/** Encodes bytes as unpadded base64url. */
export function b64uEncode(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += _ALPHABET[n >>> 18] + _ALPHABET[(n >>> 12) & 63] + _ALPHABET[(n >>> 6) & 63] +
      _ALPHABET[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += _ALPHABET[n >>> 18] + _ALPHABET[(n >>> 12) & 63];
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += _ALPHABET[n >>> 18] + _ALPHABET[(n >>> 12) & 63] + _ALPHABET[(n >>> 6) & 63];
  }
  return out;
}

/** Decodes unpadded, canonical base64url; throws {@link Base64UrlError} otherwise. */
export function b64uDecode(text: string): Uint8Array {
  if (typeof text !== "string") throw new Base64UrlError("base64url: expected a string");
  if (text.length % 4 === 1) throw new Base64UrlError("base64url: impossible length");
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? _LOOKUP[c] : -1;
    if (v < 0) throw new Base64UrlError("base64url: invalid character");
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) {
    throw new Base64UrlError("base64url: non-canonical trailing bits");
  }
  return out;
}
