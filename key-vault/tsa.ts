/**
 * The vault's time-stamping authority (RFC 3161; docs/documents.md): an RSA-3072 key of
 * its own — not the CA key, not the statement key — made on the vault's first start and
 * kept sealed under the master key in `vault_secrets` like them, with a certificate from
 * the CA (`CN=roamsign TSA`, extendedKeyUsage timeStamping, critical). It signs tokens
 * over SHA-256 imprints for signed-in users (`tsa.timestamp`, reached through the proxy
 * like every operation): the applet time-stamps a document signature's value (PAdES B-T,
 * CAdES-T). Serial numbers are 128 random bits; the time is the vault's clock, to the
 * second. Any signed-in user can have it sign, as often as they like, so it signs in
 * wasm-crypto (constant time, blinded) like the statement key (key-vault/statements.ts),
 * not in Deno's WebCrypto RSA.
 *
 * @module
 */
import { buildTimeStampToken } from "../documents/mod.ts";
import { parseCertificate, pemDecode } from "../protocol/mod.ts";
import { type RsaPrivateKey, signPkcs1v15 } from "../wasm-crypto/mod.ts";
import { type Ca, issueCertificate } from "./ca.ts";
import { importSigningKey } from "./statements.ts";

const _ALG = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
/** The TSA certificate's lifetime; a new one is made (same key) when it has run out. */
const _TSA_CERT_DAYS = 5 * 365;

/** The loaded TSA; the private key lives in wasm-crypto's memory. */
export interface Tsa {
  privateKey: RsaPrivateKey;
  pem: string;
  der: Uint8Array;
}

/** A new TSA key and its certificate from `ca`: PKCS#8 for sealing (the caller zeroes it). */
export async function createTsa(ca: Ca): Promise<{ pkcs8: Uint8Array; pem: string }> {
  const pair = await crypto.subtle.generateKey(
    { ..._ALG, modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  const issued = await issueCertificate(ca, spki, "timestamping", "roamsign TSA", _TSA_CERT_DAYS);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return { pkcs8, pem: issued.pem };
}

/**
 * Imports the sealed key into wasm-crypto (the caller zeroes `pkcs8`) with its certificate,
 * which must certify this key.
 */
export async function loadTsa(pkcs8: Uint8Array, pem: string): Promise<Tsa> {
  if (!pem) throw new Error("vault: the TSA key has no certificate");
  const der = pemDecode(pem);
  const privateKey = await importSigningKey(
    pkcs8,
    parseCertificate(der).spki,
    "vault: the TSA certificate is not for the TSA key",
  );
  return { privateKey, pem, der };
}

/** A 16-byte positive serial number from the CSPRNG. */
function _serial(): Uint8Array {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0] & 0x7f) | 0x01;
  return b;
}

/** A time-stamp token (ContentInfo DER) over `imprint` (SHA-256), at `now`. */
export async function issueTimestamp(
  tsa: Tsa,
  imprint: Uint8Array,
  now: Date,
  nonce?: Uint8Array,
): Promise<{ token: Uint8Array; serial: Uint8Array }> {
  const serial = _serial();
  const token = await buildTimeStampToken({
    imprint,
    nonce,
    serial,
    genTime: now,
    tsaCertificate: tsa.der,
    sign: (data) => Promise.resolve(signPkcs1v15(tsa.privateKey, "SHA-256", data)),
  });
  return { token, serial };
}
