/**
 * Keyed tags (issue 15 item 4, docs/rate-limits.md): how the vault names client addresses
 * and identities in its guard state and audit log without storing them, or a plain hash
 * of them, in the clear. Used by the guard (key-vault/guard.ts) and the sign-in proof of
 * work (key-vault/pow.ts), which both import it, so neither imports the other.
 *
 * @module
 */
import { createHmac } from "node:crypto";

/**
 * Keyed tags of client addresses and identities for the guard state and the audit
 * log: the first 128 bits of HMAC-SHA256(tag-key, domain ‖ 0x00 ‖ value), hex. The key
 * is a vault secret sealed under the master key (`vault_secrets`, name `tag-key`), so
 * a database dump without the master key reveals nothing about who or where from.
 */
export interface Tagger {
  /** The tag of a client address, or "" when there is none (operators). */
  address(address: string): string;
  /** The tag of an identity for rate-limit keys. */
  identity(identity: string): string;
  /** HMAC-SHA256 under the same key of `domain ‖ 0x00 ‖ value`, base64url (challenges). */
  mac(domain: string, value: string): string;
}

/** A {@link Tagger} under `key` (32 bytes; copied, so the caller may zero it). */
export function createTagger(key: Uint8Array): Tagger {
  if (key.length < 32) throw new Error(`guard: tag key of ${key.length} bytes, expected 32`);
  const k = key.slice();
  const tag = (domain: string, value: string) =>
    createHmac("sha256", k).update(`roamsign/${domain}\u0000${value}`).digest("hex").slice(0, 32);
  return {
    address: (address) => address ? tag("address", address) : "",
    identity: (identity) => tag("identity", identity),
    mac: (domain, value) =>
      createHmac("sha256", k).update(`roamsign/${domain}\u0000${value}`).digest("base64url"),
  };
}
