/**
 * The web-tier key (`DATA_DIR/secrets/web-session.key`, or `WEB_SESSION_KEY`): what every
 * web server behind one load balancer shares so that the session state they keep in Redis
 * is nothing usable in plaintext (docs/operations.md "Several web servers").
 *
 * - Sealing key = HKDF-SHA256(web-session.key, salt = "", info = "roamsign/web-session/v1"),
 *   AES-256-GCM, non-extractable.
 * - A sealed value is base64url(iv (12 bytes) ‖ ct), with AAD
 *   "roamsign/web-session/v1" ‖ 0x00 ‖ purpose ‖ 0x00 ‖ sid, so a value cannot be moved to
 *   another session or field.
 * - Purposes: `keys`, the two direction keys c2s ‖ s2c (64 bytes) derived from KS; `state`,
 *   the {@link UserState} as JSON (who is signed in, pending logins), so that write access to
 *   Redis does not let anyone sign a session in as somebody else.
 *
 * The raw direction keys exist only between their derivation (or unsealing) and their
 * import as non-extractable keys, and are wiped then.
 *
 * @module
 */
import {
  b64uDecode,
  b64uEncode,
  type ChannelKeys,
  concat,
  fromUtf8,
  importChannelKeys,
  IV_BYTES,
  randomBytes,
  utf8,
  wipe,
} from "../protocol/mod.ts";
import type { ChannelKeyBytes } from "../protocol/mod.ts";
import { type UserState, userStateOf } from "./sessions.ts";

const _INFO = "roamsign/web-session/v1";

/** Thrown when a sealed value does not open (another web-tier key, or tampered). */
export class SealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SealError";
  }
}

/** Seals and opens the session secrets under the web-tier key. */
export class SessionSealer {
  readonly #key: CryptoKey;

  private constructor(key: CryptoKey) {
    this.#key = key;
  }

  /** Derives the sealing key from the 32 secret bytes (the caller wipes them). */
  static async fromSecret(secret: Uint8Array): Promise<SessionSealer> {
    const base = await crypto.subtle.importKey("raw", secret as BufferSource, "HKDF", false, [
      "deriveKey",
    ]);
    const key = await crypto.subtle.deriveKey(
      {
        name: "HKDF",
        hash: "SHA-256",
        salt: new Uint8Array(0),
        info: utf8(_INFO) as BufferSource,
      },
      base,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt", "decrypt"],
    );
    return new SessionSealer(key);
  }

  /** Seals the direction keys of session `sid`. Does not wipe `keys`. */
  async sealKeys(sid: string, keys: ChannelKeyBytes): Promise<string> {
    const both = concat(keys.c2s, keys.s2c);
    try {
      return await this.#seal("keys", sid, both);
    } finally {
      wipe(both);
    }
  }

  /** The direction keys sealed by {@link sealKeys}, imported non-extractable. */
  async openKeys(sid: string, sealed: string): Promise<ChannelKeys> {
    const both = await this.#open("keys", sid, sealed);
    try {
      if (both.length !== 64) throw new SealError("session_keys: sealed keys have the wrong size");
      return await importChannelKeys({ c2s: both.subarray(0, 32), s2c: both.subarray(32) });
    } finally {
      wipe(both);
    }
  }

  /** Seals the user state of session `sid`. */
  sealState(sid: string, state: UserState): Promise<string> {
    return this.#seal("state", sid, utf8(JSON.stringify(userStateOf(state))));
  }

  /** The user state sealed by {@link sealState}. */
  async openState(sid: string, sealed: string): Promise<UserState> {
    const parsed = JSON.parse(fromUtf8(await this.#open("state", sid, sealed))) as UserState;
    return userStateOf(parsed);
  }

  async #seal(purpose: string, sid: string, plaintext: Uint8Array): Promise<string> {
    const iv = randomBytes(IV_BYTES);
    const ct = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: iv as BufferSource, additionalData: _aad(purpose, sid) },
      this.#key,
      plaintext as BufferSource,
    );
    return b64uEncode(concat(iv, new Uint8Array(ct)));
  }

  async #open(purpose: string, sid: string, sealed: string): Promise<Uint8Array> {
    let bytes: Uint8Array;
    try {
      bytes = b64uDecode(sealed);
    } catch {
      throw new SealError("session_keys: sealed value is not base64url");
    }
    if (bytes.length < IV_BYTES + 16) throw new SealError("session_keys: sealed value too short");
    try {
      return new Uint8Array(
        await crypto.subtle.decrypt(
          {
            name: "AES-GCM",
            iv: bytes.subarray(0, IV_BYTES) as BufferSource,
            additionalData: _aad(purpose, sid),
          },
          this.#key,
          bytes.subarray(IV_BYTES) as BufferSource,
        ),
      );
    } catch {
      throw new SealError(
        "session_keys: sealed value does not open (another web-session.key, or tampered)",
      );
    }
  }
}

function _aad(purpose: string, sid: string): BufferSource {
  return utf8(`${_INFO}\u0000${purpose}\u0000${sid}`) as BufferSource;
}
