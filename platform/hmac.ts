/**
 * Internal request signing (docs/architecture.md, "Internal RPC"):
 *
 *   signature = base64url(HMAC-SHA256(key, method ‖ "\n" ‖ path ‖ "\n" ‖ ts ‖ "\n" ‖
 *                                     nonce ‖ "\n" ‖ client ‖ "\n" ‖ hex(SHA-256(body))))
 *
 * carried in the `x-roamsign-*` headers. The web server and the admin CLI sign
 * towards the proxy; the proxy signs towards the vault with its own key. Verification
 * checks the headers' shape, the key id, the timestamp window (±30 s) and the MAC
 * (recomputed with node:crypto, compared in constant time). Single use of the nonce is checked against
 * the database by the vault (see docs/rate-limits.md), not here.
 *
 * @module
 */
import { createHash, type Hash, timingSafeEqual } from "node:crypto";
import { b64uDecode, b64uEncode } from "../protocol/mod.ts";
import { ApiError } from "./errors.ts";

/** Header names. */
export const HEADER = {
  keyId: "x-roamsign-key-id",
  ts: "x-roamsign-ts",
  nonce: "x-roamsign-nonce",
  client: "x-roamsign-client",
  signature: "x-roamsign-signature",
} as const;

/** Accepted clock skew either way, in milliseconds. */
export const MAX_SKEW_MS = 30_000;

const _NONCE_PATTERN = /^[A-Za-z0-9_-]{22}$/; // 16 bytes, unpadded base64url
const _KEY_ID_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
const _CLIENT_MAX = 200;
const _TS_PATTERN = /^[0-9]{1,16}$/;
const _encoder = new TextEncoder();

/**
 * An HMAC-SHA256 key ready for signing and verifying: the SHA-256 states after the
 * inner and outer padded key blocks (RFC 2104), computed once at import, so that each
 * MAC is two short synchronous hashes (node:crypto) — no per-request key schedule and
 * no trip through WebCrypto's thread pool. Opaque: the key bytes are not readable
 * from it (it serialises as `{}`).
 */
export class HmacKey {
  readonly #inner: Hash;
  readonly #outer: Hash;
  private constructor(inner: Hash, outer: Hash) {
    this.#inner = inner;
    this.#outer = outer;
  }
  /** @internal See {@link importHmacKey}. */
  static fromRaw(raw: Uint8Array): HmacKey {
    const block = new Uint8Array(64);
    block.set(raw.length > 64 ? createHash("sha256").update(raw).digest() : raw);
    for (let i = 0; i < 64; i++) block[i] ^= 0x36;
    const inner = createHash("sha256").update(block);
    for (let i = 0; i < 64; i++) block[i] ^= 0x36 ^ 0x5c;
    const outer = createHash("sha256").update(block);
    block.fill(0);
    return new HmacKey(inner, outer);
  }
  /** HMAC-SHA256(key, data). */
  mac(data: Uint8Array | string): Uint8Array {
    const inner = this.#inner.copy().update(data).digest();
    return this.#outer.copy().update(inner).digest();
  }
}

/** Imports raw key bytes (≥ 32) as an HMAC-SHA256 key. The caller may zero `raw` afterwards. */
export function importHmacKey(raw: Uint8Array): Promise<HmacKey> {
  if (raw.length < 32) throw new Error("hmac: key shorter than 32 bytes");
  return Promise.resolve(HmacKey.fromRaw(raw));
}

/**
 * Lower-case hex of SHA-256(bytes). Server-side (node:crypto, synchronous: several
 * times faster than an awaited WebCrypto digest for request-sized inputs).
 */
export function sha256HexSync(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Lower-case hex of SHA-256(bytes). */
export function sha256Hex(bytes: Uint8Array): Promise<string> {
  return Promise.resolve(sha256HexSync(bytes));
}

/** The exact bytes that are MAC'd. `bodyHash`: hex SHA-256 of the body, if already known. */
export function signingString(
  method: string,
  path: string,
  ts: string,
  nonce: string,
  client: string,
  body: Uint8Array,
  bodyHash: string = sha256HexSync(body),
): Promise<Uint8Array> {
  return Promise.resolve(
    _encoder.encode(`${method}\n${path}\n${ts}\n${nonce}\n${client}\n${bodyHash}`),
  );
}

/** What {@link signRequest} needs. `ts` and `nonce` default to now and 16 fresh random bytes. */
export interface SignInput {
  key: HmacKey;
  keyId: string;
  method: string;
  path: string;
  body: Uint8Array;
  client?: string;
  ts?: number;
  nonce?: string;
  /** Hex SHA-256 of `body`, if the caller computed it already. */
  bodyHash?: string;
}

/** Returns the five auth headers for a request. */
export async function signRequest(input: SignInput): Promise<Record<string, string>> {
  const ts = String(input.ts ?? Date.now());
  const nonce = input.nonce ?? b64uEncode(crypto.getRandomValues(new Uint8Array(16)));
  const client = input.client ?? "";
  const data = await signingString(
    input.method,
    input.path,
    ts,
    nonce,
    client,
    input.body,
    input.bodyHash,
  );
  const mac = input.key.mac(data);
  return {
    [HEADER.keyId]: input.keyId,
    [HEADER.ts]: ts,
    [HEADER.nonce]: nonce,
    [HEADER.client]: client,
    [HEADER.signature]: b64uEncode(mac),
  };
}

/** The auth headers of a request, checked for shape but not yet verified. */
export interface AuthHeaders {
  keyId: string;
  ts: number;
  tsText: string;
  nonce: string;
  client: string;
  signature: Uint8Array;
}

/**
 * Reads and shape-checks the auth headers, and checks the timestamp window.
 * Throws 401 `unsigned` (none present), `bad_auth_header` (malformed) or
 * `stale_request` (outside ±{@link MAX_SKEW_MS}).
 */
export function readAuthHeaders(headers: Headers, now: number = Date.now()): AuthHeaders {
  const keyId = headers.get(HEADER.keyId);
  const tsText = headers.get(HEADER.ts);
  const nonce = headers.get(HEADER.nonce);
  const client = headers.get(HEADER.client) ?? "";
  const sig = headers.get(HEADER.signature);
  if (keyId === null && sig === null && tsText === null && nonce === null) {
    throw new ApiError(401, "unsigned", "request is not signed");
  }
  if (keyId === null || sig === null || tsText === null || nonce === null) {
    throw new ApiError(401, "bad_auth_header", "incomplete signature headers");
  }
  if (!_KEY_ID_PATTERN.test(keyId)) throw new ApiError(401, "bad_auth_header", "bad key id");
  if (!_TS_PATTERN.test(tsText)) throw new ApiError(401, "bad_auth_header", "bad timestamp");
  if (!_NONCE_PATTERN.test(nonce)) {
    throw new ApiError(401, "bad_auth_header", "nonce must be 16 bytes base64url");
  }
  if (client.length > _CLIENT_MAX || /[\n\r]/.test(client)) {
    throw new ApiError(401, "bad_auth_header", "bad client address");
  }
  let signature: Uint8Array;
  try {
    signature = b64uDecode(sig);
  } catch {
    throw new ApiError(401, "bad_auth_header", "signature is not base64url");
  }
  if (signature.length !== 32) throw new ApiError(401, "bad_auth_header", "bad signature length");
  const ts = Number(tsText);
  if (Math.abs(now - ts) > MAX_SKEW_MS) {
    throw new ApiError(401, "stale_request", "timestamp outside the accepted window");
  }
  return { keyId, ts, tsText, nonce, client, signature };
}

/**
 * Verifies the MAC of a request whose headers passed {@link readAuthHeaders}.
 * Throws 401 `bad_signature`.
 */
export async function verifySignature(
  key: HmacKey,
  auth: AuthHeaders,
  method: string,
  path: string,
  body: Uint8Array,
  bodyHash?: string,
): Promise<void> {
  const data = await signingString(
    method,
    path,
    auth.tsText,
    auth.nonce,
    auth.client,
    body,
    bodyHash,
  );
  // Both 32 bytes (readAuthHeaders checks the length); constant-time comparison.
  const ok = timingSafeEqual(key.mac(data), auth.signature);
  if (!ok) throw new ApiError(401, "bad_signature", "signature does not verify");
}
