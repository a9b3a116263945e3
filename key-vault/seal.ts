/**
 * Encryption at rest under the vault master key (`vault-master.key` /
 * `VAULT_MASTER_KEY`): AES-256-GCM with a key derived by HKDF-SHA256 per purpose, a
 * fresh 96-bit IV per value, and the value's name as associated data, so a sealed
 * value cannot be moved to another name. Text form: base64url(iv ‖ ciphertext ‖ tag).
 *
 * @module
 */
import { b64uDecode, b64uEncode } from "../protocol/mod.ts";

/** Seals and opens named values for one purpose. */
export interface Sealer {
  seal(name: string, plaintext: Uint8Array): Promise<string>;
  /** Throws `Error("seal: …")` when the value was not sealed by this key under this name. */
  open(name: string, sealed: string): Promise<Uint8Array>;
}

const _enc = new TextEncoder();

/** Derives the sealing key for `purpose` from the master key bytes (which the caller may zero). */
export async function createSealer(master: Uint8Array, purpose: string): Promise<Sealer> {
  const ikm = await crypto.subtle.importKey(
    "raw",
    master as Uint8Array<ArrayBuffer>,
    "HKDF",
    false,
    ["deriveKey"],
  );
  const key = await crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(0),
      info: _enc.encode(`roamsign ${purpose}`),
    },
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
  return {
    async seal(name, plaintext) {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const ct = new Uint8Array(
        await crypto.subtle.encrypt(
          { name: "AES-GCM", iv, additionalData: _enc.encode(name) },
          key,
          plaintext as Uint8Array<ArrayBuffer>,
        ),
      );
      const out = new Uint8Array(12 + ct.length);
      out.set(iv);
      out.set(ct, 12);
      return b64uEncode(out);
    },
    async open(name, sealed) {
      const bytes = b64uDecode(sealed);
      if (bytes.length < 28) throw new Error(`seal: ${name} is truncated`);
      try {
        return new Uint8Array(
          await crypto.subtle.decrypt(
            { name: "AES-GCM", iv: bytes.slice(0, 12), additionalData: _enc.encode(name) },
            key,
            bytes.slice(12),
          ),
        );
      } catch {
        throw new Error(`seal: ${name} does not open with this master key`);
      }
    },
  };
}
