/**
 * The vault's statement key (docs/trust-anchors.md): an RSA-3072 key, separate from the
 * CA key PUB(i,s), made on the vault's first start and kept sealed under the master key
 * in `vault_secrets` like the CA key. Its public key is a trust anchor compiled into the
 * applet, so the vault can answer the applet end to end through a web server that only
 * relays: it signs its OPAQUE registration answers (`register.start`) and its
 * acknowledgements of `apply` and `reregister` ({@link signStatement}). A separate key
 * keeps the CA key for certificates and CRLs only, and can be replaced without
 * re-issuing a single certificate (a new applet build pins the new one).
 *
 * The key signs for anyone who asks: `register.start`, `apply` and
 * `passkey.login.start` need no account, so a caller can have it sign as often as the rate
 * limits allow and time each answer. It therefore signs in wasm-crypto (constant time,
 * blinded, the result checked before release), where the web server's confidentiality key
 * decrypts for the same reason (docs/session-channel.md), and not in Deno's WebCrypto,
 * whose RSA (the RustCrypto `rsa` crate) is not constant time (RUSTSEC-2023-0071, Marvin).
 * PKCS#1 v1.5 is deterministic: the signatures are the same bytes either way.
 *
 * @module
 */
import { b64uDecode, b64uEncode, ctEqual } from "../protocol/mod.ts";
import { type VaultStatement, vaultStatementBytes } from "../protocol/mod.ts";
import {
  importPrivateKeyPkcs8,
  initWasmCrypto,
  type RsaPrivateKey,
  signPkcs1v15,
} from "../wasm-crypto/mod.ts";

const _ALG = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;

/** The loaded statement key; the private half lives in wasm-crypto's memory. */
export interface StatementKey {
  privateKey: RsaPrivateKey;
  /** base64url SPKI DER of the public key (the anchor `vaultSigningSpki`). */
  spki: string;
}

/** A new key: PKCS#8 bytes for sealing (the caller zeroes them) and the public SPKI. */
export async function createStatementKey(): Promise<{ pkcs8: Uint8Array; spki: string }> {
  const pair = await crypto.subtle.generateKey(
    { ..._ALG, modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  return { pkcs8, spki: b64uEncode(spki) };
}

/**
 * Imports the sealed key's PKCS#8 bytes (not wiped here: the caller zeroes them) into
 * wasm-crypto, with its public SPKI, which must be the key's own.
 */
export async function loadStatementKey(pkcs8: Uint8Array, spki: string): Promise<StatementKey> {
  if (!spki || b64uDecode(spki).length < 300) {
    throw new Error("vault: the statement key has no public key");
  }
  const privateKey = await importSigningKey(
    pkcs8,
    b64uDecode(spki),
    "vault: the statement key's public key is not its own",
  );
  return { privateKey, spki };
}

/**
 * A vault key (PKCS#8, not wiped here) into wasm-crypto, refused with `mismatch` when
 * its public key is not `spki`: the statement and TSA keys, which sign for callers who
 * can time them.
 */
export async function importSigningKey(
  pkcs8: Uint8Array,
  spki: Uint8Array,
  mismatch: string,
): Promise<RsaPrivateKey> {
  await initWasmCrypto();
  const privateKey = importPrivateKeyPkcs8(pkcs8);
  if (!ctEqual(privateKey.publicKey.exportSpki(), spki)) {
    privateKey.destroy();
    throw new Error(mismatch);
  }
  return privateKey;
}

/** The vault's signature (base64url) over a statement's bytes. */
export function signStatement(key: StatementKey, statement: VaultStatement): Promise<string> {
  const bytes = vaultStatementBytes(statement);
  return Promise.resolve(b64uEncode(signPkcs1v15(key.privateKey, "SHA-256", bytes)));
}
