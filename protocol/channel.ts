/**
 * The KS(m,a) channel of DESIGN.md §2.2, the part both ends share: how KS is
 * drawn, how the two direction keys are derived from it, what the AES-256-GCM
 * additional data binds, and the per-request nonce that signed requests carry.
 * docs/session-channel.md describes the whole exchange.
 *
 * - KS = HKDF-SHA256(ikm = 32 fresh random bytes ‖ R(s), salt = N(s),
 *   info = "roamsign/ks/v1"), 32 bytes. Never from R(s) alone.
 * - KS travels to the server once, RSA-OAEP-SHA256 under PUB(c,s) with label
 *   "roamsign/ks/v1:" ‖ sid (so a wrapped KS cannot be replayed into another session).
 * - Direction keys: HKDF-SHA256(KS, salt = N(s), info = "roamsign/rpc/v1 c2s" | "… s2c"),
 *   AES-256-GCM, non-extractable.
 * - AAD = "roamsign/rpc/v1" ‖ 0x00 ‖ direction (1 byte) ‖ sid ‖ N(s) ‖ u64(seq) ‖ u64(T(s)).
 * - A request the server opened is answered sealed under its `seq`: a result, or for a
 *   refusal the `ack` `{ "refused": code }`, so the client knows the number is used up.
 *
 * @module
 */
import { b64uDecode, b64uEncode } from "./base64url.ts";
import { concat, randomBytes, sha256, u64be, utf8, wipe } from "./bytes.ts";

/** Length in bytes of sid, N(s), R(s) and KS. */
export const SID_BYTES = 16;
export const NONCE_BYTES = 32;
export const SEED_BYTES = 32;
export const KS_BYTES = 32;
/** AES-GCM IV length. */
export const IV_BYTES = 12;

/** The server's answer to `GET /api/session`. */
export interface SessionOffer {
  sid: string;
  nonce: string;
  time: number;
  seed: string;
  integrityCert: string;
  confidentialityCert: string;
}

/** What binds a channel: the session id, N(s) and T(s), as bytes. */
export interface ChannelBinding {
  sid: Uint8Array;
  nonce: Uint8Array;
  time: number;
}

/** The two direction keys of a channel. */
export interface ChannelKeys {
  c2s: CryptoKey;
  s2c: CryptoKey;
}

/** A sealed body: `{ seq, iv, ct }` with base64url fields. */
export interface Sealed {
  seq: number;
  iv: string;
  ct: string;
}

/** Thrown when a sealed body does not open (wrong key, tampered, wrong seq). */
export class ChannelError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "ChannelError";
    this.code = code;
  }
}

/** Decodes and checks the binding fields of an offer. */
export function bindingOf(offer: Pick<SessionOffer, "sid" | "nonce" | "time">): ChannelBinding {
  const sid = b64uDecode(offer.sid);
  const nonce = b64uDecode(offer.nonce);
  if (sid.length !== SID_BYTES) throw new ChannelError("bad_session", "channel: sid length");
  if (nonce.length !== NONCE_BYTES) throw new ChannelError("bad_session", "channel: N(s) length");
  if (!Number.isSafeInteger(offer.time) || offer.time <= 0) {
    throw new ChannelError("bad_session", "channel: T(s) is not a timestamp");
  }
  return { sid, nonce, time: offer.time };
}

/**
 * Draws KS(m,a) = HKDF(random ‖ R(s)). The random part is wiped before return;
 * the caller owns (and wipes) the returned bytes.
 */
export async function drawKs(seed: Uint8Array, binding: ChannelBinding): Promise<Uint8Array> {
  if (seed.length !== SEED_BYTES) throw new ChannelError("bad_session", "channel: R(s) length");
  const fresh = randomBytes(32);
  const ikm = concat(fresh, seed);
  wipe(fresh);
  try {
    const base = await crypto.subtle.importKey("raw", ikm as BufferSource, "HKDF", false, [
      "deriveBits",
    ]);
    const bits = await crypto.subtle.deriveBits(
      {
        name: "HKDF",
        hash: "SHA-256",
        salt: binding.nonce as BufferSource,
        info: utf8("roamsign/ks/v1") as BufferSource,
      },
      base,
      KS_BYTES * 8,
    );
    return new Uint8Array(bits);
  } finally {
    wipe(ikm);
  }
}

/** The RSA-OAEP label that binds a wrapped KS to its session. */
export function ksLabel(sid: string): Uint8Array {
  return utf8(`roamsign/ks/v1:${sid}`);
}

/** Derives the two non-extractable AES-256-GCM direction keys from KS. Does not wipe `ks`. */
export async function deriveChannelKeys(
  ks: Uint8Array,
  binding: ChannelBinding,
): Promise<ChannelKeys> {
  if (ks.length !== KS_BYTES) throw new ChannelError("bad_key", "channel: KS must be 32 bytes");
  const base = await crypto.subtle.importKey("raw", ks as BufferSource, "HKDF", false, [
    "deriveKey",
  ]);
  const derive = (dir: string) =>
    crypto.subtle.deriveKey(
      {
        name: "HKDF",
        hash: "SHA-256",
        salt: binding.nonce as BufferSource,
        info: utf8(`roamsign/rpc/v1 ${dir}`) as BufferSource,
      },
      base,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt", "decrypt"],
    );
  return { c2s: await derive("c2s"), s2c: await derive("s2c") };
}

/** The two direction keys as raw bytes (a web tier that keeps them sealed in a shared store). */
export interface ChannelKeyBytes {
  c2s: Uint8Array;
  s2c: Uint8Array;
}

/**
 * The direction keys of {@link deriveChannelKeys} as their 32 raw bytes each (the same
 * HKDF, so the same keys): for a server that seals them into a store shared by several
 * web servers (server/session_keys.ts). Does not wipe `ks`; the caller wipes the result.
 */
export async function deriveChannelKeyBytes(
  ks: Uint8Array,
  binding: ChannelBinding,
): Promise<ChannelKeyBytes> {
  if (ks.length !== KS_BYTES) throw new ChannelError("bad_key", "channel: KS must be 32 bytes");
  const base = await crypto.subtle.importKey("raw", ks as BufferSource, "HKDF", false, [
    "deriveBits",
  ]);
  const derive = async (dir: string) =>
    new Uint8Array(
      await crypto.subtle.deriveBits(
        {
          name: "HKDF",
          hash: "SHA-256",
          salt: binding.nonce as BufferSource,
          info: utf8(`roamsign/rpc/v1 ${dir}`) as BufferSource,
        },
        base,
        256,
      ),
    );
  return { c2s: await derive("c2s"), s2c: await derive("s2c") };
}

/** Imports raw direction keys as non-extractable AES-256-GCM keys. Does not wipe `bytes`. */
export async function importChannelKeys(bytes: ChannelKeyBytes): Promise<ChannelKeys> {
  const imp = (raw: Uint8Array) =>
    crypto.subtle.importKey("raw", raw as BufferSource, { name: "AES-GCM" }, false, [
      "encrypt",
      "decrypt",
    ]);
  return { c2s: await imp(bytes.c2s), s2c: await imp(bytes.s2c) };
}

/** Additional data of one message: direction, sid, N(s), seq, T(s). */
export function channelAad(dir: "c2s" | "s2c", binding: ChannelBinding, seq: number): Uint8Array {
  return concat(
    utf8("roamsign/rpc/v1"),
    new Uint8Array([0, dir === "c2s" ? 1 : 2]),
    binding.sid,
    binding.nonce,
    u64be(seq),
    u64be(binding.time),
  );
}

/** Seals a plaintext for one direction and sequence number. */
export async function seal(
  key: CryptoKey,
  dir: "c2s" | "s2c",
  binding: ChannelBinding,
  seq: number,
  plaintext: Uint8Array,
): Promise<Sealed> {
  const iv = randomBytes(IV_BYTES);
  const ct = await crypto.subtle.encrypt(
    {
      name: "AES-GCM",
      iv: iv as BufferSource,
      additionalData: channelAad(dir, binding, seq) as BufferSource,
    },
    key,
    plaintext as BufferSource,
  );
  return { seq, iv: b64uEncode(iv), ct: b64uEncode(new Uint8Array(ct)) };
}

/** Opens a sealed body; throws {@link ChannelError} `bad_ciphertext` if it does not authenticate. */
export async function open(
  key: CryptoKey,
  dir: "c2s" | "s2c",
  binding: ChannelBinding,
  sealed: Sealed,
): Promise<Uint8Array> {
  let iv: Uint8Array, ct: Uint8Array;
  try {
    iv = b64uDecode(sealed.iv);
    ct = b64uDecode(sealed.ct);
  } catch {
    throw new ChannelError("bad_ciphertext", "channel: iv or ct is not base64url");
  }
  if (iv.length !== IV_BYTES || ct.length < 16) {
    throw new ChannelError("bad_ciphertext", "channel: iv or ct has the wrong length");
  }
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: iv as BufferSource,
          additionalData: channelAad(dir, binding, sealed.seq) as BufferSource,
        },
        key,
        ct as BufferSource,
      ),
    );
  } catch {
    throw new ChannelError("bad_ciphertext", "channel: message does not authenticate");
  }
}

/**
 * The nonce a signed request carries when it travels as message `seq` of the
 * session: base64url(SHA-256("roamsign/nonce/v1" ‖ sid ‖ N(s) ‖ u64(seq))).
 * The server recomputes it, so a signed request is bound to one session and
 * one position in it; the vault records it as used.
 */
export async function requestNonce(binding: ChannelBinding, seq: number): Promise<string> {
  return b64uEncode(
    await sha256(concat(utf8("roamsign/nonce/v1"), binding.sid, binding.nonce, u64be(seq))),
  );
}

/**
 * The `ack` of a refusal (docs/session-channel.md "Sequence numbers after a refusal"): the
 * server opened request `seq` and refused it with `code`. Sealed s2c under `seq`, it proves
 * to the client that `seq` is used up; an error without one was refused before it was
 * opened, so `seq` is still free.
 */
export function sealRefusal(
  key: CryptoKey,
  binding: ChannelBinding,
  seq: number,
  code: string,
): Promise<Sealed> {
  return seal(key, "s2c", binding, seq, utf8(JSON.stringify({ refused: code })));
}

/**
 * The code an `ack` (see {@link sealRefusal}) proves for request `seq`, or null when `ack`
 * is absent, malformed, for another number, or does not authenticate.
 */
export async function openRefusal(
  key: CryptoKey,
  binding: ChannelBinding,
  seq: number,
  ack: unknown,
): Promise<string | null> {
  const a = ack as Partial<Sealed> | null | undefined;
  if (typeof a !== "object" || a === null || a.seq !== seq) return null;
  if (typeof a.iv !== "string" || typeof a.ct !== "string") return null;
  try {
    const body = JSON.parse(
      new TextDecoder().decode(await open(key, "s2c", binding, a as Sealed)),
    ) as { refused?: unknown };
    return typeof body?.refused === "string" ? body.refused : null;
  } catch {
    return null;
  }
}

/** The plaintext of a request: operation, client time, arguments. */
export interface RpcRequest {
  op: string;
  ts: number;
  args: Record<string, unknown>;
}

/** How far a request's own timestamp may be from the server's clock. */
export const MAX_CLOCK_SKEW_MS = 60_000;
